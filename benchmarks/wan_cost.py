"""Memory and expected time of `wan-animate` per memory mode, from the full-size configs.

    python benchmarks/wan_cost.py [--tflops 340]

Weights on the GPU at each mode's peak come from parameter counts of the full-size models
built on the meta device (animator/families/wan/cost.py); activations come on top and are
not counted. Time: transformer FLOPs per step (FlopCounterMode on the meta model) divided
by an effective throughput, by default 340 TFLOP/s, which is what a third-party H100 run
implies (19.4 s per step at 1280x720, shared/reference/wan_animate.md); offloading's
transfers are assumed hidden behind compute (CUDA streams). 77 frames = one segment.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from animator.families.wan import cost  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tflops", type=float, default=340.0)
    parser.add_argument("--frames", type=int, default=77)
    args = parser.parse_args()
    counts = cost.parameter_counts()
    print("parameters (B): " + ", ".join(f"{k} {v / 1e9:.2f}" for k, v in counts.items()))
    print(f"\n{'mode':<12}{'weights on GPU, GB':>20}")
    for mode in ("none", "model", "group"):
        for fp8 in (False, True):
            name = mode + (" + fp8" if fp8 else "")
            print(f"{name:<12}{cost.weight_memory(mode, fp8) / cost.GB:>20.1f}")
    print(f"\n{'size':<10}{'steps':>6}{'PFLOP/step':>12}{'s/step':>8}{'s/frame':>9}"
          f"{'clip s':>8}   ({args.frames} frames, {args.tflops:.0f} TFLOP/s)")
    for height, width in ((480, 832), (720, 1280)):
        per_step = cost.transformer_flops(height, width)
        for steps in (20, 4):
            total = cost.generation_flops(args.frames, height, width, steps=steps)
            seconds = total / (args.tflops * 1e12)
            print(f"{width}x{height:<5}{steps:>6}{per_step / 1e15:>12.2f}"
                  f"{per_step / (args.tflops * 1e12):>8.1f}{seconds / args.frames:>9.2f}"
                  f"{seconds:>8.0f}")


if __name__ == "__main__":
    main()
