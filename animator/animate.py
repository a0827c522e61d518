"""`Animator`: the one place that strings the steps together (DESIGN.md, "The flow").

The app, the CLI and batch jobs call this class; nothing else re-implements the flow.
Each step it calls is a plain function usable alone; this class adds what a product needs
around them: input checks with readable messages, a pose cache so that re-running with
new settings skips detection, progress reporting and output files.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from animator.config import InputLimits, RetargetConfig
from animator.errors import InputError
from animator.pose.detect import make_detector
from animator.pose.motions import list_motions, make_motion
from animator.pose.render import draw_pose, overlay_pose
from animator.pose.retarget import Retargeted, retarget
from animator.pose.skeleton import PoseSequence
from animator.video import VideoWriter, probe_video, read_image, read_video, side_by_side

Progress = Callable[[float, str], None]
POSE_FILE_SUFFIXES = (".json", ".npz")
DETECTION_MAX_SIDE = 640  # driving frames are detected (and previewed) at this size
MAX_DRIVING_FPS = 30.0  # faster sources are resampled; motion above this adds no information
PREVIEW_HEIGHT = 512


def _no_progress(fraction: float, desc: str) -> None:
    pass


def _file_digest(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Driving:
    """The driving motion, whatever it came from: poses plus what is needed to preview it."""

    poses: PoseSequence
    frames: list[np.ndarray] | None  # RGB frames the poses were found in; None for motions/files
    audio: Path | None  # file whose audio track goes with the poses
    audio_start: float  # seconds into `audio` where poses[0] sits
    notices: list[str] = field(default_factory=list)


@dataclass
class PosePreview:
    """What "Preview pose" returns: files for the user plus the arrays behind them."""

    video: Path  # side by side: driving (with its skeleton) | retargeted skeleton over portrait
    first_frame: np.ndarray  # the first retargeted pose over the portrait, RGB
    poses_file: Path  # retargeted poses, OpenPose-style JSON in portrait pixels
    portrait: np.ndarray
    driving: Driving
    retargeted: Retargeted
    notices: list[str]


class Animator:
    """Portrait + driving motion -> poses (and, with a generator loaded, video)."""

    def __init__(
        self,
        *,
        limits: InputLimits | None = None,
        pose_backend: str = "auto",
        weights_dir: str | Path | None = None,
        device: str = "cpu",
        work_dir: str | Path | None = None,
        pose_cache_size: int = 16,
    ):
        self.limits = limits or InputLimits()
        self.pose_backend = pose_backend
        self.weights_dir = weights_dir
        self.device = device
        self.work_dir = Path(work_dir or Path(tempfile.gettempdir()) / "animator")
        self.notices: list[str] = []  # one-off notes from loading (e.g. which detector)
        self._detector = None
        self._detector_lock = threading.Lock()
        self._pose_cache: OrderedDict[tuple, PoseSequence] = OrderedDict()
        self._pose_cache_size = pose_cache_size

    # --- pose detection ------------------------------------------------------------------

    @property
    def detector(self):
        """The pose detector, created on first use (loading it costs time and memory)."""
        with self._detector_lock:
            if self._detector is None:
                self._detector = make_detector(
                    self.pose_backend, weights_dir=self.weights_dir, device=self.device,
                    notify=self.notices.append,
                )
            return self._detector

    def portrait_pose(self, image: np.ndarray) -> tuple[PoseSequence, list[str]]:
        """Detect the portrait's person; refuse a portrait without one."""
        detector = self.detector
        with self._detector_lock:
            pose, num_people = detector.detect_image(image)
        if pose is None:
            raise InputError(
                "No person found in the portrait. Use a photo of one person whose head and "
                "shoulders are clearly visible."
            )
        notices = []
        if num_people > 1:
            notices.append(f"Found {num_people} people in the portrait; animating the largest.")
        height, width = image.shape[:2]
        return PoseSequence(pose[None], width, height, fps=25.0), notices

    def driving_poses(
        self,
        driving: str | Path,
        *,
        fps: float | None = None,
        start: float = 0.0,
        end: float | None = None,
        progress: Progress = _no_progress,
    ) -> Driving:
        """Poses of the driving motion: a built-in motion name, a pose file or a video."""
        if isinstance(driving, str) and driving in list_motions():
            seconds = min(4.0, self.limits.max_duration)
            return Driving(make_motion(driving, seconds=seconds, fps=fps or 25.0), None, None, 0.0)
        path = Path(driving)
        if not path.is_file():
            raise InputError(
                f"Driving input {str(driving)!r} is neither a file nor a built-in motion "
                f"({', '.join(list_motions())}). Upload a video or pick a motion."
            )
        if path.suffix.lower() in POSE_FILE_SUFFIXES:
            try:
                poses = PoseSequence.load(path)
            except (ValueError, KeyError, OSError) as e:
                raise InputError(f"Could not read the pose file {path.name}: {e}") from e
            return Driving(poses, None, None, 0.0)
        return self._video_poses(path, fps=fps, start=start, end=end, progress=progress)

    def _video_poses(self, path: Path, *, fps, start, end, progress: Progress) -> Driving:
        limits = InputLimits(**{**vars(self.limits),
                                "max_side": min(self.limits.max_side, DETECTION_MAX_SIDE)})
        progress(0.0, "Reading the driving video")
        if fps is None and probe_video(path).fps > MAX_DRIVING_FPS:
            fps = MAX_DRIVING_FPS
        clip = read_video(path, fps=fps, start=start, end=end, limits=limits)
        key = (_file_digest(path), clip.fps, clip.start, len(clip.frames), self.detector.name)
        poses = self._pose_cache.get(key)
        if poses is None:
            height, width = clip.frames[0].shape[:2]
            total = len(clip.frames)

            def detection_progress(done: int, _total=None):
                progress(0.05 + 0.6 * done / total, f"Detecting poses: frame {done}/{total}")

            detector = self.detector
            with self._detector_lock:
                poses = detector.detect_video(
                    clip.frames, clip.fps, width, height, progress=detection_progress
                )
            self._remember(key, poses)
        else:
            self._pose_cache.move_to_end(key)
        notices = list(clip.notices)
        present = poses.present()
        if not present.any():
            raise InputError(
                "No person found in any frame of the driving video. Use a video in which one "
                "person is visible (whole body for dances and walks)."
            )
        missing = int((~present).sum())
        if missing:
            notices.append(f"No person in {missing} of {len(poses)} driving frames; those frames "
                           "keep the nearest pose or stay empty.")
        return Driving(poses, clip.frames, path, clip.start, notices)

    def clear_pose_cache(self) -> None:
        self._pose_cache.clear()

    def _remember(self, key: tuple, poses: PoseSequence) -> None:
        self._pose_cache[key] = poses
        while len(self._pose_cache) > self._pose_cache_size:
            self._pose_cache.popitem(last=False)

    # --- pose preview ----------------------------------------------------------------------

    def preview_pose(
        self,
        portrait: str | Path | np.ndarray,
        driving: str | Path,
        *,
        retarget_config: RetargetConfig | None = None,
        fps: float | None = None,
        start: float = 0.0,
        end: float | None = None,
        out_dir: str | Path | None = None,
        progress: Progress = _no_progress,
    ) -> PosePreview:
        """Detect, retarget and render: driving | retargeted skeleton over the portrait."""
        image = portrait if isinstance(portrait, np.ndarray) else read_image(
            portrait, max_side=self.limits.max_side)
        progress(0.0, "Detecting the portrait's pose")
        ref, notices = self.portrait_pose(image)
        drive = self.driving_poses(driving, fps=fps, start=start, end=end, progress=progress)
        notices += drive.notices
        progress(0.7, "Retargeting to the portrait's body")
        result = retarget(drive.poses, ref, retarget_config or RetargetConfig())
        notices += result.notices

        out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(dir=self._jobs_dir()))
        out.mkdir(parents=True, exist_ok=True)
        poses_file = result.poses.save(out / "poses.json")
        video = out / "pose_preview.mp4"
        frames = self._preview_frames(image, drive, result)
        total = len(result.poses)
        with VideoWriter(
            video, result.poses.fps, audio=drive.audio,
            audio_start=drive.audio_start + result.driver_start / drive.poses.fps,
            audio_delay=result.lead_in / result.poses.fps,
        ) as writer:
            for i, frame in enumerate(frames):
                writer.write(frame)
                if i % 10 == 0:
                    progress(0.75 + 0.25 * i / total, f"Rendering the preview: frame {i}/{total}")
        first = overlay_pose(image, result.poses.keypoints[result.lead_in], face=True)
        progress(1.0, "Done")
        return PosePreview(video, first, poses_file, image, drive, result, notices)

    def _preview_frames(self, image: np.ndarray, drive: Driving, result: Retargeted):
        """Yield side-by-side preview frames, one per retargeted frame."""
        driver = drive.poses
        for i, pose in enumerate(result.poses.keypoints):
            j = result.driver_start + max(0, i - result.lead_in)
            if drive.frames is not None:
                left = overlay_pose(drive.frames[j], driver.keypoints[j], face=True)
            else:
                left = draw_pose(driver.keypoints[j], driver.width, driver.height, face=True)
            right = overlay_pose(image, pose, face=True)
            yield side_by_side(left, right, height=min(PREVIEW_HEIGHT, image.shape[0]))

    def _jobs_dir(self) -> Path:
        jobs = self.work_dir / "jobs"
        jobs.mkdir(parents=True, exist_ok=True)
        return jobs
