"""Step 3: bone measurement and the driver's canonical lengths.

`measure` gives 28 measures per frame (23 bones, 3 head spans, 2 hand spans; columns
MEAS_A -> MEAS_B, HAND_COLS), `frame_scale` the per-frame scale s_t, and
`canonical_lengths` a high quantile of l_t(b) / s_t, because projection only ever shortens
a bone. What the driver never shows comes from a torso-proportional prior (`PRIOR`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter, uniform_filter1d
from scipy.special import erfinv

from animator.pose.retarget.numeric import (
    _hold_fill,
    _nan_median_rows,
    _nan_quantile,
    _norm,
    savgol,
)
from animator.pose.retarget.tree import BONE_CHILDREN, PARENT
from animator.pose.skeleton import (
    FACE,
    L_EAR,
    L_EYE,
    L_HIP,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    MIRROR,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
)

# --- measurements: 23 bones, 3 head spans, 2 hand spans -------------------------------------

_HEAD_SPANS = ((R_EAR, L_EAR), (R_EYE, L_EYE), (FACE.start, FACE.start + 16))  # jaw width
MEAS_A = np.concatenate([PARENT[BONE_CHILDREN], [a for a, _ in _HEAD_SPANS]])
MEAS_B = np.concatenate([BONE_CHILDREN, [b for _, b in _HEAD_SPANS]])
COL = {int(j): i for i, j in enumerate(BONE_CHILDREN)}  # body point -> its bone's column
HEAD_COLS = np.arange(23, 26)
HAND_COLS = np.array([26, 27])  # left, right: median wrist-to-finger-base span
NUM_MEAS = 28
MEAS_MIRROR = np.concatenate([[COL[MIRROR[j]] for j in BONE_CHILDREN], HEAD_COLS, [27, 26]])
_FINGER_BASES = np.array([1, 5, 9, 13, 17])
_SCALE_COLS = np.array([COL[R_SHOULDER], COL[L_SHOULDER], COL[R_HIP], COL[L_HIP], COL[NOSE], 24])

# Rough adult proportions in torso lengths (neck to hip), used only for what the driver
# never shows, so that every ratio stays defined.
_PRIOR_BONE = {
    NOSE: 0.4, R_SHOULDER: 0.35, R_ELBOW: 0.55, R_WRIST: 0.48, R_HIP: 1.0, R_KNEE: 0.85,
    R_ANKLE: 0.85, R_EYE: 0.08, R_EAR: 0.14, 21: 0.3, 22: 0.28, 23: 0.13,
}  # fmt: skip
PRIOR = np.array(
    [_PRIOR_BONE.get(int(j), _PRIOR_BONE.get(MIRROR[j], 0.0)) for j in BONE_CHILDREN]
    + [0.3, 0.13, 0.28, 0.19, 0.19]
)



@dataclass
class Canonical:
    """A person's bone lengths: `lengths` (28 measures, see MEAS_A/MEAS_B, HAND_COLS) in
    pixels at scale 1; `observed` marks measures seen (possibly via the mirror side);
    `scale` is the per-frame s_t."""

    lengths: np.ndarray
    observed: np.ndarray
    scale: np.ndarray

    @property
    def torso(self) -> float:
        return float(self.lengths[COL[R_HIP]])


def measure(xy: np.ndarray) -> np.ndarray:
    """xy planes -> (28, T) lengths: bones (row COL[child]), head spans (ear-ear, eye-eye,
    jaw), hand spans (median wrist-to-finger-base, needs 3 of the 5 bases)."""
    meas = np.empty((NUM_MEAS, xy.shape[-1]))
    meas[:26] = _norm(xy[:, MEAS_B] - xy[:, MEAS_A])
    for row, part, body_wrist in ((26, LEFT_HAND, L_WRIST), (27, RIGHT_HAND, R_WRIST)):
        hand = xy[:, part]
        wrist = np.where(np.isnan(hand[:, :1]), xy[:, [body_wrist]], hand[:, :1])
        meas[row] = _nan_median_rows(_norm(hand[:, _FINGER_BASES] - wrist).T, min_count=3)
    return meas


def frame_scale(meas: np.ndarray) -> np.ndarray:
    """Per-frame scale s_t: median over the torso, shoulder and head measures seen in frame
    t of l_t / median_t(l), smoothed (9-frame median, 5-frame mean). 1 where unknown."""
    m = meas[_SCALE_COLS]
    s = _nan_median_rows((m / _nan_median_rows(m)[:, None]).T)
    if np.isnan(s).all():
        return np.ones(len(s))
    s = _hold_fill(s)
    if len(s) > 1:
        s = uniform_filter1d(median_filter(s, size=9, mode="nearest"), 5, mode="nearest")
    return s


def canonical_lengths(xy: np.ndarray, quantile: float = 0.9, denoise: bool = True) -> Canonical:
    """Step 3: the driver's true lengths from a high quantile of l_t(b) / s_t.

    Detector noise pushes a high quantile up (by about z_q sigma), so with `denoise` the
    quantile is taken of lengths smoothed over time (7-frame Savitzky-Golay) and what noise
    remains is taken off, with sigma estimated from the residuals of that fit (at most 5 %).
    Left/right pairs share the max; what neither side shows comes from a torso-proportional
    prior scaled to the measures that were seen.
    """
    meas = measure(xy)
    scale = frame_scale(meas)
    norm = meas / scale
    if denoise and norm.shape[-1] >= 7:
        fit = savgol(_hold_fill(norm), 7)
        smoothed = np.where(np.isnan(norm), np.nan, fit)
        sigma = 1.4826 * _nan_median_rows(np.abs(norm - smoothed)) / math.sqrt(2 / 3)
        z = math.sqrt(2) * erfinv(2 * quantile - 1)
        lengths = _nan_quantile(smoothed, quantile)
        lengths -= np.minimum(z * math.sqrt(1 / 3) * np.nan_to_num(sigma), 0.05 * lengths)
    else:
        lengths = _nan_quantile(norm, quantile)
    lengths = np.fmax(lengths, lengths[MEAS_MIRROR])
    observed = ~np.isnan(lengths)
    if observed.any():
        unit = np.median(lengths[observed] / PRIOR[observed])
        lengths = np.where(observed, lengths, PRIOR * unit)
    return Canonical(lengths, observed, scale)
