"""Close-ups: what is out of the picture stays out, and what must be sized anyway is sized
from what is visible.

- `rare_lower_body`: when the portrait shows no hips, legs or feet and the driving video
  shows them in under `min_share` of its frames with a person, those few are a close-up
  detector's guesses (hips put on the chest's lower edge, legs drawn over the head in the
  frames a check missed): they are left out, so neither picture gets a body part that
  neither shows.
- `torso_from_shoulders`: a portrait with its hips out of the picture has no torso to
  measure; its length is taken from its shoulder width with adult proportions (neck to
  hip = 1 / (2 x 0.35) = 1.43 shoulder widths, `lengths.PRIOR`), so a broad-shouldered
  close-up gets a long torso and a narrow one a short one, rather than the driver's.
"""

from __future__ import annotations

import numpy as np

from animator.pose.retarget.lengths import COL, PRIOR, Canonical
from animator.pose.skeleton import (
    L_ANKLE,
    L_HIP,
    L_KNEE,
    R_ANKLE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    PoseSequence,
)

LOWER_BODY = np.array([R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, *range(18, 24)])
_TORSO = [COL[R_HIP], COL[L_HIP]]


def _lower_seen(keypoints: np.ndarray, threshold: float) -> np.ndarray:
    part = keypoints[:, LOWER_BODY]
    return (~np.isnan(part[..., 0]) & (part[..., 2] >= threshold)).any(axis=1)


def rare_lower_body(driver: PoseSequence, portrait: PoseSequence, threshold: float = 0.3,
                    min_share: float = 0.1) -> tuple[PoseSequence, str | None]:
    """The driver without its lower body when the portrait shows none and the driver in
    under `min_share` of its frames with a person, and the note that says so; else the
    driver unchanged and None."""
    if _lower_seen(portrait.keypoints, threshold).any():
        return driver, None
    body = driver.keypoints[:, :18]
    person = (~np.isnan(body[..., 0]) & (body[..., 2] >= threshold)).any(axis=1)
    lower = _lower_seen(driver.keypoints, threshold) & person
    if not lower.any() or lower.sum() >= min_share * max(person.sum(), 1):
        return driver, None
    kp = driver.keypoints.copy()
    kp[:, LOWER_BODY] = (np.nan, np.nan, 0.0)
    note = (f"The driving video shows hips or legs in only {int(lower.sum())} of "
            f"{int(person.sum())} frames with the person and the portrait none: they are "
            "left out as a close-up's guesses. For legs, use full-length footage and a "
            "full-length portrait.")
    return PoseSequence(kp, driver.width, driver.height, driver.fps), note


def torso_from_shoulders(rho: np.ndarray, measured: np.ndarray, ref: np.ndarray,
                         canon: Canonical, k: float, clip: float = 1.5) -> bool:
    """Set, in place, the torso's ratio of a portrait whose torso is not measured from its
    shoulder width by adult proportions (clipped like any ratio); True when it did."""
    shoulder = ref[COL[R_SHOULDER]]  # neck to shoulder, the longer side
    if measured[_TORSO].any() or np.isnan(shoulder):
        return False
    torso = shoulder * PRIOR[COL[R_HIP]] / PRIOR[COL[R_SHOULDER]]
    rho[_TORSO] = np.clip(torso / (k * canon.lengths[_TORSO]), 1 / clip, clip)
    return True
