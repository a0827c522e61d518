"""Foreshortened portrait bones: measures that a side view, a crouch or a seated pose has
shortened, told apart from the portrait's true proportions.

A portrait is one view, and a view only ever shortens a bone. So the body's size relative
to the driver's is near the top of the portrait's per-bone ratios l_ref(b) / L_drv(b), not
their median: `body_ratio` takes their upper quartile over the trunk, limb and head
measures. A measure below that by more than the ratio clip (1.5x by default) is not a
build a person can have (shoulders a third as wide for the same arms): it is marked
foreshortened, and retargeting treats it as not shown (the driver's proportion of it,
scaled with the body), saying so in a notice. Head spans count as foreshortened only when
the portrait's head is seen turned (`turned_head`: one ear, or the nose far nearer one
eye than the other); a small head seen front-on is a head of other proportions (against a
cartoon driver's, say): it keeps its measured ratio, clipped, but does not set the body's
size either (`short_measures`). Ordinary
front-on portraits, whose bones all agree within the clip, are left as they are.
"""

from __future__ import annotations

import math

import numpy as np

from animator.pose.retarget.lengths import COL, HEAD_COLS, MEAS_MIRROR, NUM_MEAS, Canonical
from animator.pose.skeleton import (
    L_EAR,
    L_EYE,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
)

# One column per left/right pair (the pair shares the longer side), the head spans.
_BODY_COLS = np.array([COL[j] for j in (R_SHOULDER, R_HIP, R_ELBOW, R_WRIST, R_KNEE, R_ANKLE)])
CANDIDATES = np.concatenate([_BODY_COLS, HEAD_COLS])
# what each candidate is called in a notice
NAMES = dict(zip(CANDIDATES.tolist(), ("shoulders", "torso", "upper arms", "forearms",
                                       "thighs", "shins", "head", "head", "head"),
                 strict=True))
_PAIR = {int(c): sorted({int(c), int(MEAS_MIRROR[c])}) for c in CANDIDATES}  # c and mirror


def _ratios(ref: np.ndarray, canon: Canonical) -> np.ndarray:
    """(len(CANDIDATES),) l_ref / L_drv where the portrait and the driver both show it."""
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = ref[CANDIDATES] / canon.lengths[CANDIDATES]
    shown = ~np.isnan(raw) & canon.observed[CANDIDATES]
    return np.where(shown, raw, np.nan)


def body_ratio(ref: np.ndarray, canon: Canonical, quantile: float = 0.75) -> float:
    """The portrait's size relative to the driver's from the bones least shortened: the
    upper `quantile` of the per-measure ratios; NaN with fewer than three measures."""
    raw = _ratios(ref, canon)
    raw = raw[~np.isnan(raw)]
    if len(raw) < 3:
        return math.nan
    return float(np.quantile(raw, quantile))


def short_measures(ref: np.ndarray, canon: Canonical, clip: float = 1.5) -> np.ndarray:
    """(28,) bool: portrait measures shorter than `body_ratio` / clip x the driver's
    (both sides of a left/right pair): none of them may set the body's size."""
    out = np.zeros(NUM_MEAS, dtype=bool)
    top = body_ratio(ref, canon)
    if math.isnan(top):
        return out
    raw = _ratios(ref, canon)
    for col, value in zip(CANDIDATES, raw, strict=True):
        if value < top / clip:
            out[_PAIR[int(col)]] = True
    return out


def foreshortened(ref: np.ndarray, canon: Canonical, clip: float = 1.5,
                  head_turned: bool = False) -> np.ndarray:
    """(28,) bool: the `short_measures` that the view shortened: all but the head spans,
    and those too when `head_turned`."""
    out = short_measures(ref, canon, clip)
    if not head_turned:
        out[HEAD_COLS] = False
    return out


def turned_head(xy: np.ndarray, asymmetry: float = 0.6) -> bool:
    """Whether a one-frame pose (xy planes) shows its head turned from the camera: one
    ear only, or the nose much nearer one eye (or ear) than the other."""
    seen = ~np.isnan(xy[0, :, 0])
    if seen[R_EAR] != seen[L_EAR] and seen[NOSE]:
        return True
    for right, left in ((R_EYE, L_EYE), (R_EAR, L_EAR)):
        if seen[[NOSE, right, left]].all():
            a, b = (float(np.hypot(*(xy[:, j, 0] - xy[:, NOSE, 0]))) for j in (right, left))
            if min(a, b) < asymmetry * max(a, b):
                return True
    return False


def notice(short: np.ndarray) -> str | None:
    """One line naming the foreshortened parts, None when there are none."""
    names = list(dict.fromkeys(NAMES[int(c)] for c in CANDIDATES if short[c]))
    if not names:
        return None
    return (f"The portrait shows its {_join(names)} foreshortened (turned from the camera, "
            "crouching or sitting): their lengths follow the driving video's proportions, "
            "scaled to the portrait's body. For the portrait's own build, use a front-on "
            "photo of the person standing.")


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
