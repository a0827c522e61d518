"""`Animator`: the one place that strings the steps together (DESIGN.md, "The flow").

The app, the CLI and batch jobs call this class; nothing else re-implements the flow.
Each step it calls is a plain function usable alone; this class adds what a product needs
around them: input checks with readable messages, a pose cache so that re-running with
new settings skips detection, a generator loaded once (lazily, by one thread), progress
per stage, cancellation, and output files that are removed again when a job fails.

The separable parts live next to it: driving.py (the driving motion from a video, a pose
file or a built-in motion, and the pose cache), people_choice.py (whose pose: the portrait's
person, the people to choose from) and jobs.py (job folders and their cleanup). What stays,
over 400 lines, is the class whose methods are the public API, one per thing a user asks
for, and the result types they return.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from animator import families
from animator.config import InputLimits, RetargetConfig
from animator.driving import (
    VIDEO_SUFFIXES,
    Driving,
    Progress,
    detection_copy,
    motion_driving,
    pose_file_driving,
    video_driving,
)
from animator.errors import Cancelled, InputError
from animator.estimate import describe_seconds
from animator.families.base import GenerationInputs
from animator.jobs import job_folder, release_memory, remove_old_jobs
from animator.people_choice import PeopleFound, detect_portrait_pose, first_people
from animator.pose.detect import check_person_index, make_detector
from animator.pose.motions import list_motions
from animator.pose.render import RenderedPoses, draw_pose, overlay_pose
from animator.pose.retarget import Retargeted, check_retarget_config, retarget
from animator.pose.skeleton import POSE_FILE_SUFFIXES, PoseSequence
from animator.pose.store import PoseCache, PoseStore, remembered
from animator.video import VideoWriter, check_trim, iter_video, read_image, side_by_side

PREVIEW_HEIGHT = 512


def _no_progress(fraction: float, desc: str) -> None:
    pass


def _resolve_device(device: str) -> str:
    """"auto" -> "cuda" when a GPU is usable, else "cpu"."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class Prepared:
    """Everything before generation: the portrait, both poses, the retargeted motion."""

    image: np.ndarray  # the portrait, RGB
    reference: PoseSequence  # the portrait's pose (one frame, portrait pixels)
    driving: Driving
    retargeted: Retargeted
    notices: list[str]

    def driver_index(self, i: int) -> int:
        """The driving frame behind retargeted frame i (lead-in frames show the first)."""
        return self.retargeted.driver_start + max(0, i - self.retargeted.lead_in)


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


@dataclass
class Animation:
    """What `animate` returns."""

    video: Path  # the animated clip with the driving audio
    comparison: Path | None  # driving | skeleton | result, side by side
    poses_file: Path  # retargeted poses, OpenPose-style JSON in portrait pixels
    seed: int  # the seed used (re-use it to get the same clip)
    settings: dict[str, Any]  # every generation setting used, for the record
    notices: list[str]


def _releasing_memory(method):
    """A job method that returns the memory its job freed to the system when it ends,
    finished, failed or cancelled (`jobs.release_memory`: a server's RSS otherwise keeps
    every job's freed frames)."""

    @functools.wraps(method)
    def job(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        finally:
            release_memory()

    return job


class Animator:
    """Portrait + driving motion -> poses -> animated clip.

    Pose work happens on the CPU and needs no download. The generator (a preset of any
    family in `animator.families`) is loaded on first use by `load()`, once, whichever
    thread asks first. `load_options` are family load options (`families.load_options_of`:
    the Wan memory mode, fp8, fast); those a preset's family lacks are ignored while unset.
    Detected poses are kept in memory (`pose_cache_size` videos and portraits) and on disk
    (`pose_store`; "auto": where the environment says, `PoseStore.default`; None: not).
    """

    def __init__(
        self,
        preset: str = "tiny",
        *,
        device: str = "auto",
        dtype=None,
        low_memory: bool = False,
        limits: InputLimits | None = None,
        pose_backend: str = "auto",
        weights_dir: str | Path | None = None,
        work_dir: str | Path | None = None,
        pose_cache_size: int = 16,
        pose_store: PoseStore | None | str = "auto",
        job_ttl: float = 3600.0,
        load_options: Mapping[str, Any] | None = None,
    ):
        self.preset = preset
        self._device = device  # "auto" is resolved on first use: that imports torch
        self.dtype = dtype
        self.low_memory = low_memory
        self.load_options = {k: v for k, v in (load_options or {}).items() if v is not None}
        self.limits = limits or InputLimits()
        self.pose_backend = pose_backend
        self.weights_dir = weights_dir
        self.work_dir = Path(work_dir or Path(tempfile.gettempdir()) / "animator")
        self.job_ttl = job_ttl  # finished jobs' files are removed after this many seconds
        self._detector_notices: list[str] = []  # which detector runs, told with every job
        self._detector = None
        self._detector_lock = threading.Lock()
        self._pose_cache = PoseCache(pose_cache_size)
        self._portrait_cache = PoseCache(pose_cache_size)
        self.pose_store = PoseStore.default() if pose_store == "auto" else pose_store
        self._loaded = None
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()

    @property
    def device(self) -> str:
        """The torch device; "auto" becomes "cuda" when a GPU is usable, else "cpu"
        (decided when first asked: pose work never needs torch)."""
        if self._device == "auto":
            self._device = _resolve_device("auto")
        return self._device

    @device.setter
    def device(self, device: str) -> None:
        self._device = device

    @property
    def detector_notices(self) -> list[str]:
        """What the detector choice left to say (e.g. a fallback to MediaPipe); every job's
        notices include it."""
        return list(self._detector_notices)

    @property
    def loaded(self) -> bool:
        return self._loaded is not None

    def use_preset(self, name: str) -> None:
        """Switch presets; the previous generator is dropped (one is held at a time)."""
        families.family_of(name)  # refuses an unknown name with the list of known ones
        if name != self.preset:
            self._drop_generator(preset=name)

    def set_low_memory(self, low_memory: bool) -> None:
        """Low-memory mode: models offloaded between uses (GPU), guidance in sequence and
        small decode chunks. Switching it reloads the generator on next use."""
        if low_memory != self.low_memory:
            self._drop_generator(low_memory=low_memory)

    def set_load_options(self, **options) -> None:
        """Family load options (None = unset); changing them reloads the generator on next
        use."""
        options = {k: v for k, v in options.items() if v is not None}
        if options != self.load_options:
            self._drop_generator(load_options=options)

    def _drop_generator(self, **changes) -> None:
        """Apply `changes` and drop the loaded generator (the next use loads anew); its
        memory is freed only when one was held (freeing nothing would import torch)."""
        with self._load_lock:
            held = self._loaded is not None
            for name, value in changes.items():
                setattr(self, name, value)
            self._loaded = None
        if held:
            _free_memory()

    # --- pose detection ------------------------------------------------------------------

    @property
    def detector(self):
        """The pose detector, created on first use (loading it costs time and memory)."""
        with self._detector_lock:
            if self._detector is None:
                self._detector = make_detector(
                    self.pose_backend, weights_dir=self.weights_dir,
                    device=lambda: "cuda" if self.device.startswith("cuda") else "cpu",
                    notify=self._detector_notices.append,
                )
            return self._detector

    def portrait_pose(self, image: np.ndarray, *, person: int = 0
                      ) -> tuple[PoseSequence, list[str]]:
        """Detect the portrait's person `person` (0: the largest); refuse a portrait
        without one. Implausible joints are removed (`pose.plausibility`). Remembered by
        the image's content: the page's person choice, preview and animation of one
        portrait detect it once (the detection is repeatable, so this gives the same pose)."""
        check_person_index(person)
        key = (hashlib.sha1(np.ascontiguousarray(image)).hexdigest(), image.shape, person,
               self.detector.name)
        pose, notices = remembered(
            key, self.detector, self._portrait_cache, self.pose_store,
            lambda: detect_portrait_pose(self.detector, self._detector_lock, image, person))
        return pose, list(notices)

    def find_people(self, source: str | Path | np.ndarray, *, fps: float | None = None,
                    start: float = 0.0) -> PeopleFound:
        """The people that a person index chooses from: in a portrait (image or image
        file), or in the first frame of a driving video that shows anybody (read as
        `driving_poses` reads and detects it: streamed, detection copies), with numbered
        boxes drawn for the page, in the frame's pixels."""
        if isinstance(source, np.ndarray) or Path(source).suffix.lower() not in VIDEO_SUFFIXES:
            image = source if isinstance(source, np.ndarray) else self.read_portrait(source)
            frames = [image]
        else:  # the first seconds are enough: nobody there means nobody to choose
            with contextlib.closing(iter_video(source, fps=fps, start=start, end=start + 10.0,
                                    max_side=self.limits.max_side)) as frames:
                return first_people(frames, self.detector, self._detector_lock,
                                    shrink=detection_copy)
        return first_people(frames, self.detector, self._detector_lock)

    def driving_poses(
        self,
        driving: str | Path,
        *,
        fps: float | None = None,
        start: float = 0.0,
        end: float | None = None,
        person: int = 0,
        progress: Progress = _no_progress,
        resampling: str = "filter",
    ) -> Driving:
        """Poses of the driving motion: a built-in motion name, a pose file or a video
        (person `person` of its first frame with people, 0: the largest, followed);
        `resampling`: how a video reaches `fps` (`animator.video.read_video`)."""
        check_person_index(person)
        if isinstance(driving, str) and driving in list_motions():
            return motion_driving(driving, fps=fps, start=start, end=end, limits=self.limits)
        path = Path(driving)
        if not path.is_file():
            raise InputError(
                f"Driving input {str(driving)!r} is neither a file nor a built-in motion "
                f"({', '.join(list_motions())}). Upload a video or pick a motion."
            )
        if path.suffix.lower() in POSE_FILE_SUFFIXES:
            return pose_file_driving(path, fps=fps, start=start, end=end, limits=self.limits)
        return video_driving(path, fps=fps, start=start, end=end, person=person,
                             limits=self.limits, detector=lambda: self.detector,
                             lock=self._detector_lock, cache=self._pose_cache,
                             progress=progress, resampling=resampling,
                             store=self.pose_store)

    def clear_pose_cache(self) -> None:
        self._pose_cache.clear()
        self._portrait_cache.clear()

    # --- the shared first half: portrait, driving motion, retargeting -------------------

    def read_portrait(self, path: str | Path) -> np.ndarray:
        """The portrait file as RGB, within the input limits (refused with a message)."""
        limits = self.limits
        return read_image(path, max_side=limits.max_side, min_side=limits.min_side,
                          max_megapixels=limits.max_megapixels)

    def prepare(
        self,
        portrait: str | Path | np.ndarray,
        driving: str | Path,
        *,
        retarget_config: RetargetConfig | None = None,
        fps: float | None = None,
        start: float = 0.0,
        end: float | None = None,
        person: int = 0,
        driving_person: int = 0,
        progress: Progress = _no_progress,
        resampling: str = "filter",
    ) -> Prepared:
        """Read and check the inputs, detect both poses and retarget the motion. `person`
        and `driving_person` choose among several people (0: the largest; see
        `find_people`)."""
        _check_request(retarget_config, fps, start, end, person, driving_person)
        image = portrait if isinstance(portrait, np.ndarray) else self.read_portrait(portrait)
        progress(0.0, "Detecting the portrait's pose")
        ref, notices = self.portrait_pose(image, person=person)
        drive = self.driving_poses(driving, fps=fps, start=start, end=end,
                                   person=driving_person,
                                   progress=_within(progress, 0.05, 0.9),
                                   resampling=resampling)
        progress(0.9, "Retargeting to the portrait's body")
        result = retarget(drive.poses, ref, retarget_config or RetargetConfig())
        progress(1.0, "Poses ready")
        notices = self.detector_notices + notices + drive.notices + result.notices
        return Prepared(image, ref, drive, result, notices)

    # --- pose preview ----------------------------------------------------------------------

    @_releasing_memory
    def preview_pose(self, portrait, driving, *, retarget_config: RetargetConfig | None = None,
                     fps: float | None = None, start: float = 0.0, end: float | None = None,
                     out_dir: str | Path | None = None, person: int = 0,
                     driving_person: int = 0,
                     progress: Progress = _no_progress) -> PosePreview:
        """Detect, retarget and render: driving | retargeted skeleton over the portrait."""
        prep = self.prepare(portrait, driving, retarget_config=retarget_config, fps=fps,
                            start=start, end=end, person=person,
                            driving_person=driving_person,
                            progress=_within(progress, 0.0, 0.75))
        result, total = prep.retargeted, len(prep.retargeted.poses)
        with self._job(out_dir) as out:
            poses_file = result.poses.save(out / "poses.json")
            with self._writer(out / "pose_preview.mp4", prep) as writer:
                for i in range(total):
                    j = prep.driver_index(i)
                    writer.write(side_by_side(self._driving_view(prep, j, skeleton=True),
                                              overlay_pose(prep.image, result.poses.keypoints[i],
                                                           face=True),
                                              height=min(PREVIEW_HEIGHT, prep.image.shape[0])))
                    if i % 10 == 0:
                        progress(0.75 + 0.25 * i / total, f"Rendering the preview: {i}/{total}")
        first = overlay_pose(prep.image, result.poses.keypoints[result.lead_in], face=True)
        progress(1.0, "Done")
        return PosePreview(writer.path, first, poses_file, prep.image, prep.driving, result,
                           prep.notices)

    # --- generation ------------------------------------------------------------------------

    def load(self, progress: Progress = _no_progress):
        """The preset's generator (`families.Generator`), loaded once; later calls return
        it."""
        with self._load_lock:
            if self._loaded is None:
                generator = families.load_generator(
                    self.preset, device=self.device, dtype=self.dtype,
                    weights_dir=self.weights_dir, low_memory=self.low_memory,
                    progress=progress, **self.load_options)
                if generator.detector_weights is not None and self.pose_backend == "auto" \
                        and self.weights_dir is None:
                    with self._detector_lock:  # the preset brought DWPose: use it from now on
                        self.weights_dir = generator.detector_weights
                        self._detector = None
                self._loaded = generator
            return self._loaded

    @_releasing_memory
    def animate(
        self,
        portrait: str | Path | np.ndarray,
        driving: str | Path,
        *,
        generation: Mapping[str, Any] | None = None,
        retarget_config: RetargetConfig | None = None,
        fps: float | None = None,
        start: float = 0.0,
        end: float | None = None,
        out_dir: str | Path | None = None,
        comparison: bool = True,
        person: int = 0,
        driving_person: int = 0,
        progress: Progress = _no_progress,
        cancel: threading.Event | None = None,
    ) -> Animation:
        """The whole flow: portrait + driving motion -> animated clip with the driving audio.

        `generation` overrides the settings of the preset's family (`families.settings_of`);
        the rest are the preset's defaults (the size follows the portrait's aspect). `fps`
        is the output frame rate: the driving video is resampled to it (None: the family's
        own rate if it has one, else the video's, at most `limits.max_fps`).
        Setting `cancel` stops the job at the next denoising step with `Cancelled`.
        """
        _check_request(retarget_config, fps, start, end, person, driving_person)
        generation = families.check_settings(self.preset, generation, self.device)
        generator = self.load(_within(progress, 0.0, 0.05))
        fps = fps if fps is not None else generator.fps
        resampling = getattr(generator, "resampling", "filter")
        retarget_config = generator.retarget_config(retarget_config or RetargetConfig(),
                                                    generation)
        prep = self.prepare(portrait, driving, retarget_config=retarget_config, fps=fps,
                            start=start, end=end, person=person,
                            driving_person=driving_person,
                            progress=_within(progress, 0.05, 0.2), resampling=resampling)
        poses = prep.retargeted.poses
        notices = [*generator.notices, *prep.notices]
        progress(0.2, "Identity")
        inputs = GenerationInputs(
            prep.image, prep.reference, poses, [prep.driver_index(i) for i in range(len(poses))],
            prep.driving.frames, prep.driving.poses, prep.driving.audio, generation,
            source_fps=prep.driving.source_fps)
        with self._job(out_dir) as out:
            poses_file = poses.save(out / "poses.json")
            result, compare, made = self._generate(generator, inputs, prep, out, comparison,
                                                   progress, cancel)
        progress(1.0, "Done")
        notices += made.notices
        summary = {"preset": self.preset, "seed": made.seed, "frames": len(poses),
                   "output_fps": poses.fps, "resampling": resampling,
                   "transition": retarget_config.transition,
                   "lead_in_frames": prep.retargeted.lead_in,
                   **{k: v for k, v in made.settings.items() if k != "seed"}}
        return Animation(result.path, compare.path if compare else None, poses_file, made.seed,
                         summary, notices)

    # --- helpers ---------------------------------------------------------------------------

    def _generate(self, generator, inputs: GenerationInputs, prep: Prepared, out: Path,
                  comparison: bool, progress: Progress, cancel: threading.Event | None):
        """Run the generator, each frame written to the clip (and the comparison) as it
        arrives; (clip writer, comparison writer or None, the generator's result)."""
        poses = prep.retargeted.poses
        shown = RenderedPoses(poses, face=True)  # the skeleton over nothing, for people
        total_frames = len(poses)
        with contextlib.ExitStack() as stack:
            result = stack.enter_context(self._writer(out / "animation.mp4", prep))
            compare = (stack.enter_context(self._writer(out / "comparison.mp4", prep))
                       if comparison else None)
            written = 0

            def write(frame: np.ndarray) -> None:
                nonlocal written
                result.write(frame)
                if compare is not None:
                    compare.write(side_by_side(
                        self._driving_view(prep, prep.driver_index(written)),
                        shown[written], frame, height=frame.shape[0]))
                written += 1
                progress(0.9 + 0.1 * written / total_frames,
                         f"Decoding and encoding: frame {written}/{total_frames}")

            started = time.perf_counter()

            def step(done: int, total: int, window: int) -> None:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Stopped: the animation was cancelled.")
                left = (time.perf_counter() - started) / done * (total - done)
                progress(0.25 + 0.65 * done / total,
                         f"Generating: {generator.step_text(done, total, window)}, "
                         f"{describe_seconds(left)} left")

            # One generation at a time: a cancelled job's thread may still be finishing
            # its step when the next job starts, and the pipeline's hooks hold per-call
            # state.
            with self._generate_lock:
                made = generator(inputs, write, callback=step)
        return result, compare, made

    def _driving_view(self, prep: Prepared, j: int, skeleton: bool = False) -> np.ndarray:
        """Driving frame j as the user knows it: the video frame (with its skeleton when
        asked), or the skeleton alone for motions and pose files."""
        drive = prep.driving
        pose = drive.poses.keypoints[j]
        if drive.frames is None:
            return draw_pose(pose, drive.poses.width, drive.poses.height, face=True)
        return overlay_pose(drive.frames[j], pose, face=True) if skeleton else drive.frames[j]

    def _writer(self, path: Path, prep: Prepared) -> VideoWriter:
        """A video writer carrying the driving audio, aligned with the retargeted frames."""
        result, drive = prep.retargeted, prep.driving
        return VideoWriter(path, result.poses.fps, audio=drive.audio,
                           audio_start=drive.audio_start + result.driver_start / drive.poses.fps,
                           audio_delay=result.lead_in / result.poses.fps)

    def _job(self, out_dir: str | Path | None):
        """The folder a job writes into; removed again if the job fails or is cancelled."""
        self.cleanup()
        return job_folder(self.work_dir, out_dir)

    def cleanup(self, max_age: float | None = None) -> None:
        """Remove job folders older than `max_age` seconds (default: `job_ttl`)."""
        remove_old_jobs(self.work_dir, self.job_ttl if max_age is None else max_age)


def _check_request(retarget_config: RetargetConfig | None, fps, start, end, person: int,
                   driving_person: int) -> None:
    """The numbers every job takes, refused with the field named before any work."""
    check_retarget_config(retarget_config or RetargetConfig())
    check_trim(fps, start, end)
    check_person_index(person)
    check_person_index(driving_person)


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _within(progress: Progress, low: float, high: float) -> Progress:
    """A stage's progress (0..1 of the stage) mapped into [low, high] of the job."""
    return lambda fraction, desc: progress(low + (high - low) * fraction, desc)
