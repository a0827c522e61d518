"""`WanGenerator`: one Wan-Animate generation from what the front end made.

It draws the retargeted poses in Wan's style at the generation size, makes the face video
from the driver's face track, frames the portrait, and in replace mode makes the mask and
the background from the driving footage; then it makes one `WanAnimatePipeline` call with
cached prompt embeddings and writes one frame per pose. With `keep_background` off and the
same inputs, its frames are the library call's frames (tests/families/test_wan_family.py).

Length: the library pads the pose video to whole segments and cuts the output back to the
input length, but fails on inputs no longer than the frames carried between segments; we
repeat the last frame up to one more than that and cut again, so any length works.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from pathlib import Path

import cv2
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
from animator.families.wan import inputs as wan_inputs
from animator.families.wan.presets import AREAS, WanDefaults
from animator.families.wan.settings import check_values, settings_for
from animator.families.wan.text import PromptEmbeddings
from animator.pose.render import draw_pose_wan
from animator.pose.skeleton import FACE


def num_segments(frames: int, segment: int, carried: int) -> int:
    """How many segments the library runs for `frames` pose frames (its own rounding)."""
    step = segment - carried
    rest = (frames - carried) % step
    return (frames + (step - rest if rest else 0)) // step


class WanGenerator:
    """A loaded `WanAnimatePipeline` as a `Generator`."""

    family = "wan"

    def __init__(self, pipe, preset, *, defaults: WanDefaults | None = None,
                 embeddings: PromptEmbeddings | None = None, notices: Sequence[str] = (),
                 load_options: dict | None = None):
        self.pipe = pipe
        self.preset = preset
        self.defaults = defaults or preset.defaults
        self.settings = settings_for(preset, self.defaults)
        self.embeddings = embeddings or PromptEmbeddings(pipe, None)
        self.notices = list(notices)
        self.detector_weights: Path | None = None
        self.load_options = dict(load_options or {})  # memory mode, fp8, fast: for the record
        self._base_scheduler = pipe.scheduler
        # Their crops are 512x512, the motion encoder's input size: crop straight to the
        # size the loaded model takes (512 for wan-animate), skipping a second resize.
        self.face_size = int(pipe.transformer.config.motion_encoder_size)
        self.fps = self.defaults.fps  # output frame rate when the caller asks for none
        self.resampling = self.defaults.resampling  # how the driving video reaches it
        self._steps = 1  # the running call's steps, for step_text

    # --- settings and sizes ---------------------------------------------------------------

    def resolve(self, inputs: GenerationInputs) -> dict:
        """The run's settings, checked against what the inputs allow."""
        values = check_values(resolve_settings(self.settings, inputs.settings))
        if values["mode"] == "replace" and (inputs.driving_frames is None
                                            or inputs.driving_poses is None):
            raise InputError("Replace mode puts the character into the driving footage: "
                             "upload a driving video (not a built-in motion or a pose file).")
        return values

    def retarget_config(self, config, overrides):
        """Replace mode follows the driver's own body in the footage from its first frame:
        no lead-in from the portrait's pose (the output stays as long as the footage)."""
        values = resolve_settings(self.settings, overrides)
        if values["mode"] == "replace" and config.transition:
            from dataclasses import replace

            return replace(config, transition=0.0)
        return config

    def step_text(self, done: int, total: int, segment: int) -> str:
        """Progress of the running call: segments run one after another."""
        steps = self._steps
        return (f"segment {segment + 1}/{max(1, total // steps)}, step "
                f"{(done - 1) % steps + 1}/{steps}")

    def size(self, values: dict, inputs: GenerationInputs) -> tuple[int, int]:
        if values["height"] is not None:
            return values["width"], values["height"]
        if values["mode"] == "replace":
            h, w = inputs.driving_frames[0].shape[:2]
        else:
            h, w = inputs.portrait.shape[:2]
        return wan_inputs.model_size(w, h, AREAS[values["resolution"]])

    # --- the call -------------------------------------------------------------------------

    def prepare(self, inputs: GenerationInputs, values: dict) -> dict:
        """{"kwargs": the pipeline's keyword arguments (videos as PIL lists), "masks" and
        "footage": replace mode's grown person masks (0/1) and driving frames at the canvas
        size, one per output frame, for compositing (None in animate mode), "notices"}."""
        width, height = self.size(values, inputs)
        size = (width, height)
        portrait = wan_inputs.Padding.fit((inputs.portrait.shape[1], inputs.portrait.shape[0]),
                                          size)
        notices = []
        index = list(inputs.driver_index)
        masks = backgrounds = None
        if values["mode"] == "replace":
            frames, drive = inputs.driving_frames, inputs.driving_poses
            footage = wan_inputs.Padding.fit((frames[0].shape[1], frames[0].shape[0]), size)
            poses = footage.poses(drive[np.asarray(index)]).keypoints
            used = sorted(set(index))
            person = wan_inputs.person_masks([frames[j] for j in used], drive[np.asarray(used)],
                                             values["mask_source"], grow=False)
            # grown at the canvas size, as theirs is at the generation size
            by_frame = {j: wan_inputs.grow_mask(footage.image(m, cv2.INTER_NEAREST))
                        for j, m in zip(used, person, strict=True)}
            masks = [by_frame[j] for j in index]
            backgrounds = [footage.image(np.asarray(frames[j])) * (1 - m[..., None])
                           for j, m in zip(index, masks, strict=True)]
            notices.append("Replace mode follows the driver's own body in the footage (the "
                           "portrait's proportions are not retargeted into it).")
        else:
            poses = portrait.poses(inputs.poses).keypoints
        face = None
        if inputs.driving_frames is not None and inputs.driving_poses is not None:
            face = wan_inputs.face_video(inputs.driving_frames, inputs.driving_poses, index,
                                         values["face_smoothing"], self.face_size)
        if face is None:
            own = wan_inputs.face_box(inputs.reference.keypoints[0, FACE, :2])
            if own is None:
                h, w = inputs.portrait.shape[:2]
                own = np.array([w * 0.3, 0.0, w * 0.7, h * 0.4])
            face = [wan_inputs.crop_face(inputs.portrait, own, self.face_size)] * len(index)
            notices.append("No driving face to follow: the portrait's own face is held, so "
                           "the expression stays still.")
        kwargs = {
            # their generate step resizes the original portrait file linearly
            "image": Image.fromarray(portrait.image(np.asarray(inputs.portrait),
                                                    cv2.INTER_LINEAR)),
            "pose_video": [Image.fromarray(draw_pose_wan(kp, width, height)) for kp in poses],
            "face_video": [Image.fromarray(f) for f in face],
            "height": height,
            "width": width,
            "mode": values["mode"],
            "segment_frame_length": values["segment_frame_length"],
            "prev_segment_conditioning_frames": values["prev_segment_conditioning_frames"],
            "num_inference_steps": values["num_inference_steps"],
            "guidance_scale": values["guidance_scale"],
        }
        if masks is not None:
            kwargs["background_video"] = [Image.fromarray(b.astype(np.uint8))
                                          for b in backgrounds]
            kwargs["mask_video"] = [Image.fromarray(m * 255) for m in masks]
        return {"kwargs": kwargs, "masks": masks,
                "footage": None if masks is None else [
                    footage.image(np.asarray(inputs.driving_frames[j])) for j in index],
                "notices": notices}

    def _scheduler(self, flow_shift: float | None):
        """The scheduler with the run's shift (the loaded one when None)."""
        base = self._base_scheduler
        if flow_shift is None:
            return base
        key = "flow_shift" if "flow_shift" in base.config else "shift"
        return type(base).from_config(base.config, **{key: flow_shift})

    def __call__(self, inputs: GenerationInputs, write: Writer, *,
                 callback: StepCallback | None = None) -> GenerationResult:
        values = self.resolve(inputs)
        job = self.prepare(inputs, values)
        kwargs = job["kwargs"]
        total = len(inputs.poses)
        carried = values["prev_segment_conditioning_frames"]
        for name in ("pose_video", "face_video", "background_video", "mask_video"):
            if name in kwargs and len(kwargs[name]) <= carried:  # the library needs more
                kwargs[name] = kwargs[name] + [kwargs[name][-1]] * (carried + 1 - total)
        seed = values["seed"] if values["seed"] is not None else secrets.randbelow(2**31)
        pipe = self.pipe
        device = pipe._execution_device
        guidance = values["guidance_scale"] > 1
        positive, negative = self.embeddings(values["prompt"], values["negative_prompt"],
                                             guidance, device)
        segments = num_segments(len(kwargs["pose_video"]), values["segment_frame_length"],
                                carried)
        steps = values["num_inference_steps"]
        self._steps = steps
        done = [0]

        def on_step(_pipe, _i, _t, _tensors):
            done[0] += 1
            if callback is not None:
                callback(done[0], segments * steps, (done[0] - 1) // steps)
            return {}

        pipe.scheduler = self._scheduler(values["flow_shift"])
        try:
            video = pipe(**kwargs, prompt_embeds=positive, negative_prompt_embeds=negative,
                         generator=torch.Generator("cpu").manual_seed(seed),
                         output_type="np", callback_on_step_end=on_step).frames[0]
        finally:
            pipe.scheduler = self._base_scheduler
        video = video[:total]
        keep = values["keep_background"] and job["masks"] is not None
        for i, frame in enumerate(video):
            out = (frame * 255).round().astype(np.uint8)
            if keep:
                mask = job["masks"][i][..., None].astype(bool)
                out = np.where(mask, out, job["footage"][i])
            write(out)
        used = {k: v for k, v in values.items() if k not in ("height", "width")}
        used.update(width=kwargs["width"], height=kwargs["height"], seed=seed,
                    segments=segments, **self.load_options)
        return GenerationResult(len(video), seed, used, (kwargs["width"], kwargs["height"]),
                                job["notices"])

