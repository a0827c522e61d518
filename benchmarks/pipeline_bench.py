"""Figures for the generator (tiny components, CPU): speed, window plan, memory.

    python benchmarks/pipeline_bench.py [--repeats 5]

1. Wall time per denoising step, AnimationPipeline with pose + identity on vs diffusers'
   StableVideoDiffusionPipeline on the same tiny components, in this process. A step's cost
   is the slope between runs of S1 and S2 steps, so one-off work (encoders, decode) cancels.
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

from animator.models.tiny import tiny_components, tiny_pipeline  # noqa: E402
from animator.pipeline import plan_windows  # noqa: E402

SIZE, FRAMES = 128, 14
CFG = dict(min_guidance_scale=1.0, max_guidance_scale=3.0, fps=7, motion_bucket_id=127,
           noise_aug_strength=0.02, decode_chunk_size=FRAMES)


def _rgb(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def step_time(repeats: int, s1: int = 2, s2: int = 6) -> None:
    image, poses = _rgb((SIZE, SIZE, 3), 0), _rgb((FRAMES, SIZE, SIZE, 3), 1)
    face = np.random.default_rng(2).standard_normal(512).astype(np.float32)
    ours = tiny_pipeline(random_init=True)
    svd = StableVideoDiffusionPipeline(**tiny_components(0))
    for pipe in (ours, svd):
        pipe.set_progress_bar_config(disable=True)

    def run_ours(steps):
        ours(image, poses, face_embedding=face, reference_pose=None, height=SIZE, width=SIZE,
             num_inference_steps=steps, window=FRAMES, seed=0, **CFG)

    def run_svd(steps):
        svd(PIL.Image.fromarray(image), height=SIZE, width=SIZE, num_frames=FRAMES,
            num_inference_steps=steps, generator=torch.Generator().manual_seed(0),
            output_type="np", **CFG)

    times = {"svd": {s1: [], s2: []}, "ours": {s1: [], s2: []}}
    run_ours(1), run_svd(1)  # warm-up
    for _ in range(repeats):
        for name, fn in (("svd", run_svd), ("ours", run_ours)):
            for steps in (s1, s2):
                start = time.perf_counter()
                fn(steps)
                times[name][steps].append(time.perf_counter() - start)
    med = {n: {s: statistics.median(v) for s, v in d.items()} for n, d in times.items()}
    per_step = {n: (m[s2] - m[s1]) / (s2 - s1) for n, m in med.items()}
    print(f"\n1. Time per denoising step ({FRAMES} frames {SIZE}x{SIZE}, CFG, median of "
          f"{repeats}, slope {s1}->{s2} steps)")
    print(f"{'pipeline':<44}{'s/step':>10}{f'whole call ({s2} steps)':>26}{'ratio':>8}")
    print(f"{'diffusers StableVideoDiffusionPipeline':<44}{per_step['svd']:>10.4f}"
          f"{med['svd'][s2]:>26.3f}{1.0:>8.3f}")
    print(f"{'AnimationPipeline, pose + identity':<44}{per_step['ours']:>10.4f}"
          f"{med['ours'][s2]:>26.3f}{per_step['ours'] / per_step['svd']:>8.3f}"
          f"   (target <= 1.10; whole call {med['ours'][s2] / med['svd'][s2]:.3f})")


def window_plan() -> None:
    n, window, overlap = 150, 72, 6
    print(f"\n2. Frames computed per step, N={n}, window={window}, overlap={overlap}")
    print(f"{'plan':<44}{'windows':>10}{'frames':>10}{'/ N':>8}")
    public = 3 * window  # MimicMotion: 3 full 72-frame windows (anchor included)
    print(f"{'public code (full windows, anchor)':<44}{3:>10}{public:>10}{public / n:>8.3f}")
    for anchor in (True, False):
        windows = plan_windows(n, window, overlap, anchor)
        total = sum(map(len, windows))
        label = f"plan_windows, {'reference-pose anchor' if anchor else 'no anchor'}"
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
         writer=drop, **{k: v for k, v in CFG.items() if k != "decode_chunk_size"})
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
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
    else:
        step_time(args.repeats)
        window_plan()
        peak_rss()
