"""`animate` (one clip) and `batch` (a jobs file, split across processes)."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from animator.cli.options import (
    Bar,
    add_driving_options,
    add_generation_options,
    add_retarget_options,
    check_outputs,
    generation_of,
    make_animator,
    retarget_config,
)
from animator.errors import InputError
from animator.pose.skeleton import PoseSequence


def cmd_animate(args) -> None:
    from animator.families import check_settings

    check_outputs(args)
    generation = generation_of(args)
    animator = make_animator(args)
    check_settings(animator.preset, generation, animator.device)
    bar = Bar()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = animator.animate(
                args.image, args.motion or args.video, generation=generation,
                retarget_config=retarget_config(args), fps=args.fps, start=args.start,
                end=args.end, out_dir=tmp, comparison=args.comparison is not None, progress=bar,
                person=args.person, driving_person=args.driving_person,
            )
            shutil.move(result.video, args.out)
            if args.comparison:
                shutil.move(result.comparison, args.comparison)
            if args.json:
                PoseSequence.load(result.poses_file).save(args.json)
    finally:
        bar.close()
    for line in result.notices:
        print(f"note: {line}", file=sys.stderr)
    print(f"seed: {result.seed}", file=sys.stderr)
    print(args.out)


def cmd_batch(args) -> None:
    from animator.batch import run_batch

    summary = run_batch(args.jobs, args.out_dir, lambda: make_animator(args),
                        overwrite=args.overwrite)
    if summary is not None:  # the main process reports for all
        print(json.dumps({k: summary[k] for k in ("done", "failed", "seconds")}))
        if summary["failed"]:
            raise InputError(f"{summary['failed']} of {summary['jobs']} jobs failed; see "
                             f"{Path(args.out_dir) / 'summary.json'}.")


def add_parsers(sub) -> None:
    animate = sub.add_parser("animate", help="animate a portrait with a driving motion",
                             description="The whole flow: poses, retargeting, generation, "
                             "H.264 video with the driving audio.")
    animate.add_argument("--image", type=Path, required=True, help="portrait image")
    add_driving_options(animate)
    animate.add_argument("--out", type=Path, default=Path("animation.mp4"), help="output video")
    animate.add_argument("--comparison", type=Path, default=None,
                         help="also write driving | skeleton | result side by side")
    animate.add_argument("--json", type=Path, default=None,
                         help="also save the retargeted poses (.json or .npz)")
    add_generation_options(animate)
    add_retarget_options(animate)
    animate.set_defaults(func=cmd_animate)

    batch = sub.add_parser(
        "batch", help="run many animate jobs (split across processes by accelerate)",
        description="Run the jobs of a JSON-lines file, one object per line: {\"image\": ..., "
        "\"video\" or \"motion\": ..., \"out\": optional, any generation setting}. Under "
        "`accelerate launch --num_processes N -m animator batch ...` each process renders its "
        "share; a summary.json gathers them.")
    batch.add_argument("jobs", type=Path, help="jobs file (.jsonl)")
    batch.add_argument("--out-dir", type=Path, default=Path("batch_out"),
                       help="folder the jobs' \"out\" files (plain names) go into")
    batch.add_argument("--overwrite", action="store_true",
                       help="replace output files that already exist (default: refuse)")
    batch.add_argument("--pose-backend", default="auto", choices=["auto", "dwpose", "mediapipe"])
    batch.add_argument("--weights-dir", type=Path, default=None)
    add_generation_options(batch)
    batch.set_defaults(func=cmd_batch)
