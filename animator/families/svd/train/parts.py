"""What training starts from and what it trains: the preset's pipeline with a fresh
(zero-effect) module for every part asked for that it lacks, and the parameters of the
chosen parts (the rest frozen)."""

from __future__ import annotations

import typing
from dataclasses import dataclass

import torch
from torch import nn

from animator.families.svd.models.identity import FaceProjector
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.unet import identity_processors
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.presets import Preset
from animator.families.svd.train.config import TrainConfig
from animator.families.svd.weights import load_preset


@dataclass
class Initial:
    """What training starts from: the pipeline, how its skeletons are drawn, a face model."""

    preset: Preset
    pipeline: AnimationPipeline
    draw: dict  # draw_pose options: style, swap_rb, face
    face: object | None  # FaceEmbedder (or its model folder) for face caches; None = no faces


def load_initial(config: TrainConfig) -> Initial:
    """`init_from` as a float32 pipeline on the CPU, with the preset's drawing convention (the
    pose encoder must see skeletons drawn as it was trained) and its face model."""
    loaded = load_preset(config.init_from, device="cpu", dtype=torch.float32,
                         weights_dir=config.weights_dir or None)
    preset = loaded.preset
    # Face points included: the app (animate.py) draws its driving skeletons that way.
    draw = {"style": preset.style, "swap_rb": preset.swap_rb, "face": True}
    face = loaded.face
    if config.face_model_dir:  # in the channel order the preset's face embeddings had
        from animator.face import FaceEmbedder

        face = FaceEmbedder(config.face_model_dir, channels=preset.face_channels)
    return Initial(preset, loaded.pipeline, draw, face)


def add_missing_parts(pipe: AnimationPipeline, parts: typing.Collection[str],
                      identity_mode: str) -> AnimationPipeline:
    """The pipeline with a fresh (zero-effect) module for every part asked to be trained
    that the preset lacks: a pose-encoder branch, or the face projector and identity
    attention. Existing weights are kept."""
    encoder, projector = pipe.pose_encoder, pipe.face_projector
    branches = {b for b in ("skeleton", "dense") if b in parts}
    if encoder is not None:
        branches |= {b for b in ("skeleton", "dense") if getattr(encoder, b) is not None}
    if branches and (encoder is None or any(getattr(encoder, b) is None for b in branches)):
        old = encoder
        kwargs = dict(old.config) if old is not None else {}
        kwargs = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        kwargs.update(out_channels=pipe.unet.config.block_out_channels[0],
                      with_skeleton="skeleton" in branches, with_dense="dense" in branches)
        encoder = FusedPoseEncoder(**kwargs)
        if old is not None:  # only the new branch is missing
            encoder.load_state_dict(old.state_dict(), strict=False)
    mode = pipe.config.identity_mode
    if "identity" in parts and projector is None:
        dim = pipe.unet.config.cross_attention_dim
        projector = FaceProjector(cross_attention_dim=dim,
                                  clip_embeddings_dim=pipe.image_encoder.config.projection_dim,
                                  heads=max(1, dim // 64), dim_head=64)
        mode = identity_mode
    if encoder is pipe.pose_encoder and projector is pipe.face_projector:
        return pipe
    return AnimationPipeline(vae=pipe.vae, image_encoder=pipe.image_encoder, unet=pipe.unet,
                             scheduler=pipe.scheduler, feature_extractor=pipe.feature_extractor,
                             pose_encoder=encoder, face_projector=projector, identity_mode=mode)


def trainable_parameters(pipe: AnimationPipeline, parts: typing.Collection[str]
                         ) -> dict[str, nn.Parameter]:
    """Switch requires_grad on for `parts` only; their parameters by pipeline-level name."""
    chosen: dict[str, nn.Parameter] = {}

    def take(prefix: str, module: nn.Module | None) -> None:
        if module is not None:
            chosen.update({f"{prefix}.{k}": p for k, p in module.named_parameters()})

    for module in (pipe.unet, pipe.pose_encoder, pipe.face_projector, pipe.vae,
                   pipe.image_encoder):
        if module is not None:
            module.requires_grad_(False)
    if "unet" in parts:
        take("unet", pipe.unet)
    if "attention" in parts:
        for name, module in pipe.unet.named_modules():
            if name.endswith((".attn1", ".attn2")):
                take(f"unet.{name}", module)
    if "identity" in parts:
        take("face_projector", pipe.face_projector)
        for prefix, proc in identity_processors(pipe.unet).items():
            take(f"unet.{prefix}", proc)
    for branch in ("skeleton", "dense"):
        if branch in parts:
            take(f"pose_encoder.{branch}", getattr(pipe.pose_encoder, branch))
    for param in chosen.values():
        param.requires_grad_(True)
    return chosen
