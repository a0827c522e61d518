"""The registry of backbone families, and what the rest of the package asks of them.

A family is one folder under `animator/families/` whose `__init__.py` exposes `FAMILY`
(`animator.families.base.Family`): its presets, the settings it offers, how it downloads,
loads and estimates. `FAMILY_PACKAGES` below lists the folders, one line each; every
function here works over that list, so `Animator`, the page, the API, the CLI and batch
jobs never name a family (DESIGN.md, "Generators"). Adding a family is adding its folder
and its line.

Families are imported on first use, not with this module (they bring torch and diffusers).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from animator.errors import InputError
from animator.families.base import (
    Command,
    Family,
    GenerationInputs,
    GenerationResult,
    Generator,
    Setting,
    resolve_settings,
)
from animator.families.loading import read_model_index

# The registry, in menu order (the first family's first preset is the default on a GPU).
FAMILY_PACKAGES = (
    "animator.families.svd",  # StableAnimator, MimicMotion, tiny (Stable Video Diffusion)
    "animator.families.wan",  # Wan2.2-Animate-14B
    "animator.families.wan2",  # Wan-Animate-2 14B (raw-video driving)
)
FAMILIES = tuple(package.rsplit(".", 1)[1] for package in FAMILY_PACKAGES)
LOCAL = "local:"


@functools.cache
def registered() -> tuple[Family, ...]:
    """Every family's `FAMILY`, in registry order."""
    return tuple(importlib.import_module(package).FAMILY for package in FAMILY_PACKAGES)


def _local_family(folder: Path) -> Family:
    """A saved pipeline's family, from the class its model_index.json names (read with the
    shared limits of `families.loading`; a class no family loads is refused)."""
    name = read_model_index(folder)["_class_name"]
    family = next((f for f in registered() if name in f.local_classes), None)
    if family is None:
        known = " or ".join(c for f in registered() for c in f.local_classes)
        raise InputError(f"{folder} holds a {name!r} pipeline; this app loads {known} folders "
                         "written by save_pretrained.")
    return family


def family_for(preset: str) -> Family:
    """The family of a preset name (or `local:<folder>`); unknown names are refused with
    the list of known ones."""
    if preset.startswith(LOCAL):
        return _local_family(Path(preset[len(LOCAL):]).expanduser())
    for family in registered():
        if preset in family.presets():
            return family
    raise InputError(f"Unknown preset {preset!r}: choose one of {', '.join(preset_names())}, "
                     f"or {LOCAL}<folder> (a pipeline saved with save_pretrained).")


def family_of(preset: str) -> str:
    """The name of a preset's family ("svd", "wan", ...)."""
    return family_for(preset).name


def preset_names() -> list[str]:
    """Every named preset of every family, in registry order."""
    return [name for family in registered() for name in family.presets()]


def describe(preset: str) -> str:
    """One line about the preset."""
    return family_for(preset).describe(preset)


def smoke_tests() -> list[str]:
    """Presets that run anywhere in seconds (random weights: their output is noise)."""
    return [name for family in registered() for name in family.smoke_tests]


def default_preset(gpu: bool) -> str:
    """The preset used when none is named: the first one with a GPU, a smoke test without."""
    return preset_names()[0] if gpu else smoke_tests()[0]


def settings_of(preset: str, load_options=None) -> tuple[Setting, ...]:
    """The settings a preset's family declares, with the preset's defaults (as loaded with
    `load_options`, e.g. fewer steps with a distillation LoRA), without loading anything
    (for page controls, API keyword arguments and CLI flags)."""
    return family_for(preset).settings(preset, load_options)


def check_settings(preset: str, overrides, device: str | None = None) -> dict:
    """The caller's generation settings for `preset` (None values dropped), checked before
    any work: unknown names and values its family cannot use (on `device`, when given)."""
    return family_for(preset).check_settings(preset, overrides, device)


def load_options_of(preset: str) -> tuple[Setting, ...]:
    """The load options a preset's family takes (e.g. the Wan memory mode, fp8, fast), with
    their defaults."""
    return family_for(preset).load_options(preset)


def output_fps(preset: str) -> float | None:
    """The preset's output frame rate when the caller asks for none (None: the video's)."""
    return family_for(preset).output_fps(preset)


def estimate_cpu_seconds(preset: str, num_frames: int, width: int, height: int,
                         overrides=None) -> float:
    """Seconds the preset's full-size model would take on this CPU for a clip of
    `num_frames` at width x height, with the caller's setting overrides."""
    return family_for(preset).estimate_cpu_seconds(preset, num_frames, width, height,
                                                   overrides)


def cpu_estimate(preset: str) -> tuple[str, str]:
    """(the real preset the estimate is for, "a 4-second clip at ... would take ...")."""
    return family_for(preset).cpu_estimate(preset)


def gpu_offers(device: str, running: str) -> list[str]:
    """What other families say this GPU is big enough for, while `running` runs."""
    own = family_for(running)
    return [offer for family in registered() if family is not own
            for offer in [family.gpu_offer(device)] if offer]


def _first_presets() -> list[tuple[Family, str]]:
    return [(f, next(iter(f.presets()))) for f in registered() if f.presets()]


def setting_names() -> set[str]:
    """Every generation setting name any family takes (batch jobs' keys)."""
    return {s.name for f, preset in _first_presets() for s in f.settings(preset)}


def all_load_options() -> dict[str, Setting]:
    """Every family's load options by name (the first declaration of a shared name)."""
    options: dict[str, Setting] = {}
    for family, preset in _first_presets():
        for option in family.load_options(preset):
            options.setdefault(option.name, option)
    return options


def download_options() -> list[tuple[Setting, list[Family]]]:
    """Every family's download options, each with the families that take it."""
    found: dict[str, tuple[Setting, list[Family]]] = {}
    for family in registered():
        for option in family.download_options:
            found.setdefault(option.name, (option, []))[1].append(family)
    return list(found.values())


def commands() -> dict[str, Command]:
    """The subcommands families add to `python -m animator`, by name."""
    return {c.name: c for family in registered() for c in family.commands}


def _own_options(family: Family, declared, everyone: dict, options: dict, what: str) -> dict:
    """`options` the family declares, checked; others' options are dropped while unset
    (None or at their default), and refused when set."""
    declared = {s.name: s for s in declared}
    options = {k: v for k, v in options.items() if v is not None
               and not (k not in declared and k in everyone and everyone[k].default == v)}
    foreign = sorted(set(options) - set(declared))
    if foreign:
        raise InputError(f"The {family.title} presets take no {what} option {foreign}.")
    return {k: declared[k].check(v) for k, v in options.items()}


def download(preset: str, *, weights_dir=None, progress=None, notify=print,
             **options) -> list[Path]:
    """Fetch everything the preset needs (its family says first what and under which
    terms, through `notify`); the folders that hold it. `options`: `download_options`."""
    family = family_for(preset)
    everyone = {s.name: s for s, _ in download_options()}
    options = _own_options(family, family.download_options, everyone, options, "download")
    return family.download(preset, weights_dir=weights_dir, progress=progress, notify=notify,
                           **options)


def load_generator(preset: str, *, device: str = "cpu", dtype=None, weights_dir=None,
                   low_memory: bool = False, allow_download: bool = True,
                   progress=None, **options) -> Generator:
    """Load the preset's model as its family's generator. `options` are family load
    options (`load_options_of`: e.g. the Wan family's memory mode, fp8 and `fast`);
    options left at None or at their defaults are dropped, so one set of options can be
    passed for any preset, and those its family lacks are refused only when set."""
    family = family_for(preset)
    options = _own_options(family, family.load_options(preset), all_load_options(), options,
                           "load")
    return family.load(preset, device=device, dtype=dtype, weights_dir=weights_dir,
                       low_memory=low_memory, allow_download=allow_download,
                       progress=progress, **options)


__all__ = ["FAMILIES", "FAMILY_PACKAGES", "Command", "Family", "GenerationInputs",
           "GenerationResult", "Generator", "Setting", "all_load_options", "check_settings",
           "commands", "cpu_estimate", "default_preset", "describe", "download",
           "download_options", "estimate_cpu_seconds", "family_for", "family_of",
           "gpu_offers", "load_generator", "load_options_of", "output_fps", "preset_names",
           "registered", "resolve_settings", "settings_of", "setting_names", "smoke_tests"]
