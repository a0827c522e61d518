"""The retargeting settings checked: every number finite and in its range, every switch a
bool, named in the message. NaN passes every comparison the steps make, so an unchecked
NaN lead-in or smoothing window would reach the arithmetic; the page, the API, the CLI and
batch jobs all fill `RetargetConfig`, and all of them are checked here, before any work."""

from __future__ import annotations

import math
from dataclasses import fields
from numbers import Real

from animator.config import RetargetConfig
from animator.errors import InputError

# field -> (lowest, highest) allowed, inclusive; whole numbers where the default is an int
RANGES: dict[str, tuple[float, float]] = {
    "threshold": (0.0, 1.0),
    "hand_threshold": (0.0, 1.0),
    "transition": (0.0, 30.0),
    "max_step": (1e-3, 10.0),
    "smoothing": (0, 999),
    "root_motion": (0.0, 1.0),
    "ratio_clip": (1.0, 10.0),
    "length_quantile": (0.0, 1.0),
}


def check_retarget_config(config: RetargetConfig) -> RetargetConfig:
    """`config` when every field is usable, else an InputError naming the field."""
    for f in fields(RetargetConfig):
        value = getattr(config, f.name)
        if f.name in RANGES:
            low, high = RANGES[f.name]
            whole = isinstance(f.default, int)
            if isinstance(value, bool) or not isinstance(value, Real) \
                    or not math.isfinite(value) or (whole and not float(value).is_integer()):
                kind = "whole number" if whole else "finite number"
                raise InputError(f"The retargeting setting {f.name} must be a {kind}, got "
                                 f"{value!r}.")
            if not low <= value <= high:
                raise InputError(f"The retargeting setting {f.name} must be from {low:g} to "
                                 f"{high:g}, got {value!r}.")
        elif f.name == "multipliers":
            if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
                raise InputError("The proportion multipliers must map body parts to numbers, "
                                 f"e.g. {{\"arms\": 1.1}}; got {value!r}.")
        elif not isinstance(value, bool):
            raise InputError(f"The retargeting setting {f.name} must be true or false, got "
                             f"{value!r}.")
    return config
