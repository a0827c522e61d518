"""`make_detector`: the backend by name, "auto" taking DWPose when its weights are at hand
and falling back to the bundled MediaPipe otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from animator.errors import InputError
from animator.pose.detect.dwpose import DWPoseDetector
from animator.pose.detect.dwpose_weights import (
    DWPOSE_FILES,
    DWPOSE_REPO,
    download_dwpose_weights,
    find_dwpose_weights,
)
from animator.pose.detect.interface import PoseDetector
from animator.pose.detect.mediapipe import MediaPipeDetector

BACKENDS = ("auto", "dwpose", "mediapipe")


def make_detector(
    backend: str = "auto", weights_dir: str | Path | None = None,
    device: str | Callable[[], str] = "cpu", allow_download: bool = True,
    notify: Callable[[str], None] = print,
) -> PoseDetector:
    """A pose detector. "auto" takes DWPose when its weights are on disk or can be
    downloaded, else MediaPipe (bundled) after one line through `notify`. `device` (for
    DWPose; a callable is asked only then) is "cpu" or "cuda"."""
    if backend not in BACKENDS:
        raise InputError(f"unknown pose backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if backend == "mediapipe":
        return MediaPipeDetector()
    weights = find_dwpose_weights(weights_dir)
    if weights is None and allow_download:
        weights = download_dwpose_weights()
    if weights is not None:
        return DWPoseDetector(*weights, device=device() if callable(device) else device)
    if backend == "dwpose":
        raise InputError(
            f"DWPose weights ({', '.join(DWPOSE_FILES)}) were not found"
            + (f" in {weights_dir}" if weights_dir else "")
            + f" and could not be downloaded from {DWPOSE_REPO}; put them there or choose "
            "the 'mediapipe' pose backend"
        )
    notify("DWPose weights not available offline; using MediaPipe (bundled) for pose detection.")
    return MediaPipeDetector()
