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

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from animator.config import RetargetConfig
from animator.errors import InputError
from animator.evaluate.config import EvaluateConfig
from animator.evaluate.identity import IdentityScores
from animator.evaluate.pixels import PixelScores
from animator.evaluate.pose import PoseAccuracy, keypoint_jitter, pose_accuracy
from animator.evaluate.sync import Sync, check_sync
from animator.evaluate.temporal import WarpingError
from animator.framing import Framing
from animator.pose.motions import list_motions
from animator.pose.skeleton import PoseSequence
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


@dataclass
class Evaluation:
    """All results for one clip; `row()` flattens the headline numbers for a table."""

    clip: Path
    frames: int
    fps: float
    width: int
    height: int
    pose: PoseAccuracy | None
    jitter: float | None  # keypoint jitter of the re-detected poses (pose.keypoint_jitter)
    target_jitter: float | None  # the same of the target poses: what smooth motion scores
    flicker: float | None  # mean warping error, 8-bit levels (temporal.py)
    identity: dict[str, Any] | None  # CSIM mean/min/drift (identity.py); None: not measured
    pixels: dict[str, Any] | None  # L1/PSNR/SSIM against the ground truth; None: no truth
    lpips: float | None
    fid: float | None  # FID of the clip's frames against the ground truth's (fid.py)
    sync: Sync
    per_frame: dict[str, list[float]]  # series for plots; NaN where not measured
    notes: list[str]
    seconds: float  # time the evaluation took
    target: PoseSequence | None = None  # the target poses in the clip's pixels (not saved)

    def row(self) -> dict[str, Any]:
        p, s = self.pose, self.sync
        row: dict[str, Any] = {"clip": str(self.clip), "frames": self.frames,
                               "fps": round(self.fps, 3), "size": f"{self.width}x{self.height}"}
        if p is not None:
            row.update(pose_error=p.overall.error, pck_0_05=p.overall.pck["0.05"],
                       pck_0_1=p.overall.pck["0.1"], pose_found=p.overall.found,
                       lost_frames=len(p.lost_frames), pose_size=p.size_kind)
            for name, part in p.parts.items():
                row[f"{name}_error"] = part.error
                row[f"{name}_pck_0_1"] = part.pck["0.1"]
        row.update(jitter=self.jitter, target_jitter=self.target_jitter, flicker=self.flicker)
        if self.identity is not None:
            row.update(csim=self.identity["mean"], csim_min=self.identity["min"],
                       csim_drift_per_s=self.identity["drift_per_s"],
                       no_face=self.identity["no_face"])
        if self.pixels is not None:
            row.update(l1=self.pixels["l1"], psnr=self.pixels["psnr"], ssim=self.pixels["ssim"])
        if self.lpips is not None:
            row["lpips"] = self.lpips
        if self.fid is not None:
            row["fid"] = self.fid
        row.update(duration=s.duration, duration_error=s.duration_error, has_audio=s.has_audio,
                   audio_ok=s.audio_ok, audio_lag_error=s.audio_lag_error,
                   seconds=round(self.seconds, 3))
        return row

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (NaN and infinity written as null and "inf")."""
        pose = None
        if self.pose is not None:
            p = self.pose
            pose = {"size_kind": p.size_kind, "frames": p.frames, "lost_frames": p.lost_frames,
                    "overall": vars(p.overall),
                    "parts": {k: vars(v) for k, v in p.parts.items()}}
        data = {"clip": str(self.clip), "frames": self.frames, "fps": self.fps,
                "width": self.width, "height": self.height, "pose": pose,
                "jitter": self.jitter, "target_jitter": self.target_jitter,
                "flicker": self.flicker, "identity": self.identity, "pixels": self.pixels,
                "lpips": self.lpips, "fid": self.fid, "sync": vars(self.sync),
                "per_frame": self.per_frame, "notes": self.notes, "seconds": self.seconds}
        return _jsonable(data)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else ("inf" if math.isinf(value) else value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


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
                      if is_video else None, notes)
    if isinstance(poses, (str, Path)):
        poses = _load_poses(poses)
    person_x = None
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
    return Target(poses, image, person_x, None, 0, path, None, notes)


def _truth_frames(path: Path, fps: float, framing: Framing, portrait_size, size,
                  start: int) -> Iterator[np.ndarray]:
    """Ground-truth frames from frame `start` on, on the clip's canvas: cropped like the
    portrait when they have its shape (self-driven reconstruction: the portrait is one of
    them, perhaps downscaled on reading), else simply resized."""
    pw, ph = portrait_size
    for i, frame in enumerate(iter_video(path, fps=fps)):
        if i < start:
            continue
        h, w = frame.shape[:2]
        if abs(w / h - pw / ph) < 0.01 * pw / ph:
            if (w, h) != (pw, ph):
                frame = cv2.resize(frame, (pw, ph), interpolation=cv2.INTER_AREA)
            yield framing.image(frame)
        elif (w, h) == size:
            yield frame
        else:
            yield cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def _nan_list(values, length: int) -> list[float]:
    out = np.full(length, np.nan)
    values = np.asarray(values, dtype=np.float64)[:length]
    out[: len(values)] = values
    return out.tolist()


def evaluate_clip(clip: str | Path, target: Target, *, animator,
                  ground_truth: str | Path | None = None,
                  config: EvaluateConfig | None = None, embedder=None,
                  lpips_model=None, fid_model=None) -> Evaluation:
    """Measure one clip against its target; see the package docstring for the metrics.

    `animator` supplies the pose detector (`Animator.detector`, the same choice `animate`
    makes); `embedder` a `FaceEmbedder` (None: no CSIM); `lpips_model` an `LPIPS` network,
    `fid_model` a `FIDInception` (both need `ground_truth`).
    """
    config = config or EvaluateConfig()
    started = time.perf_counter()
    clip = Path(clip)
    info = probe_video(clip)
    notes = list(target.notes)
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

    flicker = WarpingError(config.flow_side)
    identity = None
    if embedder is not None and target.portrait is not None:
        reference = embedder.embed(framing.image(target.portrait))
        if reference is None:
            notes.append("No face found in the portrait: identity (CSIM) not measured.")
        else:
            identity = IdentityScores(embedder, reference, config.identity_stride)
    pixels, lpips_values, truth = None, [], None
    fid_features: tuple[list, list] = ([], [])
    skip = target.lead_in or 0  # lead-in frames have no ground truth
    if ground_truth is not None:
        pixels = PixelScores()
        truth = _truth_frames(Path(ground_truth), info.fps, framing, canvas_from, size,
                              target.truth_start)
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
                    pixels.add(frame, other)
                    if lpips_model is not None:
                        lpips_values.append(lpips_model.distance(frame, other))
                    if fid_model is not None:
                        fid_features[0].append(fid_model.embed(frame))
                        fid_features[1].append(fid_model.embed(other))
            yield frame

    detector = animator.detector
    if goal is not None:
        detected = detector.detect_video(frames(), info.fps, *size)
        accuracy = pose_accuracy(goal, detected, config.threshold)
        notes += accuracy.notes
        jitter, jitter_frames = keypoint_jitter(detected, accuracy.sizes, config.threshold)
        target_jitter, _ = keypoint_jitter(goal, accuracy.sizes, config.threshold)
    else:
        for _ in frames():
            pass
        accuracy = jitter = target_jitter = None
        jitter_frames = []
        notes.append("No target poses (pass --poses or --driving): pose accuracy not measured.")

    T = frame_count
    per_frame = {"flicker": _nan_list(flicker.scores, T)}
    if accuracy is not None:
        per_frame["pose_error"] = _nan_list(accuracy.frame_error, T)
        for a, values in accuracy.frame_pck.items():
            per_frame[f"pck_{a}"] = _nan_list(values, T)
        per_frame["jitter"] = _nan_list(jitter_frames, T)
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
    pixel_summary = None
    if pixels is not None:
        pixel_summary = pixels.summary()
        offset = skip
        for name in ("l1", "psnr", "ssim"):
            series = np.full(T, np.nan)
            values = getattr(pixels, name)[: max(0, T - offset)]
            series[offset: offset + len(values)] = values
            per_frame[name] = series.tolist()
        if pixel_summary["frames"] < T - skip:
            notes.append(f"The ground truth covers {pixel_summary['frames']} of the clip's "
                         f"{T - skip} frames.")
    fid_value = None
    if len(fid_features[0]) >= 2:
        from animator.evaluate.fid import fid

        fid_value = fid(np.stack(fid_features[0]), np.stack(fid_features[1]))
    elif fid_model is not None:
        notes.append("FID needs at least 2 frames with a ground truth: not measured.")
    sync = check_sync(clip, len(goal) if goal is not None else T,
                      goal.fps if goal is not None else info.fps, driving=target.driving,
                      expected_lag=(None if target.audio_start is None or target.lead_in is None
                                    else target.audio_start - target.lead_in / info.fps))
    if goal is not None and sync.target_frames != T:
        notes.append(f"The clip has {T} frames and the target poses {sync.target_frames}.")
    return Evaluation(
        clip=clip, frames=T, fps=info.fps, width=size[0], height=size[1], pose=accuracy,
        jitter=jitter, target_jitter=target_jitter, flicker=flicker.mean,
        identity=identity_summary, pixels=pixel_summary,
        lpips=float(np.mean(lpips_values)) if lpips_values else None, fid=fid_value, sync=sync,
        per_frame=per_frame, notes=notes, seconds=time.perf_counter() - started, target=goal,
    )


__all__ = ["Evaluation", "Target", "evaluate_clip", "make_target"]
