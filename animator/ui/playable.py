"""Driving videos a browser cannot play (.avi, HEVC, ...): a small H.264 copy for the
page's player, made on upload, while everything else reads the uploaded file.

The copy's name carries a random token, and that name survives Gradio's copying of it into
its cache; `original` maps a copy (by name) back to the upload it was made from. Copies
live in a job folder under the animator's work dir, removed with the old jobs.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from pathlib import Path

from animator.jobs import job_folder
from animator.video import VideoWriter, iter_video, probe_video

BROWSER_CONTAINERS = (".mp4", ".m4v", ".webm")
BROWSER_CODECS = ("h264", "vp8", "vp9", "av1")
PREVIEW_SIDE = 480  # pixels on the longer side of the copy
PREVIEW_FPS = 15.0  # at most
PREVIEW_SECONDS = 60.0  # at most
REMEMBERED = 64

_originals: OrderedDict[str, str] = OrderedDict()  # copy's file name -> the upload's path
_lock = threading.Lock()


def browser_plays(video: str | Path) -> bool:
    """Whether Chromium, Firefox and Safari play the file as it is."""
    return (Path(video).suffix.lower() in BROWSER_CONTAINERS
            and probe_video(video).codec in BROWSER_CODECS)


def original(video):
    """The upload a player copy was made from; anything else unchanged."""
    if not video:
        return video
    with _lock:
        return _originals.get(Path(video).name, video)


def is_copy(video) -> bool:
    return bool(video) and original(video) != video


def player_copy(video: str | Path, work_dir: Path) -> str | None:
    """A small H.264 copy of `video` for the player, or None when the browser plays it."""
    if browser_plays(video):
        return None
    info = probe_video(video)
    fps = min(info.fps, PREVIEW_FPS)
    name = f"{Path(video).stem}_player_{secrets.token_hex(6)}.mp4"
    with job_folder(work_dir, None) as out:
        with VideoWriter(out / name, fps, audio=video if info.has_audio else None,
                         crf=28) as writer:
            for frame in iter_video(video, fps=fps, end=min(info.duration, PREVIEW_SECONDS),
                                    max_side=PREVIEW_SIDE):
                writer.write(frame)
    with _lock:
        _originals[name] = str(video)
        while len(_originals) > REMEMBERED:
            _originals.popitem(last=False)
    return str(out / name)
