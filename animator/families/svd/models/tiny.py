"""A complete, seeded, randomly initialised tiny AnimationPipeline for tests, CI and smoke tests.

Real classes at toy sizes (diffusers' own SVD test recipe, shared/reference/platform.md), built
offline in a fraction of a second. The feature extractor is the PIL-backed CLIP processor (what
`CLIPImageProcessor` falls back to without torchvision). One deviation from the recipe: the VAE
has four blocks so that it downsamples by 8 like SVD's, which the pose encoder's /8 stack needs.
"""

from __future__ import annotations

import torch
from diffusers import (
    AutoencoderKLTemporalDecoder,
    EulerDiscreteScheduler,
    UNetSpatioTemporalConditionModel,
)
from transformers import CLIPImageProcessorPil, CLIPVisionConfig, CLIPVisionModelWithProjection

from animator.families.svd.models.identity import FaceProjector
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.pipeline import AnimationPipeline


def tiny_components(seed: int = 0) -> dict:
    """The five SVD components (vae, image_encoder, unet, scheduler, feature_extractor)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        unet = UNetSpatioTemporalConditionModel(
            block_out_channels=(32, 64),
            layers_per_block=2,
            sample_size=32,
            in_channels=8,
            out_channels=4,
            down_block_types=("CrossAttnDownBlockSpatioTemporal", "DownBlockSpatioTemporal"),
            up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
            cross_attention_dim=32,
            num_attention_heads=8,
            projection_class_embeddings_input_dim=96,
            addition_time_embed_dim=32,
        )
        vae = AutoencoderKLTemporalDecoder(
            block_out_channels=[32, 32, 64, 64],
            down_block_types=["DownEncoderBlock2D"] * 4,
            latent_channels=4,
        )
        image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
            hidden_size=32,
            projection_dim=32,
            num_hidden_layers=5,
            num_attention_heads=4,
            image_size=224,
            intermediate_size=37,
            patch_size=32,
        ))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        interpolation_type="linear",
        num_train_timesteps=1000,
        prediction_type="v_prediction",
        sigma_max=700.0,
        sigma_min=0.002,
        steps_offset=1,
        timestep_spacing="leading",
        timestep_type="continuous",
        use_karras_sigmas=True,
    )
    return {
        "vae": vae.eval(),
        "image_encoder": image_encoder.eval(),
        "unet": unet.eval(),
        "scheduler": scheduler,
        "feature_extractor": CLIPImageProcessorPil(crop_size=224, size=224),
    }


@torch.no_grad()
def _randomize_zero_init(module: torch.nn.Module, std: float) -> None:
    """Give every all-zero parameter small random values (zero-init layers, norm biases)."""
    for param in module.parameters():
        if not param.any():
            param.normal_(0.0, std)


def tiny_pipeline(
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    *,
    pose: bool = True,
    identity: bool = True,
    identity_mode: str = "sum",
    random_init: bool = False,
) -> AnimationPipeline:
    """Tiny pipeline with pose encoder (skeleton + dense branches, one attention block), face
    projector and identity processors installed.

    Fresh controls are zero-initialised and change nothing; `random_init=True` gives their
    zero-initialised weights small random values so tests can see them act.
    """
    parts = tiny_components(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed + 1)
        pose_encoder = face_projector = None
        if pose:
            pose_encoder = FusedPoseEncoder(out_channels=32, attention_blocks=1,
                                            attention_heads=4).eval()
        if identity:
            face_projector = FaceProjector(cross_attention_dim=32, clip_embeddings_dim=32,
                                           heads=4, dim_head=8).eval()
        pipe = AnimationPipeline(**parts, pose_encoder=pose_encoder,
                                 face_projector=face_projector, identity_mode=identity_mode)
        if random_init:
            for module in (pose_encoder, face_projector):
                if module is not None:
                    _randomize_zero_init(module, 0.1)
    return pipe if dtype == torch.float32 else pipe.to(dtype=dtype)
