"""Backbone families, one folder each, and the factory that picks one by preset name.

A family folder holds its presets, how they load and how one generation runs from what the
front end made (`animator.families.base.GenerationInputs`). The rest of the package asks
this module for a generator and never branches on the family (DESIGN.md, "Generators").
"""

from __future__ import annotations

import json
from pathlib import Path

from animator.errors import InputError
from animator.families.base import (
    GenerationInputs,
    GenerationResult,
    Generator,
    Setting,
    resolve_settings,
)

LOCAL = "local:"
FAMILIES = ("svd", "wan")


def _local_family(folder: Path) -> str:
    """A saved pipeline's family, from the class its model_index.json names."""
    index = folder / "model_index.json"
    if not index.is_file():
        raise InputError(f"{folder} holds no saved pipeline (no model_index.json): pass "
                         f"{LOCAL}<folder> with a folder written by save_pretrained.")
    try:
        name = json.loads(index.read_text()).get("_class_name", "")
    except ValueError as error:
        raise InputError(f"{index} is not valid JSON ({error}): re-save the pipeline.") from error
    return "wan" if name.startswith("WanAnimate") else "svd"


def family_of(preset: str) -> str:
    """"svd" or "wan" for a preset name (or `local:<folder>`); unknown names are refused
    with the list of known ones."""
    from animator.families import wan

    if preset.startswith(LOCAL):
        return _local_family(Path(preset[len(LOCAL):]).expanduser())
    if preset in wan.PRESETS:
        return "wan"
    from animator.families.svd import PRESETS

    if preset in PRESETS:
        return "svd"
    known = ", ".join([*PRESETS, *wan.PRESETS])
    raise InputError(f"Unknown preset {preset!r}: choose one of {known}, or {LOCAL}<folder> "
                     "(a pipeline saved with save_pretrained).")


def preset_names() -> list[str]:
    """Every named preset of every family, SVD first (they stay the default)."""
    from animator.families import wan
    from animator.families.svd import PRESETS

    return [*PRESETS, *wan.PRESETS]


def settings_of(preset: str) -> tuple[Setting, ...]:
    """The settings a preset's family declares, with the preset's defaults, without loading
    anything (for page controls and API keyword arguments)."""
    if family_of(preset) == "wan":
        from animator.families import wan

        return wan.settings_for(wan.get_preset(preset))
    from animator.families import svd
    from animator.families.svd import get_preset

    return svd.settings_for(get_preset(preset))


def check_settings(preset: str, overrides, device: str | None = None) -> dict:
    """The caller's generation settings for `preset` (None values dropped), checked before
    any work: unknown names and values its family cannot use (on `device`, when given)."""
    if family_of(preset) == "wan":
        from animator.families import wan

        return wan.check_settings(wan.get_preset(preset), overrides, device)
    from animator.families import svd

    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values = resolve_settings(settings_of(preset), given)
    return svd.check_settings({k: values[k] for k in given}, device)


def load_options_of(preset: str) -> tuple[Setting, ...]:
    """The load options a preset's family takes (the Wan memory mode, fp8, fast; none for
    SVD), with their defaults."""
    if family_of(preset) == "wan":
        from animator.families import wan

        return wan.LOAD_OPTIONS
    return ()


def estimate_cpu_seconds(preset: str, num_frames: int, width: int, height: int,
                         overrides=None) -> float:
    """Seconds the preset's full-size model would take on this CPU for a clip of
    `num_frames` at width x height, with the caller's setting overrides (both families)."""
    values = resolve_settings(settings_of(preset), overrides)
    values.update(width=width, height=height)
    if family_of(preset) == "wan":
        from animator.families.wan import cost

        return cost.estimate_cpu_seconds(num_frames, values)
    from dataclasses import fields

    from animator.families.svd import get_preset
    from animator.families.svd.config import GenerationConfig
    from animator.families.svd.cost import estimate_cpu_seconds as svd_seconds

    svd = get_preset(preset)
    config = GenerationConfig(**{f.name: values[f.name] for f in fields(GenerationConfig)})
    return svd_seconds(num_frames, config, anchor=svd.reference_anchor)


def load_generator(preset: str, *, device: str = "cpu", dtype=None, weights_dir=None,
                   low_memory: bool = False, allow_download: bool = True,
                   progress=None, **options) -> Generator:
    """Load the preset's model as its family's generator. `options` are family load
    options (`load_options_of`: the Wan family's memory mode, fp8 and `fast`); options
    left at None or at their defaults are dropped, so one set of options can be passed
    for any preset, and those its family lacks are refused only when set."""
    from animator.families import wan

    declared = {s.name: s for s in load_options_of(preset)}
    unset = {s.name: s.default for s in wan.LOAD_OPTIONS}  # every family's option defaults
    options = {k: v for k, v in options.items() if v is not None
               and not (k not in declared and k in unset and unset[k] == v)}
    options = {k: declared[k].check(v) if k in declared else v for k, v in options.items()}
    if family_of(preset) == "wan":
        from animator.families import wan

        return wan.load(preset, device=device, dtype=dtype, weights_dir=weights_dir,
                        low_memory=low_memory, allow_download=allow_download,
                        progress=progress, **options)
    if options:
        raise InputError(f"The SVD presets take no load option {sorted(options)}.")
    from animator.families import svd

    return svd.load(preset, device=device, dtype=dtype, weights_dir=weights_dir,
                    low_memory=low_memory, allow_download=allow_download, progress=progress)


__all__ = ["FAMILIES", "GenerationInputs", "GenerationResult", "Generator", "Setting",
           "check_settings", "estimate_cpu_seconds", "family_of", "load_generator",
           "load_options_of", "preset_names", "resolve_settings", "settings_of"]
