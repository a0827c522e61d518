"""Training figures (tiny preset, CPU): steps per second and peak RSS, with and without
gradient checkpointing.

    python benchmarks/train_bench.py [--repeats 3] [--steps 10] [--threads 1]

Each run is `animator.families.svd.train.train` in a fresh subprocess (its own peak RSS) on one
8-frame 128x128 clip of the bundled driving video with pre-seeded pose and face caches, the
whole tiny UNet plus pose encoder and identity trained, batch 1. Steps per second is taken
from the training log's timestamps after `--warmup` steps; peak RSS is the child's
ru_maxrss (model, data and the largest backward pass). The table gives medians over
`--repeats` runs and the ratio to the run without checkpointing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
from itertools import islice
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIZE, FRAMES = 128, 8


def make_data(folder: Path) -> None:
    """One video of FRAMES frames with the caches the dataset would otherwise compute."""
    from animator.families.svd.data import face_path, poses_path
    from animator.pose.motions import make_motion
    from animator.video import iter_video, write_video

    frames = list(islice(iter_video(ROOT / "assets" / "driving" / "astronaut_sway.mp4",
                                    max_side=SIZE), FRAMES))
    write_video(frames, folder / "clip.mp4", 25)
    make_motion("wave", seconds=FRAMES / 25, width=SIZE, height=SIZE).save(
        poses_path(folder / "clip.mp4"))
    np.save(face_path(folder / "clip.mp4"),
            np.random.default_rng(0).normal(size=512).astype(np.float32))


def child(data: str, out: str, checkpointing: bool, steps: int, warmup: int,
          threads: int) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)
    from animator.families.svd.train import TrainConfig, train

    train(TrainConfig(data_dir=data, output_dir=out, num_frames=FRAMES, frame_stride=1,
                      height=SIZE, width=SIZE, num_workers=0, report_to="none",
                      validate_every=0, checkpoint_every=0, max_steps=warmup + steps,
                      trainable=["unet", "skeleton", "dense", "identity"],
                      learning_rate=1e-4, lr_warmup_steps=0,
                      gradient_checkpointing=checkpointing))
    log = [json.loads(line) for line in (Path(out) / "train_log.jsonl").read_text().split("\n")
           if line]
    seconds = log[-1]["seconds"] - log[warmup - 1]["seconds"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"steps_per_s": steps / seconds, "peak_rss_mb": peak}))


def run(args) -> None:
    results: dict[bool, list[dict]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        make_data(data)
        for repeat in range(args.repeats):
            for checkpointing in (False, True):
                out = Path(tmp) / f"run{repeat}{int(checkpointing)}"
                cmd = [sys.executable, __file__, "--child", str(data), str(out),
                       str(int(checkpointing)), "--steps", str(args.steps), "--warmup",
                       str(args.warmup), "--threads", str(args.threads)]
                done = subprocess.run(cmd, capture_output=True, text=True, check=True)
                results[checkpointing].append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = {k: statistics.median(r[k] for r in results[False])
            for k in ("steps_per_s", "peak_rss_mb")}
    print(f"tiny preset, {FRAMES} frames {SIZE}x{SIZE}, batch 1, UNet + controls trained, "
          f"{args.steps} timed steps after {args.warmup}, {args.threads or 'default'} thread(s), "
          f"median of {args.repeats} fresh processes")
    print(f"{'gradient checkpointing':<24}{'steps/s':>10}{'ratio':>8}{'peak RSS MB':>14}"
          f"{'ratio':>8}")
    for checkpointing in (False, True):
        speed = statistics.median(r["steps_per_s"] for r in results[checkpointing])
        rss = statistics.median(r["peak_rss_mb"] for r in results[checkpointing])
        print(f"{'on' if checkpointing else 'off':<24}{speed:>10.2f}"
              f"{speed / base['steps_per_s']:>8.2f}{rss:>14.0f}{rss / base['peak_rss_mb']:>8.2f}")
        print("    runs: " + ", ".join(f"{r['steps_per_s']:.2f} steps/s {r['peak_rss_mb']:.0f} MB"
                                       for r in results[checkpointing]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads per run (0 = torch's default)")
    parser.add_argument("--child", nargs=3, metavar=("DATA", "OUT", "CHECKPOINTING"))
    args = parser.parse_args()
    if args.child:
        data, out, checkpointing = args.child
        child(data, out, checkpointing == "1", args.steps, args.warmup, args.threads)
    else:
        run(args)


if __name__ == "__main__":
    main()
