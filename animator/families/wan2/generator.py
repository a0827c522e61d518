"""`Wan2Generator`: one Wan-Animate-2 generation from what the front end made.

The model is driven by the raw driving video, so the front end's part is which frames and
which part of them: the driving frames at full resolution (when the front end can give
them), already resampled by the front end to the model's 24 fps (so the library's own
resampling is left off and the output is one frame per driving frame, as long as the
driver), cropped to the chosen person (`inputs.py`); and the portrait as read, with a
notice when it is framed tighter than the driver (the model then invents what it lacks). The library
does the rest, unchanged: letterboxing, segments, zigzag padding, trimming, cropping the
letterbox off again. Its text step runs once per prompt (`text.py`); the other blocks run as
the library's own modular pipeline with those embeddings as inputs, so with the same inputs
our frames are the library call's frames (tests/families/wan2/test_family.py).

Clips shorter than one segment are held on their last frame up to a segment (the
library's padding needs that many frames) and cut back after.

Progress: the library's segment loop has no step callback, so the scheduler's `step` is
wrapped for the call (each denoising step calls it once): progress per segment and step,
and Stop between steps (`Cancelled` raised from the callback ends the call).
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from animator.errors import InputError
from animator.families.base import (
    GenerationInputs,
    GenerationResult,
    StepCallback,
    Writer,
    resolve_settings,
)
from animator.families.wan2 import inputs as wan2_inputs
from animator.families.wan2.cost import num_segments
from animator.families.wan2.settings import DEFAULT_PROMPT, check_values, settings_for, target_area
from animator.families.wan2.text import PromptEmbeddings


def without_text_step(pipe):
    """The library's pipeline of the same class over its blocks minus the text step, and a
    pipeline of the text step alone, both sharing `pipe`'s components."""
    blocks = copy.deepcopy(pipe.blocks)
    text_block = blocks.sub_blocks.pop("text_encoder")
    components = dict(pipe.components)
    denoise = type(pipe)(blocks=blocks)
    denoise.update_components(**{k: v for k, v in components.items()
                                 if k in denoise.component_names and v is not None})
    text = type(pipe)(blocks=text_block)
    text.update_components(**{k: v for k, v in components.items()
                              if k in text.component_names and v is not None})
    return denoise, text


def canvas_size(height: int, width: int, image_size: tuple[int, int]) -> tuple[int, int]:
    """(height, width) the library resolves from a target area and the portrait's
    (width, height): the area at the portrait's aspect, sides floored to multiples of 16."""
    import math

    w0, h0 = image_size
    aspect = h0 / w0
    area = height * width
    return (int(math.sqrt(area * aspect)) // 16 * 16, int(math.sqrt(area / aspect)) // 16 * 16)


class Wan2Generator:
    """A loaded Wan-Animate-2 modular pipeline as a `Generator`."""

    family = "wan2"

    def __init__(self, pipe, preset, *, embeddings: PromptEmbeddings | None = None,
                 notices: Sequence[str] = (), load_options: dict | None = None):
        self.pipe = pipe  # the library's whole pipeline (its text encoder may be absent)
        self.preset = preset
        self.settings = settings_for(preset)
        self.denoise, text = without_text_step(pipe)
        length = int(pipe.transformer.config.text_len)
        self.embeddings = embeddings or PromptEmbeddings(text, None, length)
        self.notices = list(notices)
        self.detector_weights: Path | None = None
        self.load_options = dict(load_options or {})  # memory mode, fp8: for the record
        self.fps = preset.defaults.fps  # the front end resamples the driver to it
        self._guiders: dict[float, object] = {}
        self._steps = 1

    # --- settings -------------------------------------------------------------------------

    def resolve(self, inputs: GenerationInputs) -> dict:
        values = check_values(resolve_settings(self.settings, inputs.settings))
        device = str(self.pipe._execution_device)
        if device.startswith("cuda"):  # the size against the card, in the mode loaded
            from animator.families.wan2 import cost

            cost.check_fits(device, values, self.load_options.get("memory", "group"),
                            bool(self.load_options.get("fp8")))
        if inputs.driving_frames is None:
            raise InputError("Wan-Animate-2 is driven by the driving video itself: upload a "
                             "driving video (a built-in motion or a pose file has no frames "
                             "to show it).")
        return values

    def retarget_config(self, config, overrides):
        """The model follows the driving frames from the first: no lead-in from the
        portrait's pose, so the clip is exactly as long as the driver (and its audio)."""
        if config.transition:
            from dataclasses import replace

            return replace(config, transition=0.0)
        return config

    def step_text(self, done: int, total: int, segment: int) -> str:
        steps = self._steps
        return (f"segment {segment + 1}/{max(1, total // steps)}, step "
                f"{(done - 1) % steps + 1}/{steps}")

    # --- the call -------------------------------------------------------------------------

    def prepare(self, inputs: GenerationInputs, values: dict) -> dict:
        """{"kwargs": the library's inputs besides the prompts and the generator, "prompts":
        (prompt, negative or None, reference prompt), "window": the driving crop or None,
        "notices"}."""
        notices = []
        frames = inputs.driving_frames  # at the input limits' size, as the footage was read
        index = list(inputs.driver_index)
        height, width = target_area(values)
        portrait = inputs.portrait
        ch, cw = canvas_size(height, width, (portrait.shape[1], portrait.shape[0]))
        window = None
        if values["driver_crop"] == "person" and inputs.driving_poses is not None:
            fh, fw = frames[0].shape[:2]
            window = wan2_inputs.person_window(inputs.driving_poses, index, fw, fh, cw / ch)
            if window is not None and (window[2] - window[0], window[3] - window[1]) != (fw, fh):
                notices.append(f"The model sees the chosen person's part of the driving video "
                               f"({window[2] - window[0]}x{window[3] - window[1]} of "
                               f"{fw}x{fh}); driver_crop=off shows it the whole frame.")
        driving = [Image.fromarray(wan2_inputs.crop(np.asarray(frames[j]), window))
                   for j in index]
        carried = values["prev_segment_conditioning_frames"]
        segment = values["segment_frame_length"]
        if len(driving) < segment:
            # the library's zigzag padding mirrors frames from before the end, which a clip
            # shorter than one segment lacks: we hold the last frame instead (cut after)
            driving += [driving[-1]] * (segment - len(driving))
        if inputs.source_fps and abs(inputs.source_fps - inputs.poses.fps) > 1e-3:
            notices.append(f"The driving video was resampled from {inputs.source_fps:.3g} to "
                           f"{inputs.poses.fps:g} fps before the model (it generates at "
                           f"{self.fps:g}); the clip keeps the driver's duration and audio.")
        framing = wan2_inputs.framing_notice(inputs.reference, inputs.driving_poses)
        if framing is not None:
            notices.append(framing)
        prompt = values["prompt"].strip() or DEFAULT_PROMPT
        if not values["prompt"].strip():
            notices.append(f"No prompt given: used the default one ({DEFAULT_PROMPT!r}).")
        guidance = values["guidance_scale"] > 1
        negative = values["negative_prompt"] if guidance else None
        kwargs = {
            "image": Image.fromarray(np.asarray(portrait)),
            "driving_video": driving,
            "driving_video_fps": None,  # resampled by the front end already
            "fps": int(round(self.fps)),
            "height": height,
            "width": width,
            "segment_frame_length": values["segment_frame_length"],
            "prev_segment_conditioning_frames": carried,
            "num_inference_steps": values["num_inference_steps"],
            "output_type": "np",
        }
        return {"kwargs": kwargs, "prompts": (prompt, negative, values["prompt_ref"]),
                "window": window, "canvas": (cw, ch), "notices": notices}

    def _guider(self, scale: float):
        """The loaded guider, or one with the run's guidance scale."""
        loaded = self.pipe.guider
        if loaded is not None and float(loaded.guidance_scale) == scale:
            return loaded
        if scale not in self._guiders:
            from diffusers import ClassifierFreeGuidance

            self._guiders[scale] = ClassifierFreeGuidance(guidance_scale=scale)
        return self._guiders[scale]

    def __call__(self, inputs: GenerationInputs, write: Writer, *,
                 callback: StepCallback | None = None) -> GenerationResult:
        values = self.resolve(inputs)
        job = self.prepare(inputs, values)
        kwargs = job["kwargs"]
        total = len(inputs.driver_index)
        seed = values["seed"] if values["seed"] is not None else secrets.randbelow(2**31)
        pipe = self.denoise
        device = pipe._execution_device
        prompt, negative, reference = job["prompts"]
        embeds = self.embeddings(prompt, negative, reference, device)
        steps = values["num_inference_steps"]
        segments = num_segments(len(kwargs["driving_video"]), values["segment_frame_length"],
                                values["prev_segment_conditioning_frames"])
        self._steps = steps
        scheduler = pipe.scheduler
        original, done = scheduler.step, [0]

        def step(*args, **kw):
            out = original(*args, **kw)
            done[0] += 1
            if callback is not None:
                callback(done[0], segments * steps, (done[0] - 1) // steps)
            return out

        guider = self._guider(values["guidance_scale"])
        if pipe.guider is not guider:
            pipe.update_components(guider=guider)
        scheduler.step = step
        try:
            video = pipe(**kwargs, **embeds, generator=torch.Generator("cpu").manual_seed(seed),
                         output="videos")
        finally:
            del scheduler.step
        video = np.asarray(video)[0][:total]
        for frame in video:
            write((frame * 255).round().astype(np.uint8))
        used = {k: v for k, v in values.items() if k not in ("height", "width")}
        size = (int(video.shape[2]), int(video.shape[1]))
        cw, ch = job["canvas"]
        used.update(prompt=prompt, width=size[0], height=size[1], canvas=f"{cw}x{ch}",
                    seed=seed, segments=segments, output_fps=self.fps,
                    driver_window=None if job["window"] is None else list(job["window"]),
                    **self.load_options)
        return GenerationResult(len(video), seed, used, size, job["notices"])
