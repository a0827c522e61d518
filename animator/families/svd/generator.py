"""`SVDGenerator`: the SVD family behind the generator boundary (`animator.families.base`).

It does, from a `GenerationInputs`, exactly what `Animator.animate` does between
retargeting and writing: the preset's settings with the caller's overrides (size by the
portrait's aspect), the portrait and poses framed to that size, the face embedding, the
skeletons drawn in the preset's convention, one `AnimationPipeline` call streaming frames to
the writer. It imports those pieces from their modules and changes none of them, so the SVD
path keeps its behaviour (tests/families/test_svd_family.py checks frame for frame).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from animator.families.base import (
    GenerationInputs,
    GenerationResult,
    StepCallback,
    Writer,
    resolve_settings,
)
from animator.families.svd.config import GenerationConfig
from animator.families.svd.settings import check_settings, settings_for
from animator.framing import Framing, choose_size
from animator.pose.render import RenderedPoses, draw_pose
from animator.pose.skeleton import PoseSequence


class SVDGenerator:
    """A loaded SVD preset (`weights.LoadedPreset`) as a `Generator`."""

    family = "svd"
    fps = None  # output frame rate: the driving video's own (capped by the input limits)

    def __init__(self, loaded, *, low_memory: bool = False):
        self.loaded = loaded
        self.preset = loaded.preset
        self.pipeline = loaded.pipeline
        self.face = loaded.face  # the face embedder, None when the preset has none
        self.low_memory = low_memory
        self.settings = settings_for(loaded.preset)
        self.notices = list(loaded.notices)
        self.detector_weights: Path | None = loaded.dwpose_dir
        self._steps = 1  # the running call's steps, for step_text

    def config(self, image: np.ndarray, overrides: Mapping[str, Any] | None) -> GenerationConfig:
        """The preset's defaults with the caller's overrides; the size follows the
        portrait's aspect unless both height and width are given (as Animator does)."""
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        values = resolve_settings(self.settings, given)
        given = check_settings({k: values[k] for k in given})
        preset = self.preset
        settings = replace(preset.defaults, **{k: v for k, v in values.items()
                                               if k in given or k not in ("height", "width")})
        if not {"height", "width"} <= given.keys():
            width, height = choose_size(image.shape[1], image.shape[0], preset.sizes)
            settings = replace(settings, width=width, height=height)
        if self.low_memory:
            settings = replace(settings, cfg_mode="sequential",
                               decode_chunk_size=min(settings.decode_chunk_size, 2))
        return settings

    def retarget_config(self, config, overrides: Mapping[str, Any] | None):
        """The retargeting this family wants for these settings: the caller's, unchanged."""
        return config

    def step_text(self, done: int, total: int, window: int) -> str:
        """Progress of the running call: each denoising step runs every window once."""
        steps = self._steps
        windows = max(1, total // steps)
        return f"step {(done - 1) // windows + 1}/{steps}, window {window + 1}/{windows}"

    def __call__(self, inputs: GenerationInputs, write: Writer, *,
                 callback: StepCallback | None = None) -> GenerationResult:
        preset, pipeline = self.preset, self.pipeline
        settings = self.config(inputs.portrait, inputs.settings)
        canvas = Framing.around((inputs.portrait.shape[1], inputs.portrait.shape[0]),
                                (settings.width, settings.height), _person_x(inputs.reference))
        image = canvas.image(inputs.portrait)
        if preset.portrait_round_trip:
            image = uint8_round_trip(image)
        poses = canvas.poses(inputs.poses)
        notices = []
        face = None
        if self.face is not None and settings.identity_strength > 0:
            face, notice = self.face.embed_with_notice(image)
            notices += [notice] if notice else []
            if face is None:  # as StableAnimator: zeros through the face encoder, identity on
                face = np.zeros(pipeline.face_projector.config.id_embeddings_dim, np.float32)
        draw = {"style": preset.style, "swap_rb": preset.swap_rb, "face": True}
        skeleton = RenderedPoses(poses, **draw)
        encoder = pipeline.pose_encoder
        dense = (RenderedPoses(poses, dense=True)
                 if encoder is not None and encoder.config.with_dense else None)
        reference = (draw_pose(canvas.poses(inputs.reference).keypoints[0], settings.width,
                               settings.height, **draw) if preset.reference_anchor else None)
        seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
        kwargs = {k: v for k, v in asdict(settings).items() if k != "seed"}
        self._steps = settings.num_inference_steps
        pipeline(image, skeleton, dense=dense, reference_pose=reference, face_embedding=face,
                 seed=seed, callback=callback, writer=write, **kwargs)
        return GenerationResult(len(poses), seed, {"seed": seed, **kwargs},
                                (settings.width, settings.height), notices)


def load(name: str, *, device: str = "cpu", dtype=None, weights_dir=None,
         low_memory: bool = False, allow_download: bool = True, progress=None) -> SVDGenerator:
    """`weights.load_preset` plus what `Animator.load` adds (offload in low-memory mode on a
    GPU, the progress bar's label), as a generator."""
    from animator.families.svd.weights import load_preset

    loaded = load_preset(name, device=device, dtype=dtype, weights_dir=weights_dir,
                         allow_download=allow_download, progress=progress)
    if low_memory and str(device).startswith("cuda"):
        loaded.pipeline.enable_model_cpu_offload()
    loaded.pipeline.set_progress_bar_config(desc="Denoising")
    return SVDGenerator(loaded, low_memory=low_memory)


def uint8_round_trip(image: np.ndarray) -> np.ndarray:
    """uint8 -> [-1, 1] in float32 -> uint8 again, truncating: MimicMotion's inference.py
    normalises the portrait and converts it back this way before its pipeline, so values
    whose float32 round trip lands just under the integer come back one lower."""
    half = np.float32(127.5)
    scaled = np.asarray(image, np.float32) / half - np.float32(1.0)  # float32 all along
    return ((scaled + np.float32(1.0)) * half).astype(np.uint8)  # truncates


def _person_x(reference: PoseSequence) -> float | None:
    """Horizontal centre of the portrait's person (for cropping), None if unknown."""
    xs = reference.xy[0, :, 0][reference.valid()[0]]
    return float(np.median(xs)) if len(xs) else None
