"""Settings of the shared front end, one dataclass per stage, one commented default per field.

The UI, the CLI and the batch jobs all fill these same classes, so a default changed here
changes it everywhere. Each generator family keeps its own settings in its folder
(`animator/families/<family>/`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def cache_dir() -> Path:
    """Where what this machine has measured or detected is kept between runs (the CPU's
    speed, detected poses): `$ANIMATOR_CACHE_DIR`, else `~/.cache/animator`."""
    return Path(os.environ.get("ANIMATOR_CACHE_DIR") or Path.home() / ".cache" / "animator")


@dataclass
class InputLimits:
    """Bounds on what a user may upload; anything cut is reported, never silent."""

    max_upload_mb: float = 200.0  # larger files are refused before decoding
    max_duration: float = 20.0  # seconds of driving video used; the rest is cut with a notice
    max_side: int = 1024  # frames and portraits are downscaled to this longest side
    max_fps: float = 30.0  # faster videos are resampled to this when no fps is asked for
    max_frames: int = 600  # hard cap on frames after fps/stride selection
    min_side: int = 64  # smaller images/videos are refused
    max_megapixels: float = 100.0  # larger images are refused before they are decoded


@dataclass
class RetargetConfig:
    """Skeleton-length rescaling (shared/reference/retarget.md)."""

    threshold: float = 0.3  # body/face keypoint score counted as visible
    hand_threshold: float = 0.35  # hand keypoint score counted as visible
    # Seconds of lead-in from the portrait's own pose (a smooth entry, e.g. 0.5); 0 = off, as the
    # public scripts of every public preset (MimicMotion, StableAnimator, Wan2.2) have none.
    transition: float = 0.0
    max_step: float = 0.15  # largest joint move per lead-in frame (torso lengths); lengthens it
    start_at_closest: bool = False  # start at the (first-half) driver frame closest to the portrait
    smoothing: int = 7  # Savitzky-Golay window in frames (odd); 0 or 1 = off (exact driver)
    root_motion: float = 1.0  # how much of the driver's travel is kept; 0 = stay in place
    ground: bool = True  # put the lowest foot on the portrait's ground line (full bodies)
    ratio_clip: float = 1.5  # per-bone ratios clipped to [1/clip, clip]
    length_quantile: float = 0.9  # quantile of per-frame bone lengths taken as true length
    multipliers: dict[str, float] = field(default_factory=dict)  # per group, e.g. {"arms": 1.1}
