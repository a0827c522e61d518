"""Flags several subcommands share: driving input, retargeting, outputs, and the generation
flags, drawn from what each family declares (`Setting.flag`), so that a family's settings
reach the command line without this module knowing the family."""

from __future__ import annotations

import argparse
from pathlib import Path

from animator import families
from animator.config import RetargetConfig
from animator.errors import InputError
from animator.pose.skeleton import POSE_FILE_SUFFIXES

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov")  # the writer makes MP4 files
GENERATION_GROUP = "generation (default: the preset's)"


def add_retarget_options(parser: argparse.ArgumentParser) -> None:
    d = RetargetConfig()
    group = parser.add_argument_group("retargeting")
    group.add_argument("--transition", type=float, default=d.transition,
                       help="seconds of lead-in from the portrait's pose, e.g. 0.5 for a smooth "
                       "entry; 0 = off, as the public scripts (%(default)s)")
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


def retarget_config(args) -> RetargetConfig:
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


def _own_rates() -> str:
    """"; 30 with wan-animate": the presets with an output rate of their own."""
    rates = [f"{fps:g} with {name}" for name in families.preset_names()
             for fps in [families.output_fps(name)] if fps is not None]
    return "".join(f"; {rate}" for rate in rates)


def add_driving_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="driving video, or a pose .json/.npz file")
    source.add_argument("--motion", help="built-in motion name (see --list-motions)")
    parser.add_argument("--start", type=float, default=0.0, help="start time in seconds")
    parser.add_argument("--end", type=float, default=None, help="end time in seconds")
    parser.add_argument("--fps", type=float, default=None,
                        help="frames per second taken from the driving video (default: its "
                        f"own{_own_rates()})")
    parser.add_argument("--pose-backend", default="auto", choices=["auto", "dwpose", "mediapipe"])
    parser.add_argument("--weights-dir", type=Path, default=None,
                        help="folder with local model files (e.g. DWPose ONNX)")
    parser.add_argument("--person", type=int, default=0, metavar="N",
                        help="which person of the portrait to animate: 0 = the largest, "
                             "1 = the next, ... (see the `people` command)")
    parser.add_argument("--driving-person", type=int, default=0, metavar="N",
                        help="which person of the driving video drives: 0 = the largest in "
                             "its first frame with people, followed through the video")


def check_outputs(args) -> None:
    """Refuse output paths that cannot be written before any work is done."""
    outputs = [(flag, getattr(args, flag.lstrip("-"), None), suffixes)
               for flag, suffixes in (("--out", VIDEO_SUFFIXES),
                                      ("--comparison", VIDEO_SUFFIXES),
                                      ("--json", POSE_FILE_SUFFIXES))]
    for flag, path, suffixes in outputs:
        if path is None:
            continue
        if path.suffix.lower() not in suffixes:
            raise InputError(f"{flag} {path} must end in {' or '.join(suffixes)}.")
        folder = path.parent
        if not folder.is_dir():
            raise InputError(f"The folder {folder} for {flag} does not exist; create it or "
                             "choose another path.")
        if path.is_dir():
            raise InputError(f"{flag} {path} is a folder; give a file name.")


def preset_help(default: str) -> str:
    """"stableanimator, ..., wan-animate or local:<dir> (default: ...)"."""
    return f"{', '.join(families.preset_names())} or local:<dir> (default: {default})"


def default_preset_words() -> str:
    return (f"{families.default_preset(gpu=True)} with a GPU, "
            f"{families.default_preset(gpu=False)} without")


def add_flag(group, setting) -> None:
    """One setting's flag; its value lands under the setting's name (None: not given)."""
    kwargs = {"dest": setting.name,
              "help": setting.help if setting.flag_help is None else setting.flag_help or None}
    if setting.type is bool:
        kwargs.update(action="store_true", default=None)
    else:
        if setting.type in (int, float):
            kwargs["type"] = setting.type
        if setting.choices is not None:
            kwargs["choices"] = setting.choices
    group.add_argument(setting.flag, **kwargs)


def family_flags() -> list[tuple[str | None, object, str]]:
    """(group title or None for the generation group, setting, "setting" or "load") for
    every flag the families declare, in registry order; a flag two families declare is
    one flag (the first declaration's), and must set the same name."""
    seen: dict[str, str] = {}
    out = []
    for family in families.registered():
        preset = next(iter(family.presets()))
        declared = [(s, "setting") for s in family.settings(preset)]
        declared += [(s, "load") for s in family.load_options(preset)]
        for setting, kind in declared:
            if not setting.flag:
                continue
            if setting.flag in seen:
                if seen[setting.flag] != setting.name:
                    raise ValueError(f"{setting.flag} sets {seen[setting.flag]} in one family "
                                     f"and {setting.name} in {family.name}")
                continue
            seen[setting.flag] = setting.name
            out.append((family.cli_group, setting, kind))
    return out


def add_generation_options(parser: argparse.ArgumentParser) -> None:
    """Generation settings; anything left out takes the preset's default."""
    g = parser.add_argument_group(GENERATION_GROUP)
    g.add_argument("--preset", default=None, help=preset_help(default_preset_words()))
    g.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    g.add_argument("--low-memory", action="store_true",
                   help="offload idle models, guidance in sequence, small decode chunks")
    groups = {None: g}
    for title, setting, _ in family_flags():
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        add_flag(groups[title], setting)


def generation_of(args) -> dict:
    """The generation settings the flags set (None: the preset's own)."""
    return {s.name: getattr(args, s.name) for _, s, kind in family_flags() if kind == "setting"}


def make_animator(args):
    """An Animator for the CLI's flags (the default preset depends on the device)."""
    from animator.animate import Animator

    animator = Animator(device=args.device, low_memory=args.low_memory,
                        pose_backend=args.pose_backend, weights_dir=args.weights_dir,
                        # a command without these flags (evaluate) loads with the defaults
                        load_options={k: getattr(args, k, None)
                                      for k in families.all_load_options()})
    animator.use_preset(args.preset or families.default_preset(gpu=animator.device != "cpu"))
    return animator


class Bar:
    """A tqdm bar driven by the Animator's (fraction, stage) progress reports."""

    def __init__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=1000, unit="", bar_format="{l_bar}{bar}| {elapsed}<{remaining}")

    def __call__(self, fraction: float, desc: str) -> None:
        self.bar.set_description_str(desc[:60], refresh=False)
        self.bar.update(max(0, int(fraction * 1000) - self.bar.n))

    def close(self) -> None:
        self.bar.close()
