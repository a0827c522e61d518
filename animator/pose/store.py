"""Detected poses kept for another run on the same footage: in memory (`PoseCache`, one
process) and on disk (`PoseStore`, any process), looked up in that order by `remembered`.

Detection is the slow part of a preview on a CPU (MediaPipe: ~0.09 s a frame, a minute of
dance at 30 fps ~2.5 minutes), and users run one driving video many times: a preview, then
an animation, then another seed or preset, often as separate commands. The store keeps
poses across processes and restarts, in `$ANIMATOR_POSE_CACHE` (a folder), else
`<cache dir>/poses` (`$ANIMATOR_CACHE_DIR`, else `~/.cache/animator`);
`ANIMATOR_POSE_CACHE=off` turns it off. Only keypoints are kept (never frames), at most
`max_bytes` in all, the least recently used removed first.

An entry is found by what decides the detection: the caller's key (the footage's content
and how it was read, the person chosen), the detector's `fingerprint` (backend, library
version, settings, model files) and a digest of this package's source (a changed
detector, reader or plausibility check gives new entries, never stale ones). A detector
without a fingerprint is never stored. Files are plain `.npz` arrays read with
`allow_pickle=False`; one that cannot be read counts as absent and is replaced.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from animator.config import cache_dir
from animator.pose.skeleton import PoseSequence

OFF = ("0", "off", "no", "false")


@functools.cache
def _source_digest() -> str:
    """Digest of the `animator` package's Python sources (a few hundred kB: milliseconds):
    detection, video reading, plausibility checks and the keys all live there."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def file_digest(path: str | Path) -> str:
    """A file's content as a key (SHA-1, read in 1 MB blocks)."""
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_identity(path: str | Path) -> str:
    """A model file as a fingerprint names it: path, size and modification time."""
    stat = Path(path).stat()
    return f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


class PoseCache:
    """Detected poses by key (for driving videos: file content, rate, span, frames,
    detector, person), the least recently used dropped beyond `size`; safe to share
    between the jobs of a server."""

    def __init__(self, size: int):
        self.size = size
        self._poses: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        with self._lock:
            poses = self._poses.get(key)
            if poses is not None:
                self._poses.move_to_end(key)
            return poses

    def remember(self, key: tuple, poses: Any) -> None:
        with self._lock:
            self._poses[key] = poses
            while len(self._poses) > self.size:
                self._poses.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._poses.clear()


class PoseStore:
    """Poses (a `PoseSequence` plus the notices its detection gave) on disk by key."""

    def __init__(self, folder: str | Path, max_bytes: int = 256 * 2**20):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    @classmethod
    def default(cls) -> PoseStore | None:
        """The store the environment asks for (see the module docstring), None when off."""
        chosen = os.environ.get("ANIMATOR_POSE_CACHE", "")
        if chosen.lower() in OFF:
            return None
        return cls(chosen or cache_dir() / "poses")

    def _path(self, key: tuple, detector) -> Path | None:
        fingerprint = getattr(detector, "fingerprint", None)
        if fingerprint is None:
            return None
        text = repr((key, fingerprint, _source_digest()))
        return self.folder / f"{hashlib.sha256(text.encode()).hexdigest()}.npz"

    def get(self, key: tuple, detector) -> tuple[PoseSequence, list[str]] | None:
        path = self._path(key, detector)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                keypoints = data["keypoints"]
            poses = PoseSequence(keypoints, int(meta["width"]), int(meta["height"]),
                                 float(meta["fps"]))
            notices = [str(n) for n in meta["notices"]]
        except Exception:  # truncated, foreign or from another layout: detect anew
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):  # gone meanwhile, or a read-only store
            os.utime(path)  # recently used: removed last
        return poses, notices

    def put(self, key: tuple, detector, poses: PoseSequence, notices=()) -> None:
        """Keep `poses`; a store that cannot be written (read-only disk, full) is skipped:
        it only saves time."""
        path = self._path(key, detector)
        if path is None:
            return
        meta = {"width": poses.width, "height": poses.height, "fps": poses.fps,
                "notices": list(notices)}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as f:
                np.savez(f, keypoints=np.asarray(poses.keypoints, np.float32),
                         meta=np.array(json.dumps(meta)))
            os.replace(temporary, path)  # readers see the whole file or none
            self._trim(keep=path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)

    def _trim(self, keep: Path) -> None:
        """Remove the least recently used entries beyond `max_bytes`, never `keep` (the one
        just written)."""
        entries = []
        for path in self.folder.glob("*.npz"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed by another process meanwhile
                continue
            entries.append((stat.st_mtime_ns, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            if path == keep:
                continue
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            total -= size


Found = tuple[PoseSequence, list[str]]


def remembered(key: tuple, detector, cache: PoseCache, store: PoseStore | None,
               detect: Callable[[], Found]) -> Found:
    """The poses and notices for `key`: from `cache`, else from `store`, else `detect()`d
    (and then kept in both)."""
    found = cache.get(key)
    if found is None and store is not None:
        found = store.get(key, detector)
    if found is None:
        found = detect()
        if store is not None:
            store.put(key, detector, *found)
    cache.remember(key, found)
    return found
