"""Throughput of `python -m animator batch`: 2 processes (accelerate, gloo on CPU) vs 1.

Eight tiny-preset jobs (built-in motions, 2 s at 8 fps, 4 steps) on the astronaut
portrait. Each configuration runs in fresh processes; wall time includes start-up
(imports, MediaPipe, the tiny model), as a user would see it. Medians of `--repeats` runs.

    .venv/bin/python benchmarks/batch_bench.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOTIONS = ["wave", "walk", "squat", "dance", "arm_circles", "wave", "walk", "squat"]


def run(processes: int, jobs: Path, out: Path) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1",
           "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // processes))}
    batch = ["-m", "animator", "batch", str(jobs), "--out-dir", str(out), "--preset", "tiny",
             "--pose-backend", "mediapipe"]
    if processes == 1:
        command = [sys.executable, *batch]
    else:
        command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                   "--num_processes", str(processes), "--num_machines", "1",
                   "--mixed_precision", "no", "--dynamo_backend", "no", *batch]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    summary = json.loads((out / "summary.json").read_text())
    assert summary["done"] == len(MOTIONS), summary
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = Path(tmp) / "jobs.jsonl"
        portrait = ROOT / "assets/portraits/astronaut.jpg"
        jobs.write_text("".join(
            json.dumps({"image": str(portrait), "motion": m, "fps": 8, "end": 2.0, "seed": i,
                        "num_inference_steps": 4, "transition": 0, "out": f"{i}.mp4"}) + "\n"
            for i, m in enumerate(MOTIONS)))
        times = {p: statistics.median(run(p, jobs, Path(tmp) / f"out{p}_{r}")
                                      for r in range(args.repeats)) for p in (1, 2)}
    print(f"{len(MOTIONS)} tiny jobs, median of {args.repeats} runs, {os.cpu_count()} cores")
    print(f"{'processes':<12}{'wall s':>8}{'jobs/min':>10}{'vs 1':>8}")
    for p, seconds in times.items():
        print(f"{p:<12}{seconds:>8.1f}{60 * len(MOTIONS) / seconds:>10.1f}"
              f"{times[1] / seconds:>8.2f}")


if __name__ == "__main__":
    main()
