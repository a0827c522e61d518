"""Detected poses kept on disk (`animator/pose/store.py`): a command run again on the same
footage, in a fresh process, against the same command detecting the poses.

Rows (fresh processes, medians): `python -m animator pose` on the example clip (4 s, 25 fps,
384x384, the astronaut portrait) with an empty store (the baseline: the poses are
detected), then with the store its previous run filled. A second table: the same in one
process, `Animator.driving_poses` and `portrait_pose` of a new `Animator` (nothing in its
memory), so that start-up is left out.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = ROOT / "assets" / "portraits" / "astronaut.jpg"
DRIVING = ROOT / "assets" / "driving" / "astronaut_sway.mp4"


def command_seconds(store: Path, out: Path, empty: bool, repeats: int) -> float:
    times = []
    env = {**os.environ, "ANIMATOR_POSE_CACHE": str(store), "HF_HUB_OFFLINE": "1"}
    for _ in range(repeats):
        if empty:
            shutil.rmtree(store, ignore_errors=True)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "animator", "pose", "--image", str(PORTRAIT),
                        "--video", str(DRIVING), "--pose-backend", "mediapipe",
                        "--out", str(out)], cwd=ROOT, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process_seconds(store, repeats: int) -> float:
    from animator.animate import Animator

    times = []
    for _ in range(repeats):
        animator = Animator(pose_backend="mediapipe", pose_store=store)
        image = animator.read_portrait(PORTRAIT)
        start = time.perf_counter()
        animator.driving_poses(DRIVING)
        animator.portrait_pose(image)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repeats: int = 3) -> None:
    from animator.pose.store import PoseStore

    with tempfile.TemporaryDirectory() as scratch:
        store, out = Path(scratch) / "poses", Path(scratch) / "preview.mp4"
        detected = command_seconds(store, out, empty=True, repeats=repeats)
        stored = command_seconds(store, out, empty=False, repeats=repeats)
        print(f"| `python -m animator pose`, fresh process (median of {repeats}) | seconds "
              "| x detected |")
        print("|---|---|---|")
        print(f"| poses detected (empty store) | {detected:.2f} | 1.00 |")
        print(f"| poses from the store | {stored:.2f} | {stored / detected:.2f} |")
        detected = in_process_seconds(None, repeats)
        disk = PoseStore(Path(scratch) / "in_process")
        in_process_seconds(disk, 1)  # fills it
        stored = in_process_seconds(disk, repeats)
        print(f"\n| driving + portrait poses, a new Animator (median of {repeats}) | seconds "
              "| x detected |")
        print("|---|---|---|")
        print(f"| detected (no store) | {detected:.3f} | 1.000 |")
        print(f"| from the store | {stored:.3f} | {stored / detected:.3f} |")


if __name__ == "__main__":
    main()
