"""Our Wan path's overhead over the bare diffusers call (tiny components, CPU).

    python benchmarks/wan_bench.py [--repeats 5] [--frames 17] [--size 32]

Both sides get the same pose and face videos (made once by our front end, as
`WanGenerator.prepare` makes them) and the same seed, in this process, one thread,
alternating runs; the table gives medians and the ratio:
- bare: `WanAnimatePipeline.__call__(..., prompt=...)` (encodes the prompt every call);
- ours, generation: `WanGenerator.__call__` minus its input making: the cached prompt
  embeddings, the scheduler swap, the step callback, the cut to the input length, uint8
  frames handed to a writer;
- ours, whole: `WanGenerator.__call__` as `Animator` will call it, input making included
  (Wan skeletons drawn, face crops, portrait framing).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from animator.families import wan  # noqa: E402
from animator.families.wan.tiny import tiny_wan_pipeline  # noqa: E402
from tests.families.wan.people import inputs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=17)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    pipe = tiny_wan_pipeline()
    pipe.set_progress_bar_config(disable=True)
    generator = wan.build(pipe, wan.get_preset("wan-animate"), device="cpu", memory="none")
    pipe.set_progress_bar_config(disable=True)
    settings = {"height": args.size, "width": args.size, "segment_frame_length": 9,
                "num_inference_steps": args.steps, "prompt": "a person dances", "seed": 0}
    job = inputs(args.frames, lead_in=2, settings=settings)
    kwargs = generator.prepare(job, generator.resolve(job))["kwargs"]
    prepare = generator.prepare

    def bare():
        pipe(**kwargs, prompt="a person dances", generator=torch.Generator().manual_seed(0),
             output_type="np")

    def ours_generation():
        generator.prepare = lambda *_: {"kwargs": dict(kwargs), "masks": None,
                                        "footage": None, "notices": []}
        try:
            generator(job, lambda frame: None)
        finally:
            generator.prepare = prepare

    def ours_whole():
        generator(job, lambda frame: None)

    runs = {"bare diffusers call": bare, "ours, generation": ours_generation,
            "ours, whole (inputs made)": ours_whole}
    for run in runs.values():  # warm-up (and the one prompt encoding ours caches)
        run()
    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["bare diffusers call"])
    print(f"{args.frames} frames {args.size}x{args.size}, {args.steps} steps, segments of 9, "
          f"median of {args.repeats}, 1 thread")
    print(f"{'path':<28}{'median s':>10}{'ratio':>8}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<28}{median:>10.3f}{median / base:>8.3f}")


if __name__ == "__main__":
    main()
