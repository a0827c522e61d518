"""`pose` (poses and a preview video, no generation) and `people` (the numbered people a
portrait or a driving video shows)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from animator.cli.options import (
    add_driving_options,
    add_retarget_options,
    check_outputs,
    retarget_config,
)
from animator.errors import InputError


def cmd_pose(args) -> None:
    from animator.animate import Animator

    check_outputs(args)
    animator = Animator(pose_backend=args.pose_backend, weights_dir=args.weights_dir)
    with tempfile.TemporaryDirectory() as tmp:
        result = animator.preview_pose(
            args.image, args.motion or args.video, retarget_config=retarget_config(args),
            fps=args.fps, start=args.start, end=args.end, out_dir=tmp,
            person=args.person, driving_person=args.driving_person,
        )
        shutil.move(result.video, args.out)
    if args.json:
        result.retargeted.poses.save(args.json)
    for line in result.notices:
        print(f"note: {line}", file=sys.stderr)
    print(args.out)


def cmd_people(args) -> None:
    import cv2

    from animator.animate import Animator

    if args.out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise InputError(f"--out {args.out.name!r}: give a .png or .jpg file name")
    animator = Animator(pose_backend=args.pose_backend, weights_dir=args.weights_dir)
    found = animator.find_people(args.input, start=args.start)
    if not cv2.imwrite(str(args.out), cv2.cvtColor(found.image, cv2.COLOR_RGB2BGR)):
        raise InputError(f"could not write {args.out}; check that its folder exists")
    where = f"frame {found.frame}" if found.frame else "the first frame"
    print(f"{len(found.boxes)} people in {where}, largest first:")
    for i, (x0, y0, x1, y1) in enumerate(found.boxes):
        print(f"  person {i}: box {x0:.0f},{y0:.0f} - {x1:.0f},{y1:.0f}")
    print(args.out)


def add_parsers(sub) -> None:
    pose = sub.add_parser("pose", help="extract + retarget poses; write a preview video",
                          description="Detect the portrait's and the driving motion's poses, "
                          "rescale the driving skeleton to the portrait's body and write a "
                          "side-by-side preview (driving | retargeted over the portrait).")
    pose.add_argument("--image", type=Path, required=True, help="portrait image")
    add_driving_options(pose)
    pose.add_argument("--out", type=Path, default=Path("preview.mp4"), help="preview video")
    pose.add_argument("--json", type=Path, default=None,
                      help="also save the retargeted poses (.json or .npz)")
    add_retarget_options(pose)
    pose.set_defaults(func=cmd_pose)

    people = sub.add_parser("people", help="number the people in a portrait or video",
                            description="Find the people in a portrait, or in the first frame "
                            "of a driving video that shows anybody, and write that image with "
                            "numbered boxes: the numbers --person / --driving-person take.")
    people.add_argument("input", type=Path, help="portrait image or driving video")
    people.add_argument("--out", type=Path, default=Path("people.png"), help="numbered image")
    people.add_argument("--start", type=float, default=0.0, help="video start time in seconds")
    people.add_argument("--pose-backend", default="auto",
                        choices=["auto", "dwpose", "mediapipe"])
    people.add_argument("--weights-dir", type=Path, default=None)
    people.set_defaults(func=cmd_people)
