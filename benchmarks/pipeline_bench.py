"""Figures for the generator (tiny components, CPU): speed, window plan, memory.

    python benchmarks/pipeline_bench.py [--repeats 5]

1. Wall time per denoising step, AnimationPipeline with pose + identity on vs diffusers'
   StableVideoDiffusionPipeline on the same tiny components, in this process: the time
   between successive step callbacks (the first step, which also runs the one-off encoders,
   is left out), plus the whole call (latents out, no decode) for reference.
2. Frames the UNet computes per step over the clip length, N=150, window 72, overlap 6.
3. Peak RSS of a 256-frame vs a 64-frame 256x256 clip streamed to a writer that drops the
   frames, each in a fresh subprocess.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import PIL.Image
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from diffusers import StableVideoDiffusionPipeline  # noqa: E402

from animator.families.svd.models.tiny import tiny_components, tiny_pipeline  # noqa: E402
from animator.families.svd.windows import (  # noqa: E402
    computed_frames,
    plan_public_windows,
    plan_windows,
)

SIZE, FRAMES = 128, 14
CFG = dict(min_guidance_scale=1.0, max_guidance_scale=3.0, fps=7, motion_bucket_id=127,
           noise_aug_strength=0.02)


def _rgb(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def step_time(repeats: int, steps: int = 8, threads: int = 1) -> None:
    # One thread: the ratio is what matters, and it is far less disturbed by other processes.
    torch.set_num_threads(threads)
    image, poses = _rgb((SIZE, SIZE, 3), 0), _rgb((FRAMES, SIZE, SIZE, 3), 1)
    face = np.random.default_rng(2).standard_normal(512).astype(np.float32)
    ours = tiny_pipeline(random_init=True)
    svd = StableVideoDiffusionPipeline(**tiny_components(0))
    for pipe in (ours, svd):
        pipe.set_progress_bar_config(disable=True)
    stamps: list[float] = []

    def run_ours() -> None:
        ours(image, poses, face_embedding=face, height=SIZE, width=SIZE,
             num_inference_steps=steps, window=FRAMES, seed=0, output_type="latent",
             callback=lambda *_: stamps.append(time.perf_counter()), **CFG)

    def run_svd() -> None:
        def on_step(pipe, i, t, kwargs):
            stamps.append(time.perf_counter())
            return kwargs

        svd(PIL.Image.fromarray(image), height=SIZE, width=SIZE, num_frames=FRAMES,
            num_inference_steps=steps, generator=torch.Generator().manual_seed(0),
            output_type="latent", callback_on_step_end=on_step, **CFG)

    per_step: dict[str, list[float]] = {"svd": [], "ours": []}
    calls: dict[str, list[float]] = {"svd": [], "ours": []}
    run_ours(), run_svd()  # warm-up
    for _ in range(repeats):
        for name, fn in (("svd", run_svd), ("ours", run_ours)):
            stamps.clear()
            start = time.perf_counter()
            fn()
            calls[name].append(time.perf_counter() - start)
            # Median step of this run; step 1 (which also runs the one-off encoders) left out.
            per_step[name].append(statistics.median(np.diff(stamps)))
    # Back-to-back runs share the machine's load, so their ratio is steadier than either time.
    ratios = [o / s for o, s in zip(per_step["ours"], per_step["svd"], strict=True)]
    step = {n: statistics.median(v) for n, v in per_step.items()}
    call = {n: statistics.median(v) for n, v in calls.items()}
    print(f"\n1. Time per denoising step ({FRAMES} frames {SIZE}x{SIZE}, CFG, {threads} thread, "
          f"median of {repeats} back-to-back run pairs, {steps - 1} steps each)")
    print(f"{'pipeline':<44}{'s/step':>10}{'ratio':>8}{f'call, {steps} steps':>20}")
    print(f"{'diffusers StableVideoDiffusionPipeline':<44}{step['svd']:>10.4f}{1.0:>8.3f}"
          f"{call['svd']:>20.3f}")
    print(f"{'AnimationPipeline, pose + identity':<44}{step['ours']:>10.4f}"
          f"{statistics.median(ratios):>8.3f}{call['ours']:>20.3f}")
    print(f"(target: step ratio <= 1.10; pair ratios {min(ratios):.3f}..{max(ratios):.3f})")


def window_plan() -> None:
    n, window, overlap = 150, 72, 6
    print(f"\n2. Frames computed per step, N={n}, window={window}, overlap={overlap}")
    print(f"{'plan':<44}{'windows':>10}{'frames':>10}{'/ N':>8}")
    for anchor in (True, False):
        public = plan_public_windows(n + int(anchor), window, overlap)
        total = computed_frames(public)
        label = f"windows=public, {'anchor' if anchor else 'no anchor'} (their plan)"
        print(f"{label:<44}{len(public):>10}{total:>10}{total / n:>8.3f}")
        windows = plan_windows(n, window, overlap, anchor)
        total = computed_frames(windows)
        label = f"windows=lean, {'anchor' if anchor else 'no anchor'}"
        print(f"{label:<44}{len(windows):>10}{total:>10}{total / n:>8.3f}   (target <= 1.10)")


def rss_child(frames: int) -> None:
    """Run one streamed 256x256 clip; print the peak RSS in MiB."""
    torch.set_num_threads(2)
    pipe = tiny_pipeline(random_init=True)
    pipe.set_progress_bar_config(disable=True)
    image, poses = _rgb((256, 256, 3), 0), _rgb((frames, 256, 256, 3), 1)
    face = np.random.default_rng(2).standard_normal(512).astype(np.float32)
    written = 0

    def drop(frame: np.ndarray) -> None:
        nonlocal written
        written += 1

    pipe(image, poses, face_embedding=face, reference_pose=poses[0], height=256, width=256,
         num_inference_steps=1, window=16, overlap=4, decode_chunk_size=8, seed=0,
         writer=drop, **CFG)
    assert written == frames
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss() -> None:
    def measure(frames: int) -> float:
        out = subprocess.run([sys.executable, __file__, "--rss-child", str(frames)],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONWARNINGS": "ignore"})
        return float(out.stdout.strip().splitlines()[-1])

    small, large = measure(64), measure(256)
    print("\n3. Peak RSS, 256x256 clip streamed to a writer (fresh subprocess each)")
    print(f"{'frames':<44}{'MiB':>10}{'ratio':>8}")
    print(f"{64:<44}{small:>10.0f}{1.0:>8.3f}")
    print(f"{256:<44}{large:>10.0f}{large / small:>8.3f}   (target <= 1.15)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-rss", action="store_true", help="leave out the slow part 3")
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
    else:
        step_time(args.repeats)
        window_plan()
        if not args.skip_rss:
            peak_rss()
