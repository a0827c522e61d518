"""The Wan-Animate-2 settings: what the page, the API and the CLI offer for its presets, the
load options (the families' shared memory mode and fp8), and the checks made before any
work. There is no mode, mask or background setting: the model has no replace mode."""

from __future__ import annotations

from animator.errors import InputError
from animator.families.base import FP8_OPTION, MEMORY_OPTION, Setting, resolve_settings
from animator.families.wan2.inputs import CROPS
from animator.families.wan2.presets import AREAS, REFERENCE_PROMPT, Wan2Defaults

LOAD_OPTIONS = (MEMORY_OPTION, FP8_OPTION)
DOWNLOAD_OPTIONS: tuple[Setting, ...] = ()
# The default prompt: a short English description in the official caption's order (who,
# what they do, where); the model takes any text, see the README for the official format.
DEFAULT_PROMPT = ("A person in the portrait's clothes moves exactly as in the reference "
                  "video, full body, steady camera, the portrait's background.")
_AREA = "generation area, height x width (the aspect follows the portrait)"
_CARRIED = "frames carried from one segment to the next"


def settings_for(preset, defaults: Wan2Defaults | None = None) -> tuple[Setting, ...]:
    """The settings of a Wan-Animate-2 preset (`presets.Wan2Preset`)."""
    d = defaults or preset.defaults
    return (
        Setting("prompt", str, DEFAULT_PROMPT, "what the clip shows: the character, the "
                "motion, the scene (edit it; see the README for the official caption format)",
                widget="text", label="Prompt (optional)", elem_id="prompt",
                placeholder="e.g. a person dances on a stage", follows_preset=True,
                flag="--prompt"),
        Setting("prompt_ref", str, REFERENCE_PROMPT, "the reference pass's prompt (the "
                "library's default: 'a reference video of the person's motion', in Chinese)",
                flag="--reference-prompt"),
        Setting("negative_prompt", str, "", "what to avoid; used only with guidance > 1",
                flag="--negative-prompt"),
        Setting("area", str, d.area, _AREA, choices=tuple(AREAS), flag="--area",
                flag_help=f"wan-animate-2: {_AREA} (default: {d.area})"),
        Setting("height", int, None, "target area's height, multiple of 16 (with width: "
                "overrides area)", minimum=16, flag="--height"),
        Setting("width", int, None, "target area's width, multiple of 16", minimum=16,
                flag="--width"),
        Setting("segment_frame_length", int, d.segment_frame_length,
                "frames per segment, 4N+1 (81 as published)", minimum=5, widget="slider",
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
                "(the distilled model's)", minimum=0, widget="slider",
                label="Guidance (1 = off)", span=(1, 10), step=0.1, page_name="guidance",
                flag="--guidance"),
        Setting("seed", int, 42, "random seed; empty: a new one every run", minimum=0,
                flag="--seed"),
        Setting("driver_crop", str, "person", "what the model sees of the driving video: "
                "person = a window around the chosen person (--person), off = the whole "
                "frame (the library's own input)", choices=CROPS, widget="radio",
                label="Wan-Animate-2: driving video seen", flag="--driver-crop"),
    )


def check_values(values: dict) -> dict:
    """Resolved settings checked for what the library can run, before any work is done."""
    segment = values["segment_frame_length"]
    if segment % 4 != 1:
        raise InputError(f"segment_frame_length must be 4N+1 (e.g. 81); got {segment}.")
    if segment <= 2 * values["prev_segment_conditioning_frames"]:
        raise InputError("segment_frame_length must be more than twice the frames carried "
                         "between segments (prev_segment_conditioning_frames).")
    given = [values["height"] is not None, values["width"] is not None]
    if any(given) and not all(given):
        raise InputError("Give both height and width, or neither (then area decides).")
    if all(given) and (values["height"] % 16 or values["width"] % 16):
        raise InputError(f"height and width must be multiples of 16; got "
                         f"{values['width']}x{values['height']}.")
    return values


def target_area(values: dict) -> tuple[int, int]:
    """(height, width) of the target area the library fits the portrait's aspect into."""
    if values["height"] is not None:
        return values["height"], values["width"]
    return AREAS[values["area"]]


def check_settings(preset, overrides, device: str | None = None) -> dict:
    """The caller's overrides for a Wan-Animate-2 preset, checked before anything is loaded
    (on a GPU: whether the size can fit it at all)."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    values = check_values(resolve_settings(settings_for(preset), given))
    if device is not None and str(device).startswith("cuda"):
        from animator.families.wan2 import cost

        cost.check_fits(device, values)
    return {k: values[k] for k in given}
