"""Figures for the sampling schedules (tiny components, CPU): steps and time per clip.

    python benchmarks/schedule_bench.py [--repeats 5]

SVD's own schedule (Karras sigmas, the presets' 25 steps) against Align Your Steps for SVD
(`sigma_schedule="ays"`, diffusers' `AysSchedules["StableDiffusionVideoSigmas"]`, 10 steps),
both with SVD-xt's scheduler settings on the tiny pipeline: 14 frames 128x128 with pose and
identity, guidance on, one thread, the whole call (encoders, sampling, decode), median of
back-to-back runs. The time saved is the steps saved; whether 10 AYS steps look as good as
25 needs the real weights (see README "Not measured").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from diffusers import EulerDiscreteScheduler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from animator.families.svd.models.tiny import tiny_pipeline  # noqa: E402

SIZE, FRAMES = 128, 14
CFG = dict(min_guidance_scale=1.0, max_guidance_scale=3.0, fps=7, motion_bucket_id=127,
           noise_aug_strength=0.02)
# SVD-xt's scheduler_config.json
SVD_SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                     interpolation_type="linear", num_train_timesteps=1000,
                     prediction_type="v_prediction", sigma_max=700.0, sigma_min=0.002,
                     steps_offset=1, timestep_spacing="leading", timestep_type="continuous",
                     use_karras_sigmas=True)
RUNS = (("SVD schedule (Karras), 25 steps", "default", 25),
        ("Align Your Steps, 10 steps", "ays", 10))


def main(repeats: int) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    poses = rng.integers(0, 256, (FRAMES, SIZE, SIZE, 3), dtype=np.uint8)
    face = rng.standard_normal(512).astype(np.float32)
    pipe = tiny_pipeline(random_init=True)
    pipe.scheduler = EulerDiscreteScheduler(**SVD_SCHEDULER)
    pipe.set_progress_bar_config(disable=True)

    def run(schedule: str, steps: int) -> tuple[float, int]:
        passes = []
        start = time.perf_counter()
        pipe(image, poses, face_embedding=face, height=SIZE, width=SIZE, window=FRAMES,
             num_inference_steps=steps, sigma_schedule=schedule, seed=0,
             callback=lambda *a: passes.append(a), **CFG)
        return time.perf_counter() - start, len(passes)

    run("ays", 2)  # warm-up
    times: dict[str, list[float]] = {label: [] for label, _, _ in RUNS}
    passes: dict[str, int] = {}
    for _ in range(repeats):
        for label, schedule, steps in RUNS:
            seconds, passes[label] = run(schedule, steps)
            times[label].append(seconds)
    base = RUNS[0][0]
    ratios = [a / b for a, b in zip(times[RUNS[1][0]], times[base], strict=True)]
    print(f"\nClip time by schedule ({FRAMES} frames {SIZE}x{SIZE}, pose + identity, CFG, "
          f"1 thread, median of {repeats} back-to-back runs, decode included)")
    print(f"{'schedule':<36}{'UNet passes':>12}{'s/clip':>10}{'ratio':>8}")
    for label, _, _ in RUNS:
        median = statistics.median(times[label])
        ratio = 1.0 if label == base else statistics.median(ratios)
        print(f"{label:<36}{passes[label]:>12}{median:>10.2f}{ratio:>8.3f}")
    print(f"(pair ratios {min(ratios):.3f}..{max(ratios):.3f}; steps ratio {10 / 25:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    main(parser.parse_args().repeats)
