"""Pose accuracy: do the generated frames show the pose the generator was asked for?

The target is the retargeted pose sequence (what the skeleton maps showed the model), the
measurement is the project's own detector run again on the generated frames. Both are in
the output video's pixels. Errors are divided by a body size so that a far-away person and
a close-up score alike:

- `torso`: neck to the middle of the hips, when the target shows it in at least half of
  its frames (full and three-quarter bodies);
- `head`: the diagonal of the face keypoints' box, for upper-body portraits;
- `box`: the diagonal of all visible keypoints, when neither is ever seen.

The size is measured per target frame (frames where it is not seen take the clip's median)
so that a person walking towards the camera is judged at their size in each frame.
PCK@a counts a target keypoint as hit when the detected one lies within a x size; a point
the detector did not find is a miss. The mean error is over the points found.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field

import numpy as np

from animator.pose.skeleton import (
    FACE,
    FEET,
    L_HIP,
    LEFT_HAND,
    NECK,
    R_HIP,
    RIGHT_HAND,
    PoseSequence,
)

VISIBLE = 0.3  # keypoint score counted as seen, in both target and detection (DWPose's)
PCK_THRESHOLDS = (0.05, 0.1)
MIN_FACE_POINTS = 17  # face points needed for a head size (the jaw line's worth)

# Keypoint index sets of each reported part.
PARTS: dict[str, np.ndarray] = {
    "body": np.r_[0:18, FEET.start:FEET.stop],
    "hands": np.r_[LEFT_HAND.start:LEFT_HAND.stop, RIGHT_HAND.start:RIGHT_HAND.stop],
    "face": np.r_[FACE.start:FACE.stop],
}


@dataclass
class PartScore:
    """One part's (or everything's) score over a clip."""

    error: float | None  # mean |detected - target| / size over the points found; None: none
    pck: dict[str, float | None]  # "0.05", "0.1" -> share of target points hit; None: no points
    found: float | None  # share of the target's visible points that the detector found
    points: int  # target keypoints visible over the clip (the PCK denominator)


@dataclass
class PoseAccuracy:
    """Pose accuracy of a clip against its target poses."""

    size_kind: str  # "torso", "head" or "box": what the errors are divided by
    sizes: np.ndarray  # (T,) that size in pixels, per frame
    overall: PartScore
    parts: dict[str, PartScore]  # body (with feet), hands, face
    frame_error: np.ndarray  # (T,) mean normalised error of the frame's found points; NaN: none
    frame_pck: dict[str, np.ndarray]  # threshold -> (T,) per-frame PCK; NaN: no target point
    lost_frames: list[int]  # frames where the target has a person and the detector found none
    frames: int  # frames compared
    notes: list[str] = field(default_factory=list)


def _seen(kp: np.ndarray, threshold: float) -> np.ndarray:
    return ~np.isnan(kp[..., 0]) & (kp[..., 2] >= threshold)


def body_sizes(target: PoseSequence, threshold: float = VISIBLE) -> tuple[str, np.ndarray]:
    """The normalising size of each target frame and which kind it is (module docstring)."""
    kp = target.keypoints
    seen = _seen(kp, threshold)
    present = seen.any(axis=1)
    xy = kp[..., :2].astype(np.float64)

    hips = np.where(seen[:, [R_HIP, L_HIP], None], xy[:, [R_HIP, L_HIP]], np.nan)
    with _quiet():
        mid_hip = np.nanmean(hips, axis=1)
    torso = np.where(seen[:, NECK], np.linalg.norm(xy[:, NECK] - mid_hip, axis=1), np.nan)

    face = np.where(seen[:, FACE, None], xy[:, FACE], np.nan)
    enough = seen[:, FACE].sum(axis=1) >= MIN_FACE_POINTS
    with _quiet():
        span = np.nanmax(face, axis=1) - np.nanmin(face, axis=1)
    head = np.where(enough, np.linalg.norm(span, axis=1), np.nan)

    every = np.where(seen[..., None], xy, np.nan)
    with _quiet():
        span = np.nanmax(every, axis=1) - np.nanmin(every, axis=1)
    box = np.linalg.norm(span, axis=1)

    persons = max(int(present.sum()), 1)
    for kind, size in (("torso", torso), ("head", head), ("box", box)):
        usable = np.isfinite(size) & (size > 1.0)
        if kind == "box" or usable.sum() * 2 >= persons:
            if not usable.any():
                return kind, np.full(len(kp), np.nan)
            return kind, np.where(usable, size, np.median(size[usable]))
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _quiet():
    """nanmean/nanmax of all-NaN rows warn; here those rows are expected (missing points)."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _score(err: np.ndarray, visible: np.ndarray, found: np.ndarray) -> PartScore:
    points = int(visible.sum())
    hit = found & visible
    pck = {f"{a:g}": (float((hit & (err <= a)).sum() / points) if points else None)
           for a in PCK_THRESHOLDS}
    return PartScore(
        error=float(err[hit].mean()) if hit.any() else None, pck=pck,
        found=float(hit.sum() / points) if points else None, points=points,
    )


def pose_accuracy(target: PoseSequence, detected: PoseSequence,
                  threshold: float = VISIBLE) -> PoseAccuracy:
    """Compare detected poses with the target poses, frame by frame (same pixels).

    The shorter of the two sets the number of frames compared (the caller reports a length
    mismatch: that is a sync problem, not a pose one).
    """
    if (target.width, target.height) != (detected.width, detected.height):
        raise ValueError(f"target ({target.width}x{target.height}) and detected "
                         f"({detected.width}x{detected.height}) poses are in different pixels")
    frames = min(len(target), len(detected))
    tgt, det = target.keypoints[:frames], detected.keypoints[:frames]
    kind, sizes = body_sizes(target[:frames] if frames else target, threshold)
    sizes = sizes[:frames]
    visible = _seen(tgt, threshold) & np.isfinite(sizes)[:, None]
    found = _seen(det, threshold)
    with np.errstate(invalid="ignore"):
        err = np.linalg.norm(det[..., :2] - tgt[..., :2], axis=-1) / sizes[:, None]
    err = np.where(visible & found, err, np.inf)

    hit = visible & found
    with _quiet():
        frame_error = np.nanmean(np.where(hit, err, np.nan), axis=1)
    counts = visible.sum(axis=1)
    frame_pck = {}
    for a in PCK_THRESHOLDS:
        with np.errstate(invalid="ignore", divide="ignore"):
            frame_pck[f"{a:g}"] = np.where(counts > 0, (hit & (err <= a)).sum(axis=1) / counts,
                                           np.nan)
    lost = np.flatnonzero(_seen(tgt, threshold).any(axis=1) & ~found.any(axis=1)).tolist()
    notes = []
    if kind != "torso":
        notes.append(f"Pose errors are relative to the {kind} size (the target shows no torso "
                     "in most frames).")
    return PoseAccuracy(
        size_kind=kind, sizes=sizes, overall=_score(err, visible, found),
        parts={name: _score(err[:, idx], visible[:, idx], found[:, idx])
               for name, idx in PARTS.items()},
        frame_error=frame_error, frame_pck=frame_pck, lost_frames=lost, frames=frames,
        notes=notes,
    )


def keypoint_jitter(poses: PoseSequence, sizes: np.ndarray,
                    threshold: float = VISIBLE) -> tuple[float | None, np.ndarray]:
    """Jitter: mean size-normalised acceleration |p[t+1] - 2 p[t] + p[t-1]| of keypoints
    seen in three frames in a row; and its per-frame mean (NaN at the ends and where no
    point qualifies). Smooth motion scores near 0; detector noise or a shaking body, more.
    """
    kp = poses.keypoints[: len(sizes)]
    T = len(kp)
    per_frame = np.full(T, np.nan)
    if T < 3:
        return None, per_frame
    seen = _seen(kp, threshold)
    xy = kp[..., :2].astype(np.float64)
    acc = np.linalg.norm(xy[2:] - 2 * xy[1:-1] + xy[:-2], axis=-1) / sizes[1:-1, None]
    ok = seen[2:] & seen[1:-1] & seen[:-2] & np.isfinite(acc)
    with _quiet():
        per_frame[1:-1] = np.nanmean(np.where(ok, acc, np.nan), axis=1)
    return (float(acc[ok].mean()) if ok.any() else None), per_frame


__all__ = ["PARTS", "PCK_THRESHOLDS", "PartScore", "PoseAccuracy", "body_sizes",
           "keypoint_jitter", "pose_accuracy"]
