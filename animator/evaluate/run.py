"""`evaluate_clip`: every metric of one generated clip, in one pass over its frames.

Inputs are what a run leaves behind: the clip, the portrait, the target poses (the run's
poses.json, or the driving input to derive them again exactly as `Animator` does) and,
for self-driven reconstruction, a ground-truth video. The target poses are in the
portrait's pixels; `Animator` crops and scales the portrait to the generator's canvas
(`Framing.around`, centred on the portrait's person), so the same framing is rebuilt
here and applied to the poses (and to a ground truth of the portrait's size) before
anything is compared with the clip's frames.

The clip is decoded once and streamed: each frame goes to the flicker meter, the face
embedder and the ground-truth comparison as it passes to the pose detector, so a long clip
never sits in memory.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from animator.config import RetargetConfig
from animator.errors import InputError
from animator.evaluate.config import EvaluateConfig
from animator.evaluate.evaluation import Evaluation
from animator.evaluate.identity import IdentityScores
from animator.evaluate.pose import keypoint_jitter, pose_accuracy
from animator.evaluate.proportion import compare_proportions
from animator.evaluate.sync import check_sync
from animator.evaluate.temporal import WarpingError
from animator.evaluate.truth import InBackground, Networks, TruthComparison
from animator.framing import Framing
from animator.pose.motions import list_motions
from animator.pose.skeleton import PoseSequence
from animator.pose.store import file_digest
from animator.video import iter_video, probe_video, read_image


@dataclass
class Target:
    """What the clip was asked to show, in the portrait's pixels, and how to line it up."""

    poses: PoseSequence | None  # retargeted poses; None: no pose accuracy
    portrait: np.ndarray | None  # RGB, as `Animator` read it
    person_x: float | None  # the portrait person's horizontal centre (for the framing)
    lead_in: int | None = None  # transition frames before the first driving frame (if known)
    truth_start: int = 0  # ground-truth frame shown by the first frame after the lead-in
    driving: Path | None = None  # driving video, for audio and a ground truth's alignment
    audio_start: float | None = None  # seconds into `driving` where the clip's sound starts
    notes: list[str] = field(default_factory=list)
    portrait_pose: PoseSequence | None = None  # the portrait's own pose (for proportions)
    driver_poses: PoseSequence | None = None  # the driver as detected (for proportions)


def _person_x(reference: PoseSequence) -> float | None:
    """Median x of the portrait pose's visible points: what `Animator` centres the crop on."""
    xs = reference.xy[0, :, 0][reference.valid()[0]]
    return float(np.median(xs)) if len(xs) else None


def _load_poses(path: str | Path) -> PoseSequence:
    try:
        return PoseSequence.load(path)
    except FileNotFoundError:
        raise InputError(f"The pose file {path} was not found; pass the file that "
                         "`animate --json` wrote for this clip.") from None
    except (ValueError, KeyError, OSError) as e:
        raise InputError(f"Could not read the pose file {Path(path).name}: {e}. Pass the "
                         "poses.json that `animate --json` wrote.") from e


def make_target(animator, *, portrait: str | Path | None, poses: str | Path | PoseSequence |
                None = None, driving: str | Path | None = None, fps: float,
                retarget_config: RetargetConfig | None = None, start: float = 0.0,
                end: float | None = None) -> Target:
    """The target of a run: its poses file, or `driving` retargeted again as `animate` did
    (at the clip's frame rate `fps`; `retarget_config`, `start`, `end` as the run had them)."""
    image = None
    if portrait is not None:
        image = read_image(portrait, max_side=animator.limits.max_side)
    notes: list[str] = []
    if poses is None and driving is not None:
        if image is None:
            raise InputError("Deriving the target poses from --driving needs the portrait: "
                             "pass --image.")
        prep = animator.prepare(image, str(driving), retarget_config=retarget_config, fps=fps,
                                start=start, end=end)
        result = prep.retargeted
        is_video = prep.driving.audio is not None or prep.driving.frames is not None
        return Target(result.poses, image, _person_x(prep.reference), result.lead_in,
                      result.driver_start + round(prep.driving.audio_start * fps),
                      Path(driving) if is_video else None,
                      (prep.driving.audio_start + result.driver_start / result.poses.fps)
                      if is_video else None, notes, prep.reference,
                      prep.driving.poses if is_video else None)
    if isinstance(poses, (str, Path)):
        poses = _load_poses(poses)
    person_x = reference = None
    if image is not None:
        if poses is not None and (poses.width, poses.height) != (image.shape[1], image.shape[0]):
            raise InputError(
                f"The poses were made for a {poses.width}x{poses.height} portrait but the "
                f"portrait is {image.shape[1]}x{image.shape[0]}: pass the portrait of that run.")
        reference, _ = animator.portrait_pose(image)
        person_x = _person_x(reference)
    elif poses is not None:
        # The lead-in starts from the portrait's own pose: frame 0 stands where it stood.
        person_x = _person_x(poses[0]) if poses.valid()[0].any() else None
        notes.append("No portrait given: the crop to the clip's canvas (if any) is centred "
                     "on the first target pose.")
    path = None
    if driving is not None and not (isinstance(driving, str) and driving in list_motions()):
        path = Path(driving)
    return Target(poses, image, person_x, None, 0, path, None, notes, reference)


def _truth_frames(path: Path, fps: float, framing: Framing, portrait_size, size,
                  start: int, resize: bool = True) -> Iterator[np.ndarray]:
    """Ground-truth frames from frame `start` on, on the clip's canvas: cropped like the
    portrait when they have its shape (self-driven reconstruction: the portrait is one of
    them, perhaps downscaled on reading), else resized (`resize`) or left as they are
    (DisCo resizes the generated frame to the truth's size instead)."""
    pw, ph = portrait_size
    for i, frame in enumerate(iter_video(path, fps=fps)):
        if i < start:
            continue
        h, w = frame.shape[:2]
        if abs(w / h - pw / ph) < 0.01 * pw / ph:
            if (w, h) != (pw, ph):
                frame = cv2.resize(frame, (pw, ph), interpolation=cv2.INTER_AREA)
            yield framing.image(frame)
        elif (w, h) == size or not resize:
            yield frame
        else:
            yield cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _series(values, length: int, offset: int = 0) -> list[float]:
    """`values` placed from frame `offset` on, in a list of `length` (NaN elsewhere)."""
    out = np.full(length, np.nan)
    values = np.asarray(values, dtype=np.float64)[: max(0, length - offset)]
    out[offset: offset + len(values)] = values
    return out.tolist()


def _identity(target: Target, framing: Framing, embedder, config, notes):
    if embedder is None or target.portrait is None:
        return None
    reference = embedder.embed(framing.image(target.portrait))
    if reference is None:
        notes.append("No face found in the portrait: identity (CSIM) not measured.")
        return None
    return IdentityScores(embedder, reference, config.identity_stride)


def _poses(goal, detected, config, notes, T: int, per_frame) -> tuple:
    """Pose accuracy and jitter of the re-detected poses, with their per-frame series."""
    accuracy = pose_accuracy(goal, detected, config.threshold)
    notes += accuracy.notes
    jitter, jitter_frames = keypoint_jitter(detected, accuracy.sizes, config.threshold)
    target_jitter, _ = keypoint_jitter(goal, accuracy.sizes, config.threshold)
    per_frame["pose_error"] = _series(accuracy.frame_error, T)
    for a, values in accuracy.frame_pck.items():
        per_frame[f"pck_{a}"] = _series(values, T)
    per_frame["jitter"] = _series(jitter_frames, T)
    return accuracy, jitter, target_jitter


def _proportions(target: Target, detected, config, notes):
    if detected is None or target.portrait_pose is None:
        return None
    result = compare_proportions(detected, target.portrait_pose, target.driver_poses,
                                 config.threshold)
    notes += result.notes
    return result


def _framing(target: Target, info, notes: list[str]):
    """The portrait-to-canvas framing `Animator` used, and the target poses through it."""
    size = (info.width, info.height)
    canvas_from = (size if target.portrait is None else
                   (target.portrait.shape[1], target.portrait.shape[0]))
    if target.poses is not None:
        canvas_from = (target.poses.width, target.poses.height)
    framing = Framing.around(canvas_from, size, target.person_x)
    goal = framing.poses(target.poses) if target.poses is not None else None
    if goal is not None and abs(goal.fps - info.fps) > 0.01 * info.fps:
        notes.append(f"The target poses run at {goal.fps:g} fps and the clip at {info.fps:g} "
                     "fps: frames are compared by index.")
    return canvas_from, framing, goal


def _truth_series(result, T: int, skip: int, per_frame, notes: list[str]) -> None:
    notes += result.notes
    for name, values in result.per_frame.items():
        per_frame[name] = _series(values, T, skip)
    if result.summary["frames"] < T - skip:
        notes.append(f"The ground truth covers {result.summary['frames']} of the clip's "
                     f"{T - skip} frames.")


def _sync(clip: Path, target: Target, goal, T: int, fps: float, notes: list[str]):
    sync = check_sync(clip, len(goal) if goal is not None else T,
                      goal.fps if goal is not None else fps, driving=target.driving,
                      expected_lag=(None if target.audio_start is None or target.lead_in is None
                                    else target.audio_start - target.lead_in / fps))
    if sync.audio_note:
        notes.append(f"Audio: {sync.audio_note}.")
    if goal is not None and sync.target_frames != T:
        notes.append(f"The clip has {T} frames and the target poses {sync.target_frames}.")
    return sync


def _detected(animator, clip: Path, frames, fps: float, size: tuple[int, int]
              ) -> PoseSequence:
    """The detector's poses of the clip. A clip evaluated before (same content, same
    detector) takes them from the animator's pose store (`pose/store.py`); its frames are
    still read, for the other measures."""
    store, detector = getattr(animator, "pose_store", None), animator.detector
    if store is None:
        return detector.detect_video(frames(), fps, *size)
    key = ("evaluated clip", file_digest(clip), size)  # the clip read once more, to hash it
    found = store.get(key, detector)
    if found is not None:
        for _ in frames():
            pass
        return found[0]
    poses = detector.detect_video(frames(), fps, *size)
    store.put(key, detector, poses)
    return poses


def evaluate_clip(clip: str | Path, target: Target, *, animator,
                  ground_truth: str | Path | None = None,
                  config: EvaluateConfig | None = None, embedder=None,
                  lpips_model=None, fid_model=None, fid_vid_model=None,
                  fvd_model=None) -> Evaluation:
    """Measure one clip against its target; see the package docstring for the metrics.

    `animator` supplies the pose detector (`Animator.detector`, the same choice `animate`
    makes); `embedder` a `FaceEmbedder` (None: no CSIM); with `ground_truth`, the networks
    `lpips_model` (`LPIPS`), `fid_model` (`FIDInception`), `fid_vid_model` and `fvd_model`
    (`fvd.VideoNetwork`) add their scores, computed as `config.protocol` says.
    """
    config = config or EvaluateConfig()
    started = time.perf_counter()
    clip = Path(clip)
    info = probe_video(clip)
    notes = list(target.notes)
    size = (info.width, info.height)
    canvas_from, framing, goal = _framing(target, info, notes)

    flicker = WarpingError(config.flow_side)
    identity = _identity(target, framing, embedder, config, notes)
    skip = target.lead_in or 0  # lead-in frames have no ground truth
    comparison = truth = None
    if ground_truth is not None:
        comparison = InBackground(TruthComparison(config.protocol, Networks(
            lpips_model, fid_model, fid_vid_model, fvd_model)))
        truth = _truth_frames(Path(ground_truth), info.fps, framing, canvas_from, size,
                              target.truth_start, resize=config.protocol != "disco")
    frame_count = 0

    def frames() -> Iterator[np.ndarray]:
        nonlocal frame_count
        for i, frame in enumerate(iter_video(clip)):
            frame_count += 1
            flicker.add(frame)
            if identity is not None:
                identity.add(frame)
            if truth is not None and i >= skip:
                other = next(truth, None)
                if other is not None:
                    comparison.add(frame, other)
            yield frame

    detected = None
    try:
        if config.pose and (goal is not None or target.portrait_pose is not None):
            detected = _detected(animator, clip, frames, info.fps, size)
        else:
            for _ in frames():
                pass
    except BaseException:
        if comparison is not None:
            comparison.close()
        raise
    T = frame_count
    per_frame = {"flicker": _series(flicker.scores, T)}
    accuracy = jitter = target_jitter = None
    if goal is not None and detected is not None:
        accuracy, jitter, target_jitter = _poses(goal, detected, config, notes, T, per_frame)
    elif not config.pose:
        notes.append("Pose accuracy not measured (--no-pose): the poses were not detected.")
    else:
        notes.append("No target poses (pass --poses or --driving): pose accuracy not measured.")
    identity_summary = None
    if identity is not None:
        csim = np.full(T, np.nan)
        csim[identity.frames] = identity.csim
        per_frame["csim"] = csim.tolist()
        identity_summary = identity.summary(info.fps)
    elif embedder is None and config.identity:
        notes.append("No face model on this machine: identity (CSIM) not measured. Run "
                     "`python -m animator download` (insightface antelopev2) or pass "
                     "--face-model-dir.")
    result = comparison.finish() if comparison is not None else None
    if result is not None:
        _truth_series(result, T, skip, per_frame, notes)
    summary = result.summary if result is not None else {}
    sync = _sync(clip, target, goal, T, info.fps, notes)
    pixel_keys = ("l1", "psnr", "psnr_star", "ssim", "frames")
    return Evaluation(
        clip=clip, frames=T, fps=info.fps, width=size[0], height=size[1], pose=accuracy,
        jitter=jitter, target_jitter=target_jitter, flicker=flicker.mean,
        identity=identity_summary,
        pixels={k: v for k, v in summary.items() if k in pixel_keys} if result else None,
        lpips=summary.get("lpips"), fid=summary.get("fid"), sync=sync, per_frame=per_frame,
        notes=notes, seconds=time.perf_counter() - started, target=goal,
        protocol=config.protocol, fid_vid=summary.get("fid_vid"), fvd=summary.get("fvd"),
        proportions=_proportions(target, detected, config, notes),
        truth=Path(ground_truth) if ground_truth is not None else None,
        features=result.features if result is not None else {},
    )


__all__ = ["Evaluation", "Target", "evaluate_clip", "make_target"]
