"""Command line: `python -m animator {pose,people,animate,batch,evaluate,download,...}`.

One module per group of subcommands: pose.py (pose, people), generate.py (animate,
batch), evaluate.py, download.py; options.py holds the flags they share, the generation
flags drawn from the families' declarations. Families may add subcommands of their own
(`Family.commands`, e.g. `train`), which parse the rest of the line themselves.

Exit codes: 0 done, 2 bad input (the message says what to do), 1 a bug.
"""

from __future__ import annotations

import argparse
import sys

from animator import families
from animator.cli import download, evaluate, generate, pose
from animator.cli.options import generation_of, make_animator
from animator.errors import Cancelled, InputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m animator",
                                     description="Pose-driven human image animation.")
    sub = parser.add_subparsers(dest="command", required=True)
    pose.add_parsers(sub)
    generate.add_parsers(sub)
    evaluate.add_parser(sub)
    for command in families.commands().values():  # main() hands them the rest of the line
        sub.add_parser(command.name, help=command.help)
    download.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        argv = sys.argv[1:]
    own = families.commands()
    if argv[:1] and argv[0] in own:
        return own[argv[0]].main(argv[1:])
    if "--list-motions" in argv:
        from animator.pose.motions import MOTIONS

        for name, description in MOTIONS.items():
            print(f"{name:12s} {description}")
        return 0
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (InputError, Cancelled) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


__all__ = ["build_parser", "generation_of", "main", "make_animator"]
