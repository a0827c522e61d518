"""The objective: SVD's EDM training (see the package docstring) as one module, `Denoiser`,
the loss of one micro-batch with every random draw from one generator, and the weighting."""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (
    _resize_with_antialiasing,
)
from torch import nn

from animator.families.svd.models.unet import pose_injector
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.train.config import TrainConfig


class Denoiser(nn.Module):
    """UNet + pose encoder + face projector as one module (one DDP wrapper): noisy latents
    and conditions in, the EDM-preconditioned denoised latents D out (see the module
    docstring). `keep_*` (B,) are 1 for kept and 0 for dropped conditions."""

    def __init__(self, unet: nn.Module, pose_encoder: nn.Module | None,
                 face_projector: nn.Module | None):
        super().__init__()
        self.unet, self.pose_encoder, self.face_projector = unet, pose_encoder, face_projector

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor, image_latent: torch.Tensor,
                clip: torch.Tensor, time_ids: torch.Tensor, keep_image: torch.Tensor,
                skeleton: torch.Tensor | None = None, dense: torch.Tensor | None = None,
                keep_pose: torch.Tensor | None = None, face: torch.Tensor | None = None,
                keep_face: torch.Tensor | None = None) -> torch.Tensor:
        b, f = noisy.shape[:2]
        s = sigma.view(-1, 1, 1, 1, 1)
        c_in, c_skip, c_out = (s**2 + 1) ** -0.5, 1 / (s**2 + 1), -s * (s**2 + 1) ** -0.5
        image = (image_latent * keep_image.view(-1, 1, 1, 1))[:, None].expand(-1, f, -1, -1, -1)
        sample = torch.cat([noisy * c_in, image.to(noisy.dtype)], dim=2)
        context = clip * keep_image.view(-1, 1, 1)
        if self.face_projector is not None:
            # Computed (then zeroed) even when dropped, so every process uses every parameter.
            tokens = self.face_projector(face, clip) * keep_face.view(-1, 1, 1)
            context = torch.cat([context, tokens.to(context.dtype)], dim=1)
        features = None
        if self.pose_encoder is not None:
            features = self.pose_encoder(
                None if skeleton is None else skeleton.flatten(0, 1),
                None if dense is None else dense.flatten(0, 1))
            features = features.unflatten(0, (b, f)) * keep_pose.view(-1, 1, 1, 1, 1)
        injector = pose_injector(self.unet)
        with injector.use(features) if injector is not None else contextlib.nullcontext():
            out = self.unet(sample, 0.25 * sigma.log(), encoder_hidden_states=context,
                            added_time_ids=time_ids, return_dict=False)[0]
        return c_skip * noisy + c_out * out.to(noisy.dtype)


def edm_loss(denoised: torch.Tensor, latents: torch.Tensor, sigma: torch.Tensor
             ) -> torch.Tensor:
    """EDM's weighting (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 with sigma_data = 1."""
    weight = (sigma**2 + 1) / sigma**2
    error = (denoised.float() - latents.float()).pow(2).flatten(1).mean(1)
    return (weight * error).mean()


def clip_embeddings(pipe: AnimationPipeline, pixels: torch.Tensor) -> torch.Tensor:
    """CLIP image tokens (B, 1, D) of images (B, 3, H, W) in [-1, 1], preprocessed as the
    pipeline does (antialiased resize to 224, CLIP normalisation)."""
    x = (_resize_with_antialiasing(pixels, (224, 224)) + 1.0) / 2.0
    mean = torch.tensor(pipe.feature_extractor.image_mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(pipe.feature_extractor.image_std, device=x.device).view(1, 3, 1, 1)
    x = ((x - mean) / std).to(pipe.image_encoder.dtype)
    return pipe.image_encoder(x).image_embeds[:, None]


def _generator(seed: int, rank: int, micro: int, device: torch.device) -> torch.Generator:
    state = np.random.SeedSequence([seed, rank, micro]).generate_state(2, np.uint64)
    return torch.Generator(device).manual_seed(int(state[0] >> np.uint64(1)))


def _pixels(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    return x.to(device, non_blocking=True).float() / 127.5 - 1.0


def _loss(pipe: AnimationPipeline, model: nn.Module, batch: dict, config: TrainConfig,
          generator: torch.Generator, device: torch.device, weight_dtype: torch.dtype
          ) -> torch.Tensor:
    """One micro-batch's EDM loss; every random draw comes from `generator`, in a fixed order."""
    frames = _pixels(batch["frames"], device)  # (B, F, 3, H, W)
    reference = _pixels(batch["reference"], device)
    b, f = frames.shape[:2]

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=generator, device=device)

    with torch.no_grad():
        dist = pipe.vae.encode(frames.flatten(0, 1).to(weight_dtype)).latent_dist
        latents = dist.sample(generator=generator).float() * pipe.vae.config.scaling_factor
        latents = latents.unflatten(0, (b, f))
        augmented = reference + config.noise_aug_strength * randn(*reference.shape)
        image_latent = pipe.vae.encode(augmented.to(weight_dtype)).latent_dist.mode().float()
        clip = clip_embeddings(pipe, reference).float()
    sigma = (config.p_mean + config.p_std * randn(b)).exp()
    noise = randn(*latents.shape)
    draws = torch.rand((3, b), generator=generator, device=device)
    keep_image = (draws[0] >= config.drop_image).float()
    keep_pose = (draws[1] >= config.drop_pose).float()
    keep_face = ((draws[2] >= config.drop_face) & batch["has_face"].to(device)).float()
    fps = (batch["fps"].to(device).float().round() if config.fps == 0 else
           torch.full((b,), float(config.fps), device=device))
    time_ids = torch.stack([fps - 1, torch.full_like(fps, config.motion_bucket_id),
                            torch.full_like(fps, config.noise_aug_strength)], dim=1)
    skeleton = _pixels(batch["skeleton"], device)
    dense = _pixels(batch["dense"], device) if "dense" in batch else None
    denoised = model(latents + sigma.view(-1, 1, 1, 1, 1) * noise, sigma, image_latent, clip,
                     time_ids, keep_image, skeleton=skeleton, dense=dense, keep_pose=keep_pose,
                     face=batch["face"].to(device), keep_face=keep_face)
    return edm_loss(denoised, latents, sigma)
