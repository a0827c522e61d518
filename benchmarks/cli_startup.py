"""Start-up of the command line and of a job's first half, in fresh processes.

Rows: the bare interpreter (baseline), `python -m animator --help`, a refused preset (the
quickest real command: read the portrait, check the preset), a refused training run, a
short pose preview (portrait detection included: run with `ANIMATOR_POSE_CACHE=off`, or the
pose store answers it) and `import torch` for scale.
A second table: the portrait's pose asked for again by one `Animator` (what the page does
for the person choice, the preview and the animation), against its first detection.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = ROOT / "assets" / "portraits" / "astronaut.jpg"
COMMANDS = {
    "python -c pass (baseline)": ["-c", "pass"],
    "python -m animator --help": ["-m", "animator", "--help"],
    "animate with an unknown preset (exit 2)": [
        "-m", "animator", "animate", "--image", str(PORTRAIT), "--motion", "wave",
        "--preset", "nope", "--out", "x.mp4"],
    "train with a missing data folder (exit 2)": [
        "-m", "animator", "train", "data_dir=no-such-folder"],
    "pose preview of a built-in motion (0.4 s)": [
        "-m", "animator", "pose", "--image", str(PORTRAIT), "--motion", "wave", "--end", "0.4",
        "--out", "/tmp/animator-startup-bench.mp4"],
    "python -c 'import torch' (for scale)": ["-c", "import torch"],
}


def seconds(args: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def portrait_rows(repeats: int) -> list[tuple[str, float]]:
    from animator.animate import Animator

    animator = Animator(pose_backend="mediapipe", pose_store=None)  # memory only: detected
    image = animator.read_portrait(PORTRAIT)
    first = []
    for _ in range(repeats):
        animator.clear_pose_cache()
        start = time.perf_counter()
        animator.portrait_pose(image)
        first.append(time.perf_counter() - start)
    again = []
    for _ in range(repeats):
        start = time.perf_counter()
        animator.portrait_pose(image)
        again.append(time.perf_counter() - start)
    return [("first detection", statistics.median(first)),
            ("asked again", statistics.median(again))]


def main(repeats: int = 5) -> None:
    rows = [(name, seconds(args, repeats)) for name, args in COMMANDS.items()]
    base = rows[0][1]
    print(f"| command (fresh process, median of {repeats}) | seconds | x baseline |")
    print("|---|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.2f} | {value / base:.1f} |")
    rows = portrait_rows(repeats)
    print(f"\n| portrait pose, one Animator (median of {repeats}) | seconds | x first |")
    print("|---|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:.4f} | {value / rows[0][1]:.4f} |")


if __name__ == "__main__":
    main()
