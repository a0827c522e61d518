"""Our Wan-Animate-2 path's overhead over the modular pipeline called directly (tiny
components, CPU).

    python benchmarks/wan2_bench.py [--repeats 5] [--frames 17] [--size 32] [--steps 2]

Both sides get the same inputs (made once by our front end, as `Wan2Generator.prepare`
makes them) and the same seed, in this process, one thread, alternating runs, after a
warm-up (the transformer compiles its flex block mask once per size); the table gives
medians and the ratio:
- direct: `WanAnimate2DistilledModularPipeline.__call__(..., prompt=...)` (its text step
  encodes the prompts every call);
- ours, generation: `Wan2Generator.__call__` given the same inputs: the cached prompt
  embeddings into the other blocks, the wrapped scheduler step (progress, Stop), the cut,
  uint8 frames handed to a writer;
- ours, whole: `Wan2Generator.__call__` as `Animator` calls it, inputs made too (the
  person's window cropped from the frames, PIL conversion).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from animator.families import wan2  # noqa: E402
from animator.families.wan2.tiny import tiny_wan2_pipeline  # noqa: E402
from tests.families.wan.people import inputs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pipe = tiny_wan2_pipeline(distilled=True)
    generator = wan2.build(pipe, wan2.get_preset("wan-animate-2-distilled"), memory="none")
    settings = {"height": args.size, "width": args.size, "segment_frame_length": 9,
                "num_inference_steps": args.steps, "prompt": "a person dances", "seed": 0}
    job = inputs(args.frames, size=(48, 48), driver=(96, 64), settings=settings)
    made = generator.prepare(job, generator.resolve(job))
    prompt, negative, reference = made["prompts"]
    prepare = generator.prepare

    def direct():
        pipe(**made["kwargs"], prompt=prompt, negative_prompt=negative, prompt_ref=reference,
             max_sequence_length=16, generator=torch.Generator().manual_seed(0),
             output="videos")

    def ours_generation():
        generator.prepare = lambda *_: {**made, "kwargs": dict(made["kwargs"])}
        try:
            generator(job, lambda frame: None)
        finally:
            generator.prepare = prepare

    def ours_whole():
        generator(job, lambda frame: None)

    runs = {"modular pipeline, direct": direct, "ours, generation": ours_generation,
            "ours, whole (inputs made)": ours_whole}
    import tqdm  # the library's per-segment bars: off on both sides

    original = tqdm.tqdm.__init__

    def quiet(self, *a, **k):
        original(self, *a, **{**k, "disable": True})

    tqdm.tqdm.__init__ = quiet
    for run in runs.values():  # warm-up: the block mask, the one prompt encoding ours caches
        run()
    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["modular pipeline, direct"])
    print(f"{args.frames} frames, {args.size}x{args.size} area, {args.steps} steps, segments "
          f"of 9, median of {args.repeats}, 1 thread")
    print(f"{'path':<30}{'median s':>10}{'ratio':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<30}{median:>10.3f}{median / base:>7.3f}x")


if __name__ == "__main__":
    main()
