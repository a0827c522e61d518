"""Which files of a training folder are videos, and where each video's caches and dense maps
lie (the layout is drawn in `data.py`). Apart from the dataset, so that a training run can
refuse a missing or empty folder before torch is imported."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from animator.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
POSES_SUFFIX = ".poses.npz"
FACE_SUFFIX = ".face.npy"
DENSE_SUFFIX = ".dense"


def _stem(path: Path) -> Path:
    return path.with_suffix("")


def poses_path(video: Path) -> Path:
    return _stem(video).with_name(_stem(video).name + POSES_SUFFIX)


def face_path(video: Path) -> Path:
    return _stem(video).with_name(_stem(video).name + FACE_SUFFIX)


def dense_source(video: Path) -> Path | None:
    """`<stem>.dense.mp4` (or another video suffix) or a `<stem>.dense/` folder, if present."""
    base = _stem(video).with_name(_stem(video).name + DENSE_SUFFIX)
    if base.is_dir():
        return base
    for suffix in VIDEO_SUFFIXES:
        if base.with_name(base.name + suffix).is_file():
            return base.with_name(base.name + suffix)
    return None


def find_videos(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """Training videos in a folder (sorted, dense-map videos excluded), or the given files."""
    if isinstance(source, (str, Path)):
        root = Path(source).expanduser()
        if root.is_file():
            return [root]
        if not root.is_dir():
            raise InputError(f"The training data folder {root} does not exist: point data_dir "
                             "at a folder of videos.")
        videos = sorted(p for p in root.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES
                        and not _stem(p).name.endswith(DENSE_SUFFIX) and p.is_file())
        if not videos:
            raise InputError(f"No videos in {root}: put {', '.join(VIDEO_SUFFIXES)} files there.")
        return videos
    return [Path(p).expanduser() for p in source]
