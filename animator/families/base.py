"""The generator boundary: what the front end hands a backbone family, and what it gets back.

`Animator` makes the same things for every family (the portrait, the portrait's pose, the
retargeted poses, the driver's frames and keypoints, the audio) and a family turns them
into frames. Keeping that hand-over one small dataclass and one call means a new backbone
is a folder under `animator/families/` and a line in the factory, with no branch on the
family anywhere in the flow. Each family declares its settings (`Setting`) so that the
page, the API and the CLI can show and check them without knowing the family.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from animator.errors import InputError
from animator.pose.skeleton import PoseSequence

Writer = Callable[[np.ndarray], None]  # receives each output frame, RGB uint8, in order
StepCallback = Callable[[int, int, int], None]  # (steps done, steps in all, window/segment)


@dataclass(frozen=True)
class Setting:
    """One generation setting a family accepts: enough for a page control or a CLI flag."""

    name: str  # keyword argument name
    type: type  # int, float, str or bool
    default: Any  # value used when the caller gives none (None: decided per run)
    help: str  # one line for tooltips and --help
    choices: tuple[Any, ...] | None = None  # allowed values, when the setting is a choice
    minimum: float | None = None  # inclusive bounds for numbers
    maximum: float | None = None

    def check(self, value: Any) -> Any:
        """`value` converted to the setting's type, or an InputError that says what fits."""
        if value is None:
            return None
        try:
            if self.type is bool and isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                converted = value.lower() in ("true", "1", "yes")
            elif self.type is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            else:
                converted = self.type(value)
        except (TypeError, ValueError) as error:
            raise InputError(f"Setting {self.name!r} must be a {self.type.__name__}, got "
                             f"{value!r}.") from error
        if self.choices is not None and converted not in self.choices:
            raise InputError(f"Setting {self.name!r} must be one of "
                             f"{', '.join(map(str, self.choices))}; got {value!r}.")
        if self.minimum is not None and converted < self.minimum:
            raise InputError(f"Setting {self.name!r} must be at least {self.minimum}; got "
                             f"{value!r}.")
        if self.maximum is not None and converted > self.maximum:
            raise InputError(f"Setting {self.name!r} must be at most {self.maximum}; got "
                             f"{value!r}.")
        return converted


def resolve_settings(declared: Sequence[Setting], overrides: Mapping[str, Any] | None,
                     defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every declared setting's value: the caller's override (checked), else `defaults`
    (a preset's own), else the declared default. Unknown names are refused with the list."""
    by_name = {s.name: s for s in declared}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(by_name))
    if unknown:
        raise InputError(f"Unknown generation setting(s) {unknown}; this model takes "
                         f"{sorted(by_name)}.")
    values = {}
    for setting in declared:
        if setting.name in overrides:
            values[setting.name] = setting.check(overrides[setting.name])
        elif defaults is not None and setting.name in defaults:
            values[setting.name] = defaults[setting.name]
        else:
            values[setting.name] = setting.default
    return values


@dataclass
class GenerationInputs:
    """What the front end made, in the pixels it was made in; families frame it themselves
    (their sizes differ). Output frame i goes with `poses.keypoints[i]` and with driving
    frame `driver_index[i]` (lead-in frames point at the first driving frame)."""

    portrait: np.ndarray  # RGB uint8, as read
    reference: PoseSequence  # the portrait's own pose, one frame, portrait pixels
    poses: PoseSequence  # retargeted motion, portrait pixels, one frame per output frame
    driver_index: Sequence[int]  # per output frame: the driving frame behind it
    driving_frames: Sequence[np.ndarray] | None = None  # RGB; None for motions/pose files
    driving_poses: PoseSequence | None = None  # the driver's keypoints (its face track)
    audio: Path | None = None  # file whose audio goes with the output (the writer muxes it)
    settings: Mapping[str, Any] = field(default_factory=dict)  # the caller's overrides

    def __post_init__(self) -> None:
        if len(self.driver_index) != len(self.poses):
            raise ValueError(f"driver_index has {len(self.driver_index)} entries for "
                             f"{len(self.poses)} poses")


@dataclass
class GenerationResult:
    """What a generator reports after writing its frames."""

    frames: int  # frames written (always len(inputs.poses))
    seed: int  # the seed used
    settings: dict[str, Any]  # every setting used, for the record
    size: tuple[int, int]  # (width, height) of the frames written
    notices: list[str] = field(default_factory=list)


@runtime_checkable
class Generator(Protocol):
    """A loaded model of one family. `__call__` writes exactly one frame per pose, in
    order, through `write`, and may raise `animator.errors.Cancelled` from `callback`."""

    family: str  # the family's folder name under animator/families/
    settings: tuple[Setting, ...]  # what `inputs.settings` may set, with their defaults
    notices: list[str]  # things the user should know from loading (what was left out)
    detector_weights: Path | None  # pose-detector weights that came with the model, if any
    fps: float | None  # output frame rate when the caller asks for none (None: the video's)

    def retarget_config(self, config, overrides: Mapping[str, Any] | None):
        """The retargeting to use with these settings (e.g. no lead-in in replace mode)."""
        ...

    def step_text(self, done: int, total: int, window: int) -> str:
        """The running call's progress in the family's terms ("step 2/20, window 1/3")."""
        ...

    def __call__(self, inputs: GenerationInputs, write: Writer, *,
                 callback: StepCallback | None = None) -> GenerationResult: ...
