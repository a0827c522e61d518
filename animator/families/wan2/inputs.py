"""What Wan-Animate-2 is shown of the driving video: the chosen person's part of each frame.

The model takes the raw driving frames and letterboxes them whole into its canvas, so a
second person, or a small figure in a wide shot, is what it copies too. We crop one fixed
window around the chosen person (the person the front end followed, `--person`), from the
frames at full resolution: the union of that person's keypoint boxes over the clip, grown
by a quarter of its long side (`pose.people.crop_region`'s margin: limbs and hair stick out
of the joints), at least as wide as the canvas's aspect asks when there is room. One window
for the whole clip keeps the person's travel and the camera's framing as filmed; the
library then letterboxes that window, as it would the whole frame.

The portrait's framing is checked against the driver's: a full-body driver and a
half-body portrait make the model invent the legs (and it copies the driver's build).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from animator.pose.people import crop_region
from animator.pose.skeleton import PoseSequence

MIN_SCORE = 0.3  # keypoints counted as the person's
CROPS = ("person", "off")


def person_window(poses: PoseSequence, frames: Sequence[int], width: int, height: int,
                  aspect: float) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) in pixels of a width x height frame around the person of `poses`
    (whose pixels may be another size) over the driving frames `frames`; None when the
    person is never seen."""
    kp = poses.keypoints[np.asarray(sorted(set(frames)))]
    xy = kp[..., :2].reshape(-1, 2)
    seen = np.isfinite(xy).all(axis=1) & (kp[..., 2].reshape(-1) > MIN_SCORE)
    if seen.sum() < 3:
        return None
    sx, sy = width / poses.width, height / poses.height
    pts = xy[seen] * [sx, sy]
    box = np.array([*pts.min(axis=0), *pts.max(axis=0)])
    return crop_region(box, width, height, margin=0.25, aspect=aspect)


def crop(frame: np.ndarray, window: tuple[int, int, int, int] | None) -> np.ndarray:
    if window is None:
        return frame
    x0, y0, x1, y1 = window
    return np.ascontiguousarray(frame[y0:y1, x0:x1])


# --- the portrait's framing against the driver's -------------------------------------------

ANKLES, KNEES = (10, 13), (9, 12)  # OpenPose-18 body points of the 134-point layout


def _shows(keypoints: np.ndarray, points: tuple[int, ...]) -> bool:
    """Whether most frames show any of `points` (keypoints (T, 134, 3))."""
    kp = keypoints[:, list(points)]
    seen = (np.isfinite(kp[..., :2]).all(axis=-1) & (kp[..., 2] > MIN_SCORE)).any(axis=1)
    return bool(seen.mean() > 0.5)


def framing_notice(reference: PoseSequence, driving: PoseSequence | None) -> str | None:
    """A sentence when the driver shows legs the portrait does not: the model copies the
    driver's body and has to invent what the portrait leaves out (its build, its legs)."""
    if driving is None:
        return None
    for points, what in ((ANKLES, "feet"), (KNEES, "knees")):
        if _shows(driving.keypoints, points) and not _shows(reference.keypoints, points):
            return (f"The driving video shows the person's {what}, the portrait does not: the "
                    f"model invents them (and copies the driver's build). A portrait framed "
                    "like the driver (full body for a full-body dance) keeps the portrait's "
                    "own.")
    return None
