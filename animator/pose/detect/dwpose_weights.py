"""Where the DWPose ONNX pair comes from: a local folder, the Hugging Face cache, or one
download from the hub (never a long wait when offline).
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlparse

DWPOSE_REPO = "yzd-v/DWPose"
DWPOSE_FILES = ("yolox_l.onnx", "dw-ll_ucoco_384.onnx")
# Hub repositories that hold the pair, with the folder inside each.
_DWPOSE_SOURCES = ((DWPOSE_REPO, ""), ("FrancisRing/StableAnimator", "DWPose/"))


def find_dwpose_weights(weights_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """(detector, pose) ONNX paths from `weights_dir` (or its `DWPose/` subfolder) or the
    Hugging Face cache; None when the pair is not on disk. Never touches the network."""
    if weights_dir is not None:
        for folder in (Path(weights_dir), Path(weights_dir) / "DWPose"):
            det, pose = (folder / name for name in DWPOSE_FILES)
            if det.is_file() and pose.is_file():
                return det, pose
    from huggingface_hub import try_to_load_from_cache

    for repo, prefix in _DWPOSE_SOURCES:
        det, pose = (try_to_load_from_cache(repo, prefix + name) for name in DWPOSE_FILES)
        if isinstance(det, str) and isinstance(pose, str):
            return Path(det), Path(pose)
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP check, because huggingface_hub retries an unreachable host for ~20 s."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def download_dwpose_weights(cache_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """Fetch the DWPose pair from the hub into its cache; None when offline or on any
    download error, so that the caller can fall back to MediaPipe."""
    from huggingface_hub import hf_hub_download

    if not _hub_reachable():
        return None
    try:
        det, pose = (Path(hf_hub_download(DWPOSE_REPO, name, cache_dir=cache_dir))
                     for name in DWPOSE_FILES)
    except Exception:  # offline, HTTP error, full disk: all mean "not available"
        return None
    return det, pose
