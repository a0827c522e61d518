"""Reading the driving motion into `Driving`: a built-in motion, a saved pose file, or a
video whose person is detected frame by frame (with a cache, so that re-running with other
settings skips detection).

Pose files get the same limits as videos (trim, frame rate, duration, frame cap) and the
same notices, through `video.plan_span`. `Animator.driving_poses` chooses among the three.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from animator.config import InputLimits
from animator.errors import InputError
from animator.pose.motions import make_motion
from animator.pose.plausibility import check_poses
from animator.pose.skeleton import PoseSequence
from animator.pose.store import PoseCache, PoseStore, file_digest, remembered
from animator.video import VideoInfo, check_trim, frame_cap_notice, plan_span, read_video

Progress = Callable[[float, str], None]
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".gif")
DETECTION_MAX_SIDE = 640  # driving frames are detected at this size (kept at the input size)


@dataclass
class Driving:
    """The driving motion, whatever it came from: poses plus what is needed to preview it."""

    poses: PoseSequence
    frames: list[np.ndarray] | None  # RGB frames the poses were found in; None for motions/files
    audio: Path | None  # file whose audio track goes with the poses
    audio_start: float  # seconds into `audio` where poses[0] sits
    notices: list[str] = field(default_factory=list)
    source_fps: float | None = None  # the video's own frame rate (before resampling)


def motion_driving(name: str, *, fps: float | None, start: float, end: float | None,
                   limits: InputLimits) -> Driving:
    """A built-in motion, as long as the trim asks (4 s by default), within the limits."""
    check_trim(fps, start, end)
    seconds = min(end - start if end else 4.0, limits.max_duration)
    fps, notices = fps or 25.0, []
    if seconds * fps > limits.max_frames:
        seconds = limits.max_frames / fps
        notices.append(frame_cap_notice(limits.max_frames, fps))
    return Driving(make_motion(name, seconds=seconds, fps=fps), None, None, 0.0, notices)


def pose_file_driving(path: Path, *, fps: float | None, start: float, end: float | None,
                      limits: InputLimits) -> Driving:
    """A saved pose sequence as driving motion, under the same limits as a video: the
    same trim, frame-rate, duration and frame caps, with the same notices."""
    if (mb := path.stat().st_size / 2**20) > limits.max_upload_mb:
        raise InputError(f"The pose file is {mb:.0f} MB; the limit is "
                         f"{limits.max_upload_mb:g} MB. Trim it and upload it again.")
    try:
        poses = PoseSequence.load(path, max_bytes=int(limits.max_upload_mb * 2**20))
    except InputError:
        raise
    except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise InputError(f"Could not read the pose file {path.name}: {e}") from e
    if not len(poses) or not poses.fps > 0:
        raise InputError(f"The pose file {path.name} holds no frames (or no frame rate); "
                         "save the poses again with `--json` and use that file.")
    info = VideoInfo(poses.width, poses.height, poses.fps, len(poses) / poses.fps,
                     len(poses), has_audio=False)
    plan, notices = plan_span(info, fps=fps, start=start, end=end,
                              limits=replace(limits, max_side=0), what="pose file")
    times = plan.start + np.arange(plan.expected) / plan.rate
    index = np.minimum(np.round(times * poses.fps + 1e-6).astype(int), len(poses) - 1)
    if len(index) > limits.max_frames:
        index = index[: limits.max_frames]
        notices.append(frame_cap_notice(limits.max_frames, plan.rate))
    kept = PoseSequence(poses.keypoints[index], poses.width, poses.height, plan.rate)
    return Driving(kept, None, None, 0.0, notices)


def video_driving(path: Path, *, fps: float | None, start: float, end: float | None,
                  person: int, limits: InputLimits, detector: Callable[[], object],
                  lock: threading.Lock, cache: PoseCache, progress: Progress,
                  resampling: str = "filter", store: PoseStore | None = None) -> Driving:
    """Poses of person `person` in a driving video (its rate changed by `resampling`, see
    `read_video`); `detector()` gives the detector (created on first use), used under
    `lock`. The frames are kept at the input limits' size, as the public code keeps the
    footage (Wan's face crops, replace mode's background and masks are cut from them);
    only the detection sees copies at most DETECTION_MAX_SIDE on a side, and its points are
    scaled back to the frames' pixels. Poses found before come from `cache` (this process)
    or `store` (on disk, any process)."""
    progress(0.0, "Reading the driving video")
    clip = read_video(path, fps=fps, start=start, end=end, limits=limits, resampling=resampling)
    height, width = clip.frames[0].shape[:2]
    small = _fit_side(width, height, DETECTION_MAX_SIDE)
    key = (file_digest(path), clip.fps, clip.start, len(clip.frames), (width, height),
           detector().name, person, resampling)

    def detect() -> tuple[PoseSequence, list[str]]:
        total = len(clip.frames)

        def detection_progress(done: int, _total=None):
            progress(0.05 + 0.6 * done / total, f"Detecting poses: frame {done}/{total}")

        frames = (clip.frames if small == (width, height) else
                  (detection_copy(f) for f in clip.frames))
        found = detector()
        with lock:
            poses = found.detect_video(frames, clip.fps, *small, progress=detection_progress,
                                       person=person)
        if small != (width, height):
            kp = poses.keypoints.copy()
            kp[..., 0] *= width / small[0]
            kp[..., 1] *= height / small[1]
            poses = PoseSequence(kp, width, height, poses.fps)
        return poses, []

    poses, _ = remembered(key, detector(), cache, store, detect)
    notices = list(clip.notices)
    poses, report = check_poses(poses)  # cheap, so the cache keeps what was detected
    notices += [report.notice()] if report.touched else []
    present = poses.present()
    if not present.any():
        raise InputError(
            "No person found in any frame of the driving video. Use a video in which one "
            "person is visible (whole body for dances and walks)."
        )
    # frames without the person are told once, by retargeting, which knows what becomes
    # of them (they stay empty)
    return Driving(poses, clip.frames, path, clip.start, notices, clip.source.fps)


def detection_copy(frame: np.ndarray) -> np.ndarray:
    """What the pose detector sees of a driving frame: at most DETECTION_MAX_SIDE on a side,
    shrunk by area interpolation (the frame itself when it is that small already). The
    person finder and the driving poses both look at these, so a person index means the
    same person in both."""
    height, width = frame.shape[:2]
    small = _fit_side(width, height, DETECTION_MAX_SIDE)
    if small == (width, height):
        return frame
    return cv2.resize(frame, small, interpolation=cv2.INTER_AREA)


def _fit_side(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(width, height) scaled to at most `max_side` on the long side, sides even."""
    if max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
