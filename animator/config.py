"""Settings, one dataclass per stage, one commented default per field.

The UI, the CLI and the batch jobs all fill these same classes, so a default changed here
changes it everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class InputLimits:
    """Bounds on what a user may upload; anything cut is reported, never silent."""

    max_upload_mb: float = 200.0  # larger files are refused before decoding
    max_duration: float = 20.0  # seconds of driving video used; the rest is cut with a notice
    max_side: int = 1024  # frames and portraits are downscaled to this longest side
    max_frames: int = 600  # hard cap on frames after fps/stride selection
    min_side: int = 64  # smaller images/videos are refused


@dataclass
class RetargetConfig:
    """Skeleton-length rescaling (shared/reference/retarget.md)."""

    threshold: float = 0.3  # body/face keypoint score counted as visible
    hand_threshold: float = 0.35  # hand keypoint score counted as visible
    transition: float = 0.5  # seconds of lead-in from the portrait's own pose; 0 = off
    max_step: float = 0.15  # largest joint move per lead-in frame (torso lengths); lengthens it
    start_at_closest: bool = False  # start at the (first-half) driver frame closest to the portrait
    smoothing: int = 7  # Savitzky-Golay window in frames (odd); 0 or 1 = off (exact driver)
    root_motion: float = 1.0  # how much of the driver's travel is kept; 0 = stay in place
    ground: bool = True  # put the lowest foot on the portrait's ground line (full bodies)
    ratio_clip: float = 1.5  # per-bone ratios clipped to [1/clip, clip]
    length_quantile: float = 0.9  # quantile of per-frame bone lengths taken as true length
    multipliers: dict[str, float] = field(default_factory=dict)  # per group, e.g. {"arms": 1.1}


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
