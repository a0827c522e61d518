"""Command line: `python -m animator {pose,...}`.

Exit codes: 0 done, 2 bad input (the message says what to do), 1 a bug.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from animator.config import RetargetConfig
from animator.errors import InputError


def _add_retarget_options(parser: argparse.ArgumentParser) -> None:
    d = RetargetConfig()
    group = parser.add_argument_group("retargeting")
    group.add_argument("--transition", type=float, default=d.transition,
                       help="seconds of lead-in from the portrait's pose, 0 = off (%(default)s)")
    group.add_argument("--smoothing", type=int, default=d.smoothing,
                       help="smoothing window in frames, 0 = off (%(default)s)")
    group.add_argument("--root-motion", type=float, default=d.root_motion,
                       help="share of the driver's travel kept, 0-1 (%(default)s)")
    group.add_argument("--no-ground", action="store_true",
                       help="do not put the feet on the portrait's ground line")
    group.add_argument("--start-at-closest", action="store_true",
                       help="start at the driving frame closest to the portrait's pose")
    group.add_argument("--scale", action="append", default=[], metavar="GROUP=X",
                       help="extra length multiplier for a body part, e.g. --scale arms=1.1")


def _retarget_config(args) -> RetargetConfig:
    multipliers = {}
    for item in args.scale:
        group, sep, value = item.partition("=")
        try:
            multipliers[group] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"--scale takes GROUP=NUMBER (e.g. arms=1.1), got {item!r}.")
    return RetargetConfig(
        transition=args.transition, smoothing=args.smoothing, root_motion=args.root_motion,
        ground=not args.no_ground, start_at_closest=args.start_at_closest,
        multipliers=multipliers,
    )


def _add_driving_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="driving video, or a pose .json/.npz file")
    source.add_argument("--motion", help="built-in motion name (see --list-motions)")
    parser.add_argument("--start", type=float, default=0.0, help="start time in seconds")
    parser.add_argument("--end", type=float, default=None, help="end time in seconds")
    parser.add_argument("--fps", type=float, default=None,
                        help="frames per second taken from the driving video (default: its own)")
    parser.add_argument("--pose-backend", default="auto", choices=["auto", "dwpose", "mediapipe"])
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with local model files (e.g. DWPose ONNX)")


def cmd_pose(args) -> None:
    from animator.animate import Animator

    animator = Animator(pose_backend=args.pose_backend, weights_dir=args.weights_dir)
    with tempfile.TemporaryDirectory() as tmp:
        result = animator.preview_pose(
            args.image, args.motion or args.video, retarget_config=_retarget_config(args),
            fps=args.fps, start=args.start, end=args.end, out_dir=tmp,
        )
        shutil.move(result.video, args.out)
    if args.json:
        result.retargeted.poses.save(args.json)
    for line in animator.notices + result.notices:
        print(f"note: {line}", file=sys.stderr)
    print(args.out)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m animator",
                                     description="Pose-driven human image animation.")
    sub = parser.add_subparsers(dest="command", required=True)

    pose = sub.add_parser("pose", help="extract + retarget poses; write a preview video",
                          description="Detect the portrait's and the driving motion's poses, "
                          "rescale the driving skeleton to the portrait's body and write a "
                          "side-by-side preview (driving | retargeted over the portrait).")
    pose.add_argument("--image", type=Path, required=True, help="portrait image")
    _add_driving_options(pose)
    pose.add_argument("--out", type=Path, default=Path("preview.mp4"), help="preview video")
    pose.add_argument("--json", type=Path, default=None,
                      help="also save the retargeted poses (.json or .npz)")
    _add_retarget_options(pose)
    pose.set_defaults(func=cmd_pose)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        argv = sys.argv[1:]
    if "--list-motions" in argv:
        from animator.pose.motions import MOTIONS

        for name, description in MOTIONS.items():
            print(f"{name:12s} {description}")
        return 0
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
