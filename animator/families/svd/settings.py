"""The SVD family's settings: one `Setting` per `GenerationConfig` field, with the page's
control and the CLI's flag for those that have one, and the checks before any work.

The order below is the page's (and so the API's parameter order): shared controls first
(the size, seed and steps every family has), then guidance, then the advanced ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from animator.errors import InputError
from animator.families.base import MAX_SEED, Setting
from animator.families.svd.config import GENERATION_CHOICES, GenerationConfig

MAX_OUTPUT_SIDE = 2048  # largest custom output width or height
_ADVANCED = {"advanced": True}
# name -> (one line for the page and --help, how the page and the CLI offer it)
_DECLARED: dict[str, tuple[str, dict]] = {
    "width": ("output width in pixels (multiple of 8); default: the preset's size by aspect",
              {"flag": "--width",
               "flag_help": "output width (with --height; default: by the portrait's aspect)"}),
    "height": ("output height in pixels (multiple of 8); default: the preset's size by aspect",
               {"flag": "--height", "flag_help": "output height"}),
    "seed": ("random seed; empty: a new one every run",
             {"flag": "--seed", "flag_help": "random seed (default: the preset's)",
              "maximum": MAX_SEED}),
    "num_inference_steps": ("denoising steps", {
        "widget": "slider", "label": "Steps", "span": (1, 50), "step": 1,
        "page_name": "steps", "follows_preset": True, "flag": "--steps"}),
    "min_guidance_scale": ("guidance at a window's first frame", {
        "widget": "slider", "label": "Guidance (first frame)", "span": (1, 10), "step": 0.1,
        "row": "guidance", "page_name": "min_guidance", "follows_preset": True,
        "flag": "--min-guidance", "flag_help": ""}),
    "max_guidance_scale": ("guidance at a window's last frame; <= 1 turns guidance off", {
        "widget": "slider", "label": "Guidance (last frame)", "span": (1, 10), "step": 0.1,
        "row": "guidance", "page_name": "max_guidance", "follows_preset": True,
        "flag": "--max-guidance", "flag_help": ""}),
    "window": ("frames denoised together", {
        "widget": "slider", "label": "Window (frames denoised together)", "span": (2, 72),
        "step": 1, "follows_preset": True, "flag": "--window", **_ADVANCED}),
    "overlap": ("frames shared by neighbouring windows", {
        "widget": "slider", "label": "Window overlap (frames)", "span": (0, 16), "step": 1,
        "follows_preset": True, "flag": "--overlap", **_ADVANCED}),
    "pose_strength": ("weight of the pose control; 0 = none", {
        "widget": "slider", "label": "Pose strength", "span": (0, 2), "step": 0.05,
        "flag": "--pose-strength", "flag_help": "", **_ADVANCED}),
    "identity_strength": ("weight of the face identity; 0 = none", {
        "widget": "slider", "label": "Identity strength", "span": (0, 2), "step": 0.05,
        "flag": "--identity-strength", "flag_help": "", **_ADVANCED}),
    "decode_chunk_size": ("frames the VAE decodes at once", {
        "widget": "slider", "label": "Decode chunk (frames)", "span": (1, 16), "step": 1,
        "page_name": "decode_chunk", "follows_preset": True, "flag": "--decode-chunk",
        "flag_help": "", **_ADVANCED}),
    "cfg_mode": ("guidance batched (faster) or sequential (less memory)", {
        "widget": "radio", "label": "Guidance mode (sequential = less memory)",
        "flag": "--cfg-mode", "flag_help": "", **_ADVANCED}),
    "sigma_schedule": ("noise levels: the scheduler's own, or Align Your Steps (try 10 steps)", {
        "widget": "radio", "label": "Noise schedule (ays = Align Your Steps: try 10 steps)",
        "page_name": "schedule", "flag": "--schedule",
        "flag_help": "noise levels: the scheduler's own, or Align Your Steps for SVD (use with "
                     "--steps 10)", **_ADVANCED}),
    "window_noise": ("independent noise per frame, or one window's noise repeated along the "
                     "clip (the public code)", {
        "widget": "radio", "label": "Starting noise (repeat = one window's noise along the "
                                    "clip, as the public code)",
        "follows_preset": True, "flag": "--window-noise",
        "flag_help": "independent noise per frame, or one window's noise repeated along the "
                     "clip (the public StableAnimator/MimicMotion code)", **_ADVANCED}),
    "generator_device": ("where the seed's noise is drawn (cuda/auto: the public scripts' "
                         "seeds on a GPU)", {
        "widget": "radio", "label": "Seed's noise drawn on (cuda/auto = the public scripts' "
                                    "seeds on a GPU)",
        "follows_preset": True, "flag": "--generator-device",
        "flag_help": "where the seed's noise is drawn: cuda (or auto on a GPU) reproduces the "
                     "public scripts' seeds", **_ADVANCED}),
    "continuation": ("windows one after another instead of blended", {
        "flag": "--continuation",
        "flag_help": "windows one after another, each from the previous last frame"}),
    "fps": ("SVD frame-rate conditioning", {}),
    "motion_bucket_id": ("SVD motion conditioning", {}),
    "noise_aug_strength": ("noise added to the portrait before encoding", {}),
}
_TYPES = {"int": int, "float": float, "str": str, "bool": bool, "int | None": int}


def settings_for(preset) -> tuple[Setting, ...]:
    """The settings of an SVD preset (`Preset`), its own defaults filled in."""
    defaults = asdict(preset.defaults)
    kinds = {f.name: _TYPES[f.type if isinstance(f.type, str) else f.type.__name__]
             for f in fields(GenerationConfig)}
    assert kinds.keys() == _DECLARED.keys(), "every GenerationConfig field is declared once"
    out = []
    for name, (help_text, offered) in _DECLARED.items():
        kind = kinds[name]
        default = None if name in ("height", "width") else defaults[name]
        out.append(Setting(name, kind, default, help_text, GENERATION_CHOICES.get(name),
                           minimum=0 if kind in (int, float) else None, **offered))
    return tuple(out)


def check_settings(overrides: Mapping[str, Any] | None,
                   device: str | None = None) -> dict[str, Any]:
    """The caller's generation settings (None = the preset's), checked before any work is
    done: unknown names, and values no SVD preset can use (on `device`, when given)."""
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    names = [f.name for f in fields(GenerationConfig)]
    unknown = set(overrides) - set(names)
    if unknown:
        raise InputError(f"Unknown generation setting(s) {sorted(unknown)}; the settings "
                         f"are {names}.")
    for name, allowed in GENERATION_CHOICES.items():
        if name in overrides and overrides[name] not in allowed:
            raise InputError(f"{name} must be one of {', '.join(map(repr, allowed))}, got "
                             f"{overrides[name]!r}.")
    if overrides.get("generator_device") == "cuda" and device and not device.startswith("cuda"):
        raise InputError("generator_device 'cuda' needs the model on a GPU, and this one runs "
                         f"on {device}: use 'auto' or 'cpu'.")
    width, height = overrides.get("width"), overrides.get("height")
    if (width is None) != (height is None):
        raise InputError("Give both the output width and height, or neither (then the size "
                         "follows the portrait).")
    if width is not None and not all(
            isinstance(v, int) and 8 <= v <= MAX_OUTPUT_SIDE and v % 8 == 0
            for v in (width, height)):
        raise InputError(f"The output size must be multiples of 8 from 8 to {MAX_OUTPUT_SIDE} "
                         f"pixels on each side; got {width}x{height} (width x height). Try "
                         "576x1024 or 512x512.")
    for name, low in (("num_inference_steps", 1), ("window", 2), ("decode_chunk_size", 1),
                      ("overlap", 0)):
        if name in overrides and overrides[name] < low:
            raise InputError(f"{name} must be at least {low}, got {overrides[name]}.")
    if "window" in overrides and overrides.get("overlap", 0) >= overrides["window"]:
        raise InputError(f"The window overlap ({overrides['overlap']}) must be smaller than "
                         f"the window ({overrides['window']}).")
    return overrides
