"""The Wan family's settings: generation settings per preset, load options (memory mode,
fp8, the fast LoRA), how the page and the CLI offer them, and the checks the library needs
before any work (segment lengths, sizes)."""

from __future__ import annotations

from animator.errors import InputError
from animator.families.base import (
    FP8_OPTION,
    MAX_SEED,
    MEMORY_MODES,
    MEMORY_OPTION,
    Setting,
    resolve_settings,
)
from animator.families.wan.inputs import MASK_SOURCES
from animator.families.wan.presets import AREAS, WanDefaults

MODES = ("animate", "replace")
__all__ = ["LOAD_OPTIONS", "MEMORY_MODES", "MODES", "check_settings", "check_values",
           "settings_for"]
# What `load` takes besides the common arguments, for the page, the API and the CLI; a
# change of any of them reloads the model. The memory mode and fp8 are the families' shared
# ones (`families.base`).
LOAD_OPTIONS = (
    MEMORY_OPTION,
    FP8_OPTION,
    # Unticked again when another preset is chosen: its steps are the model's then.
    Setting("fast", bool, False, "load the 4-step distillation LoRA (4 steps, shift 5)",
            widget="checkbox", label="Fast: 4-step LoRA", elem_id="fast",
            follows_preset=True, flag="--fast"),
)
_AREA = "generation area (the aspect follows the portrait, or the footage in replace mode)"
_CARRIED = "frames carried from one segment to the next"
DOWNLOAD_OPTIONS = (
    Setting("fast", bool, False, "also fetch the 4-step distillation LoRA", flag="--fast",
            flag_help="wan-animate: also fetch the 4-step distillation LoRA"),
)


def settings_for(preset, defaults: WanDefaults | None = None) -> tuple[Setting, ...]:
    """The settings of a Wan preset (`presets.WanPreset`); `defaults`: the sampling ones in
    force (the preset's, or its `fast` ones when the LoRA is loaded)."""
    d = defaults or preset.defaults
    return (
        Setting("prompt", str, d.prompt, "what the clip shows (default: the public "
                "script's 视频中的人在做动作, 'the person in the video is moving')",
                widget="text", label="Prompt", elem_id="prompt",
                placeholder="e.g. a person dances on a stage", flag="--prompt"),
        Setting("negative_prompt", str, d.negative_prompt, "what to avoid; used only with "
                "guidance > 1 (default: the public config's negative prompt)",
                flag="--negative-prompt"),
        Setting("mode", str, "animate", "animate: the portrait moves on its own background; "
                "replace: the portrait's character takes the driver's place in the footage",
                choices=MODES, widget="radio", label="Mode (replace = the portrait's character "
                "in the driving footage)", elem_id="wan_mode", flag="--mode"),
        Setting("resolution", str, "720p", _AREA, choices=tuple(AREAS), widget="radio",
                label="Generation area (with Resolution auto)", page_name="area",
                flag="--resolution", flag_help=f"{_AREA} (default: 720p)"),
        Setting("height", int, None, "output height, multiple of 16 (with width: overrides "
                "resolution)", minimum=16, flag="--height"),
        Setting("width", int, None, "output width, multiple of 16", minimum=16, flag="--width"),
        Setting("segment_frame_length", int, d.segment_frame_length,
                "frames per segment, 4N+1 (77 as trained)", minimum=5, widget="slider",
                label="Segment length (frames, 4N+1)", span=(5, 121), step=4,
                page_name="segment_length", elem_id="segment_length", flag="--segment-length"),
        Setting("prev_segment_conditioning_frames", int, d.prev_segment_conditioning_frames,
                _CARRIED, choices=(1, 5), widget="radio",
                label="Frames carried between segments", page_name="carry_frames",
                flag="--carry-frames", flag_help=f"{_CARRIED} (default: 1)"),
        Setting("num_inference_steps", int, d.num_inference_steps, "denoising steps per "
                "segment", minimum=1, widget="slider", label="Steps", span=(1, 50), step=1,
                page_name="steps", follows_preset=True, flag="--steps"),
        Setting("guidance_scale", float, d.guidance_scale, "classifier-free guidance; 1 = off "
                "(as trained)", minimum=0, widget="slider", label="Guidance (1 = off)",
                span=(1, 10), step=0.1, page_name="guidance", flag="--guidance"),
        Setting("flow_shift", float, None if d is preset.defaults else d.flow_shift,
                "scheduler shift; empty: the model's own", minimum=0),
        Setting("seed", int, 42, "random seed; empty: a new one every run", minimum=0,
                maximum=MAX_SEED, flag="--seed"),
        Setting("keep_background", bool, True, "replace mode: paste the footage back outside "
                "the person's mask, so the background stays exactly as filmed"),
        Setting("mask_source", str, "segmentation", "replace mode: the person's mask from "
                "MediaPipe segmentation or from the pose hull", choices=MASK_SOURCES,
                widget="radio", label="Replace mode: person mask from", flag="--mask-source"),
        Setting("face_smoothing", int, 5, "frames the face box is averaged over", minimum=1),
    )


def check_values(values: dict) -> dict:
    """Resolved settings checked for what the library can run, before any work is done."""
    segment = values["segment_frame_length"]
    if segment % 4 != 1:
        raise InputError(f"segment_frame_length must be 4N+1 (e.g. 77 or 81); got {segment}.")
    if segment <= 2 * values["prev_segment_conditioning_frames"]:
        # the library's segment count is only right when each segment adds more frames
        # than it carries over
        raise InputError("segment_frame_length must be more than twice the frames "
                         "carried between segments (prev_segment_conditioning_frames).")
    given = [values["height"] is not None, values["width"] is not None]
    if any(given) and not all(given):
        raise InputError("Give both height and width, or neither (then resolution decides).")
    if all(given) and (values["height"] % 16 or values["width"] % 16):
        raise InputError(f"height and width must be multiples of 16; got "
                         f"{values['width']}x{values['height']}.")
    return values


def check_settings(preset, overrides, device: str | None = None) -> dict:
    """The caller's overrides for a Wan preset, checked before anything is loaded."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values = check_values(resolve_settings(settings_for(preset), given))
    return {k: values[k] for k in given}
