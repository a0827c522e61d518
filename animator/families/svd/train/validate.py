"""Validation: the held-out clip animated by the model being trained (EMA weights when kept),
written as truth | pose | output."""

from __future__ import annotations

import contextlib
import itertools
import logging
from pathlib import Path

import torch
from diffusers.training_utils import EMAModel
from torch import nn

from animator.families.svd.data import Clip
from animator.families.svd.models.unet import set_identity
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.train.config import TrainConfig
from animator.video import side_by_side, write_video

logger = logging.getLogger(__name__)


@torch.no_grad()
def _validate(pipe: AnimationPipeline, model: nn.Module, clip: Clip, config: TrainConfig,
              step: int, output_dir: Path, ema: EMAModel | None, params: dict,
              dtype: torch.dtype) -> Path:
    """Animate the validation clip's reference along its poses; write truth | pose | output."""
    if ema is not None:
        ema.store(params.values())
        ema.copy_to(params.values())
    model.eval()
    try:
        with _one_dtype(pipe, dtype):
            frames = pipe(
                clip.reference, clip.skeleton,
                dense=clip.dense if pipe.pose_encoder is not None else None,
                face_embedding=clip.face if pipe.face_projector is not None and clip.face.any()
                else None,
                num_inference_steps=config.val_steps, min_guidance_scale=config.val_guidance,
                max_guidance_scale=config.val_guidance,
                fps=config.fps or max(1, round(clip.fps)),
                motion_bucket_id=config.motion_bucket_id,
                noise_aug_strength=config.noise_aug_strength, seed=config.seed,
                window=len(clip.frames), overlap=0).frames
    finally:
        set_identity(pipe.unet, strength=1.0)
        model.train()
        if ema is not None:
            ema.restore(params.values())
    path = output_dir / "validation" / f"step_{step:08d}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video((side_by_side(*views) for views in zip(clip.frames, clip.skeleton, frames,
                                                       strict=True)), path, clip.fps)
    logger.info("Validation clip: %s", path)
    return path


@contextlib.contextmanager
def _one_dtype(pipe: AnimationPipeline, dtype: torch.dtype):
    """The whole pipeline in `dtype` for sampling (under mixed precision the trained weights
    are float32 and the rest half precision, which the pipeline does not mix); afterwards every
    tensor the cast replaced is put back, so the float32 masters are untouched."""
    modules = [m for m in pipe.components.values() if isinstance(m, nn.Module)]
    kept = {t: t.data for m in modules for t in itertools.chain(m.parameters(), m.buffers())
            if t.is_floating_point() and t.dtype != dtype}
    pipe.to(dtype=dtype)
    try:
        yield
    finally:
        for tensor, data in kept.items():
            tensor.data = data
