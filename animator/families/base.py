"""The family boundary: what a backbone family declares, what the front end hands it, and
what it gets back.

`Animator` makes the same things for every family (the portrait, the portrait's pose, the
retargeted poses, the driver's frames and keypoints, the audio) and a family turns them
into frames. Keeping that hand-over one small dataclass and one call (`Generator`), and
what a family offers one object (`Family`: its presets, settings, download, loading),
means a new backbone is a folder under `animator/families/` and a line in the registry,
with no branch on the family anywhere in the flow, the page, the API or the CLI. Each
family declares its settings (`Setting`) so that those can show and check them without
knowing the family.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from animator.errors import InputError
from animator.pose.skeleton import PoseSequence

Writer = Callable[[np.ndarray], None]  # receives each output frame, RGB uint8, in order
StepCallback = Callable[[int, int, int], None]  # (steps done, steps in all, window/segment)


WIDGETS = ("slider", "radio", "checkbox", "text", "dropdown", "number")
MAX_SEED = 2**32 - 1  # every family's seed range: numpy's, and exact in the page's number box
MAX_INT = 2**63 - 1  # bound of whole-number settings that declare none (torch's int64)


@dataclass(frozen=True)
class Setting:
    """One setting a family accepts, and how the page, the API and the CLI offer it.

    A setting with no `widget` is not on the page (nor an API parameter); one with no
    `flag` is not on the command line; both are still taken by name by the library and in
    batch jobs. Two families that declare the same page name or flag share one control or
    flag (the first family's declaration draws it), e.g. steps and seed.
    """

    name: str  # keyword argument name (the library's, batch jobs')
    type: type  # int, float, str or bool
    default: Any  # value used when the caller gives none (None: decided per run)
    help: str  # one line for tooltips and --help
    choices: tuple[Any, ...] | None = None  # allowed values, when the setting is a choice
    minimum: float | None = None  # inclusive bounds for numbers
    maximum: float | None = None
    # --- the page and its API
    widget: str | None = None  # one of WIDGETS; None: not on the page
    label: str = ""  # the control's label
    span: tuple[float, float] | None = None  # a slider's range (may be narrower than the bounds)
    step: float | None = None  # a slider's step
    advanced: bool = False  # inside the settings' "Advanced" accordion
    row: str | None = None  # neighbouring controls with the same row name sit side by side
    page_name: str | None = None  # page/API parameter name when it is not `name`
    elem_id: str | None = None  # the control's element id, when the page has given it one
    placeholder: str | None = None  # a text box's hint
    # The page resets it to the chosen preset's default, and an API call that names another
    # preset than the page's but leaves it at the page's value gets that preset's default.
    follows_preset: bool = False
    # --- the command line
    flag: str | None = None  # e.g. "--steps" (the value lands under `name`); None: no flag
    flag_help: str | None = None  # --help text when it is not `help` ("" = none)

    def __post_init__(self) -> None:
        if self.widget is not None and self.widget not in WIDGETS:
            raise ValueError(f"{self.name}: widget must be one of {WIDGETS}, got "
                             f"{self.widget!r}")

    @property
    def api_name(self) -> str:
        """The page's and the API's name for it."""
        return self.page_name or self.name

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
        except (TypeError, ValueError, OverflowError) as error:
            kind = {int: "whole number", float: "number"}.get(self.type, self.type.__name__)
            raise InputError(f"Setting {self.name!r} must be a {kind}, got "
                             f"{value!r}.") from error
        if isinstance(converted, float) and not math.isfinite(converted):
            # NaN passes every comparison below, and infinity is no setting's value
            raise InputError(f"Setting {self.name!r} must be a finite number, got {value!r}.")
        if self.choices is not None and converted not in self.choices:
            raise InputError(f"Setting {self.name!r} must be one of "
                             f"{', '.join(map(str, self.choices))}; got {value!r}.")
        if self.minimum is not None and converted < self.minimum:
            raise InputError(f"Setting {self.name!r} must be at least {self.minimum:g}; got "
                             f"{value!r}.")
        maximum = MAX_INT if self.maximum is None and self.type is int else self.maximum
        if maximum is not None and converted > maximum:
            raise InputError(f"Setting {self.name!r} must be at most "
                             f"{maximum if self.type is int else f'{maximum:g}'}; got "
                             f"{value!r}.")
        if self.type is int and converted < -MAX_INT:
            raise InputError(f"Setting {self.name!r} must be at least {-MAX_INT}; got "
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
    source_fps: float | None = None  # the driver's own frame rate, before resampling

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
    # Optional `resampling` ("filter" when absent): how the driving video is brought to that
    # rate (animator.video.read: "filter" or "nearest", the public Wan preprocessing's).

    def retarget_config(self, config, overrides: Mapping[str, Any] | None):
        """The retargeting to use with these settings (e.g. no lead-in in replace mode)."""
        ...

    def step_text(self, done: int, total: int, window: int) -> str:
        """The running call's progress in the family's terms ("step 2/20, window 1/3")."""
        ...

    def __call__(self, inputs: GenerationInputs, write: Writer, *,
                 callback: StepCallback | None = None) -> GenerationResult: ...


@dataclass(frozen=True)
class Command:
    """A subcommand a family adds to `python -m animator` (the SVD family's `train`); it
    parses the rest of the command line itself."""

    name: str
    help: str  # one line for `python -m animator --help`
    main: Callable[[list[str]], int]  # the arguments after the command's name -> exit code


@runtime_checkable
class Family(Protocol):
    """One family of generators. Its folder exposes one as `FAMILY` in its `__init__.py`,
    and one line of the registry (`animator/families/__init__.py`) lists that folder; the
    page, the API, the CLI and batch jobs know families only through the registry's
    functions over these. Preset names passed in are the family's own (or `local:`
    folders it owns); nothing heavy (weights, torch models) is touched before `load` and
    `download`."""

    name: str  # its folder's name under animator/families/
    title: str  # how messages name it ("SVD", "Wan")
    cli_group: str | None  # title of its flags' group in --help; None: the generation group
    smoke_tests: tuple[str, ...]  # presets that run anywhere in seconds (their output is noise)
    download_options: tuple[Setting, ...]  # `download` flags besides --preset/--weights-dir
    commands: tuple[Command, ...]  # subcommands of its own (e.g. training)
    local_classes: tuple[str, ...]  # pipeline classes of its `local:` folders (model_index.json)

    def presets(self) -> dict[str, str]:
        """Its named presets, in menu order, with one line of description each."""
        ...

    def describe(self, preset: str) -> str:
        """One line about the preset (a `local:` one too)."""
        ...

    def settings(self, preset: str, load_options: Mapping[str, Any] | None = None
                 ) -> tuple[Setting, ...]:
        """The generation settings with the preset's defaults (as they are once loaded with
        `load_options`, e.g. a distillation LoRA's fewer steps)."""
        ...

    def load_options(self, preset: str) -> tuple[Setting, ...]:
        """What `load` takes besides the common arguments; changing one reloads."""
        ...

    def check_settings(self, preset: str, overrides: Mapping[str, Any] | None,
                       device: str | None = None) -> dict[str, Any]:
        """The caller's settings (None values dropped), checked before any work."""
        ...

    def estimate_cpu_seconds(self, preset: str, num_frames: int, width: int, height: int,
                             overrides: Mapping[str, Any] | None = None) -> float:
        """Seconds the preset's full-size model would take on this CPU for the clip."""
        ...

    def cpu_estimate(self, preset: str) -> tuple[str, str]:
        """(the real preset an estimate is for, "a 4-second clip at ... would take ...")."""
        ...

    def output_fps(self, preset: str) -> float | None:
        """Its output frame rate when the caller asks for none (None: the video's own)."""
        ...

    def gpu_offer(self, device: str) -> str | None:
        """A sentence offering its presets when this GPU is big enough for them, or None."""
        ...

    def download(self, preset: str, *, weights_dir: str | Path | None = None,
                 progress: Callable[[float, str], object] | None = None,
                 notify: Callable[[str], object] = print, **options) -> list[Path]:
        """Fetch what the preset needs (saying first, through `notify`, what and under which
        terms); the folders that hold it. `options`: its `download_options`."""
        ...

    def load(self, preset: str, *, device: str = "cpu", dtype=None, weights_dir=None,
             low_memory: bool = False, allow_download: bool = True, progress=None,
             **options) -> Generator:
        """The preset's model as a generator; `options`: its `load_options`, checked."""
        ...


# --- memory modes, shared by the families that load large diffusers models -----------------

MEMORY_MODES = ("auto", "none", "model", "group")
MEMORY_OPTION = Setting(
    "memory", str, "auto", "where the weights live: auto (by the card's memory), none (all on "
    "the GPU), model (CPU offload per model), group (block by block, 24 GB)",
    choices=MEMORY_MODES, widget="radio", label="Memory mode (group = 24 GB cards)",
    flag="--memory")
FP8_OPTION = Setting("fp8", bool, False, "store the transformer's weights in float8 (half the "
                     "memory)", widget="checkbox", label="fp8 weights (half the memory)",
                     flag="--fp8")


def apply_memory_mode(pipe, mode: str, device: str, fp8: bool = False, *,
                      model_offload: Callable[[Any, str], None] | None = None,
                      headroom: float = 1.6) -> str:
    """Put a pipeline with a `transformer` (and maybe an `image_encoder` and a `vae`) on
    `device` in a memory mode; returns the mode used.

    - "none": everything on the device; "auto" picks it off the GPU and on cards with
      `headroom` times the transformer's weights, else "group";
    - "model": one model at a time on the GPU (`model_offload(pipe, device)`; default:
      the pipeline's `enable_model_cpu_offload`);
    - "group": diffusers' group offloading, the transformer block by block with CUDA streams
      (transfers overlap compute), the image encoder and the VAE leaf by leaf;
    - `fp8`: the transformer's weights stored in float8 and cast per layer when used
      (diffusers' layerwise casting), halving their memory.
    On a GPU the VAE decodes in spatial tiles, so segment ends never spike.
    """
    import torch

    if mode not in MEMORY_MODES:
        raise InputError(f"memory mode must be one of {', '.join(MEMORY_MODES)}; got {mode!r}.")
    on_gpu = str(device).startswith("cuda")
    if mode == "auto":
        mode = "none"
        if on_gpu:
            total = torch.cuda.get_device_properties(torch.device(device)).total_memory
            weights = sum(p.numel() * p.element_size() for p in pipe.transformer.parameters())
            mode = "none" if total > headroom * weights / (2 if fp8 else 1) else "group"
    if fp8:
        pipe.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                                  compute_dtype=pipe.transformer.dtype)
    if mode == "none" or not on_gpu:
        pipe.to(device)
    elif mode == "model":
        if model_offload is None:
            pipe.enable_model_cpu_offload(device=device)
        else:
            model_offload(pipe, device)
    else:
        from diffusers.hooks import apply_group_offloading

        onload = torch.device(device)
        pipe.transformer.enable_group_offload(onload, offload_type="block_level",
                                              num_blocks_per_group=1, use_stream=True)
        for name in ("image_encoder", "vae"):
            module = getattr(pipe, name, None)
            if module is not None:
                apply_group_offloading(module, onload_device=onload, offload_type="leaf_level")
    if on_gpu:
        pipe.vae.enable_tiling()
    return mode


# --- text encoders loaded only while a prompt is encoded ------------------------------------


def with_text_encoder(pipe, load_encoder: Callable[[], Any] | None, device, run: Callable[[], Any],
                      attach: Callable[[Any], None] | None = None) -> Any:
    """`run()` with a text encoder on `device` in `pipe.text_encoder`.

    The Wan families' umT5-XXL encoder is a third of their memory and runs once per prompt,
    so their pipelines are loaded without it: `load_encoder()` loads it for the call, and it
    is dropped (and the memory freed) after. With `load_encoder` None the pipeline's own
    encoder is used and moved back where it was. `attach(encoder or None)` puts it in the
    pipeline (default: the `text_encoder` attribute).
    """
    import gc

    import torch

    def put(encoder):
        if attach is None:
            pipe.text_encoder = encoder
        else:
            attach(encoder)

    encoder = pipe.text_encoder if load_encoder is None else load_encoder()
    before = next(encoder.parameters()).device
    put(encoder.to(device))
    try:
        return run()
    finally:
        if load_encoder is None:
            encoder.to(before)
        else:
            put(None)
            del encoder
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
