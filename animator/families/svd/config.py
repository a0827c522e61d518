"""The SVD family's sampling settings (`GenerationConfig`), one commented default per field.
Training's settings are `TrainConfig` in train/config.py."""

from __future__ import annotations

from dataclasses import dataclass

from animator.errors import InputError


@dataclass
class GenerationConfig:
    """Sampling options of `AnimationPipeline`; field names are its keyword arguments."""

    height: int = 1024  # output height in pixels, a multiple of 8 (MimicMotion's portrait size)
    width: int = 576  # output width in pixels, a multiple of 8
    num_inference_steps: int = 25  # Euler (EDM) denoising steps
    min_guidance_scale: float = 2.0  # CFG scale at a window's first frame (ramps per frame)
    max_guidance_scale: float = 2.0  # CFG scale at a window's last frame; <= 1 turns CFG off
    fps: int = 7  # frame-rate micro-conditioning; SVD was trained on fps - 1
    motion_bucket_id: int = 127  # SVD motion micro-conditioning
    noise_aug_strength: float = 0.02  # noise added to the reference image before encoding
    seed: int | None = 42  # None = a different result every run
    window: int = 16  # frames denoised together (the reference-pose anchor included)
    overlap: int = 4  # frames shared by neighbouring windows, blended every step
    decode_chunk_size: int = 8  # frames the VAE decodes at once (memory vs flicker)
    cfg_mode: str = "batched"  # "batched" (faster) or "sequential" (half the activations)
    pose_strength: float = 1.0  # multiplier on the pose features; 0 = no pose control
    identity_strength: float = 1.0  # weight of the face-token attention; 0 = no identity
    continuation: bool = False  # windows one after another, each from the previous last frame
    window_noise: str = "independent"  # "independent" noise per frame, or "repeat": one window's
    # noise tiled along the clip (frame i gets frame i mod window's), as the public SVD animators
    generator_device: str = "cpu"  # where a seed's noise is drawn: "cpu" (same noise on any
    # machine), "cuda" (as the public scripts; needs the model on CUDA) or "auto" (the model's)
    sigma_schedule: str = "default"  # "default" (the scheduler's own spacing) or "ays" (Align
    # Your Steps for SVD: 10 steps; other step counts log-linearly interpolated)
    windows: str = "lean"  # long clips: "lean" (fewest frames computed, ~1.10x the delivered
    # ones, guidance ramped per window) or "public" (MimicMotion's/StableAnimator's plan and
    # blend, ~1.44x, guidance ramped over the clip: their result)

    def __post_init__(self):
        for name, allowed in GENERATION_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"{name} must be one of {', '.join(map(repr, allowed))}, got "
                                 f"{getattr(self, name)!r}.")


GENERATION_CHOICES = {  # the values a GenerationConfig's choice fields accept
    "cfg_mode": ("batched", "sequential"),
    "window_noise": ("independent", "repeat"),
    "generator_device": ("cpu", "cuda", "auto"),
    "sigma_schedule": ("default", "ays"),
    "windows": ("lean", "public"),
}
