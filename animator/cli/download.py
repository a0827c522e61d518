"""`download`: fetch a preset's files (its family says first what, how big, which terms)."""

from __future__ import annotations

import sys
from pathlib import Path

from animator import families
from animator.cli.options import Bar, add_flag
from animator.errors import InputError


def _options(args) -> dict:
    """The download options given, refused when the preset's family has none such."""
    family = families.family_for(args.preset)
    given = {}
    for option, owners in families.download_options():
        value = getattr(args, option.name)
        if value in (None, option.default):
            continue
        if family not in owners:
            presets = [name for owner in owners for name in owner.presets()]
            raise InputError(f"{option.flag} is for {' and '.join(presets)} ({option.help}); "
                             f"the {args.preset} preset has none. Drop {option.flag}, or use "
                             f"--preset {presets[0]} {option.flag}.")
        given[option.name] = value
    return given


def cmd_download(args) -> None:
    options = _options(args)
    bars = []  # made on the first report, so that an early error prints no empty bar

    def progress(fraction: float, desc: str) -> None:
        bars[:] = bars or [Bar()]
        bars[0](fraction, desc)

    try:
        folders = families.download(args.preset, weights_dir=args.weights_dir,
                                    progress=progress,
                                    notify=lambda line: print(line, file=sys.stderr), **options)
    finally:
        for bar in bars:
            bar.close()
    for folder in folders:
        print(folder)


def add_parser(sub) -> None:
    names = families.preset_names()
    download = sub.add_parser(
        "download", help="fetch the model files of a preset",
        description="Download everything a preset needs (its model's parts, checkpoints, "
        "DWPose, face models) into the Hugging Face cache, or as plain files into a folder "
        "(--weights-dir); prints the folders that hold them.")
    download.add_argument("--preset", default=families.default_preset(gpu=True),
                          help=f"{', '.join(names[:-1])} or {names[-1]} (%(default)s)")
    download.add_argument("--weights-dir", type=Path, default=None,
                          help="put the files here instead of the cache")
    for option, _ in families.download_options():
        add_flag(download, option)
    download.set_defaults(func=cmd_download)
