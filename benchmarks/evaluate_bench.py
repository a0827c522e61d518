"""Speed of `evaluate` on a 10 s clip (goal: <= 30 s without LPIPS/FID/FVD).

The clip is real footage (the example driving video, looped to 10 s at 25 fps and scaled
to each size), its target poses are MediaPipe's poses of it, the ground truth is the clip
itself. Each row is the median of repeated runs; the baseline is decoding the clip and
detecting its poses (the floor: pose accuracy cannot cost less), measured in the same
process (interleaved with the other runs), so the ratio says what the other metrics
add.

    .venv/bin/python benchmarks/evaluate_bench.py            # 512x512 and 576x1024
    .venv/bin/python benchmarks/evaluate_bench.py 512        # one size
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from animator.animate import Animator  # noqa: E402
from animator.evaluate import EvaluateConfig, evaluate_clip, make_target  # noqa: E402
from animator.evaluate.temporal import warping_error  # noqa: E402
from animator.video import iter_video, read_video, write_video  # noqa: E402

SIZES = {"512": (512, 512), "576x1024": (576, 1024)}
SECONDS, FPS = 10, 25


def timed_rounds(fns: dict[str, Callable[[], object]], rounds: int = 3) -> dict[str, float]:
    """Median seconds of each fn, run in interleaved rounds (a, b, c, a, b, c, ...) so that
    load from elsewhere on a shared machine falls on all of them alike."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in runs.items()}


def make_clip(folder: Path, size: tuple[int, int]) -> Path:
    frames = read_video(ROOT / "assets" / "driving" / "astronaut_sway.mp4").frames
    w, h = size
    side = min(w, h)
    looped = []
    for i in range(SECONDS * FPS):
        frame = cv2.resize(frames[i % len(frames)], (side, side), interpolation=cv2.INTER_CUBIC)
        looped.append(cv2.copyMakeBorder(frame, (h - side) // 2, h - side - (h - side) // 2,
                                         (w - side) // 2, w - side - (w - side) // 2,
                                         cv2.BORDER_REFLECT101))
    return write_video(looped, folder / f"clip_{w}x{h}.mp4", FPS)


def bench(size_name: str, folder: Path) -> list[tuple[str, float, str]]:
    size = SIZES[size_name]
    clip = make_clip(folder, size)
    animator = Animator(device="cpu", pose_backend="mediapipe")
    detector = animator.detector
    poses = detector.detect_video(list(iter_video(clip)), FPS, *size)
    target = make_target(animator, portrait=None, poses=poses, fps=FPS)
    config = EvaluateConfig(identity=False)
    label = f"{size[0]}x{size[1]}, {SECONDS} s at {FPS} fps"

    t = timed_rounds({
        "decode": lambda: sum(1 for _ in iter_video(clip)),
        "detect": lambda: detector.detect_video(iter_video(clip), FPS, *size),
        "flicker": lambda: warping_error(iter_video(clip)),
        "plain": lambda: evaluate_clip(clip, target, animator=animator, config=config),
        "truth": lambda: evaluate_clip(clip, target, animator=animator, config=config,
                                       ground_truth=clip),
    })
    base = t["detect"]
    return [
        (f"{label}: decode only", t["decode"], ""),
        (f"{label}: decode + pose detection (baseline)", base, "1.00"),
        (f"{label}: decode + flicker only", t["flicker"], ""),
        (f"{label}: evaluate (pose, jitter, flicker, sync)", t["plain"],
         f"{t['plain'] / base:.2f}"),
        (f"{label}: evaluate + ground truth (L1, PSNR, SSIM)", t["truth"],
         f"{t['truth'] / base:.2f}"),
    ]


def main(argv: list[str]) -> None:
    names = argv or list(SIZES)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            rows += bench(name, Path(tmp))
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':{width}}  seconds  ratio")
    for name, seconds, ratio in rows:
        print(f"{name:{width}}  {seconds:7.2f}  {ratio}")


if __name__ == "__main__":
    main(sys.argv[1:])
