"""Step 4, proportions: a global scale k from the measures any portrait shows, per-bone ratios
relative to k (clipped, with group fallbacks for bones the portrait does not show), the
user's per-group multipliers, and the per-point ratios that `compose` applies.

Multiplier groups: head, shoulders, torso, arms (= upper_arms + forearms), legs (= thighs +
shins), hands, feet, or the fine groups upper_arms, forearms, thighs, shins.
"""

from __future__ import annotations

import math

import numpy as np

from animator.config import RetargetConfig
from animator.errors import InputError
from animator.pose.retarget.lengths import (
    COL,
    HAND_COLS,
    HEAD_COLS,
    MEAS_MIRROR,
    NUM_MEAS,
    Canonical,
    measure,
)
from animator.pose.retarget.tree import BONE_CHILDREN, NUM_BODY, PARENT
from animator.pose.skeleton import (
    BONE_GROUPS,
    FACE,
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_EYE,
    L_HIP,
    L_SHOULDER,
    LEFT_HAND,
    NECK,
    NOSE,
    NUM_KEYPOINTS,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_SHOULDER,
    R_WRIST,
)

# Weights of the measures that fix the global scale k: shoulder width, neck-to-hips, head
# spans and upper arms are what even a head-and-shoulders portrait shows.
K_WEIGHT = np.zeros(NUM_MEAS)
K_WEIGHT[[COL[R_SHOULDER], COL[L_SHOULDER], COL[R_HIP], COL[L_HIP]]] = 1.0
K_WEIGHT[HEAD_COLS] = 2.0 / 3.0
K_WEIGHT[[COL[R_ELBOW], COL[L_ELBOW]]] = 0.5

# Coarse groups: a bone that the portrait does not show takes its coarse group's mean ratio.
_COARSE = {"upper_arms": "arms", "forearms": "arms", "thighs": "legs", "shins": "legs"}
BONE_GROUP = {int(j): BONE_GROUPS[(int(PARENT[j]), int(j))] for j in BONE_CHILDREN}

# User multipliers: group name -> the fine groups it scales.
MULTIPLIER_GROUPS = {
    "head": ("head",), "shoulders": ("shoulders",), "torso": ("torso",),
    "arms": ("upper_arms", "forearms"), "upper_arms": ("upper_arms",),
    "forearms": ("forearms",), "legs": ("thighs", "shins"), "thighs": ("thighs",),
    "shins": ("shins",), "hands": ("hands",), "feet": ("feet",),
}  # fmt: skip
RATIO_GROUPS = (
    "head", "shoulders", "torso", "upper_arms", "forearms", "thighs", "shins", "feet", "hands",
)  # fmt: skip

BORDER = 0.01  # portrait points this close to the image edge (of the short side) are cut


def portrait_lengths(xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """(28,) measures of a one-frame pose, NaN where a point is missing or at the image
    border (a cut limb would look short); left/right pairs share the max (projection only
    shortens)."""
    margin = max(2.0, BORDER * min(width, height))
    x, y = xy[0], xy[1]
    inside = (x >= margin) & (x <= width - 1 - margin) & (y >= margin) & (y <= height - 1 - margin)
    lengths = measure(np.where(inside, xy, np.nan))[:, 0]
    return np.fmax(lengths, lengths[MEAS_MIRROR])


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, 0.5 * cum[-1])])


def global_scale(ref: np.ndarray, canon: Canonical) -> float:
    """k = exp(weighted median of log(l_ref / L_drv)) over the shoulder, torso, head and
    upper-arm measures both show; any shared measure if none of those (NaN if none)."""
    shared = ~np.isnan(ref) & canon.observed
    weights = np.where(shared, K_WEIGHT, 0.0)
    if not weights.any():
        weights = shared.astype(float)
    if not weights.any():
        return math.nan
    use = weights > 0
    return math.exp(_weighted_median(np.log(ref[use] / canon.lengths[use]), weights[use]))


def proportion_ratios(
    ref: np.ndarray, canon: Canonical, k: float, clip: float = 1.5
) -> tuple[np.ndarray, np.ndarray]:
    """Per-measure ratio rho = l_ref / (k L_drv), clipped to [1/clip, clip], and a mask of
    the measured ones. Unmeasured bones take their group's mean ratio (arms and legs pool
    their two segments), else 1; the head's ratio comes from the head spans, hands from the
    hand span clamped near the forearm, feet follow the shin with foot <= half the shin."""
    with np.errstate(invalid="ignore", divide="ignore"):  # unseen measures (half bodies): 0
        raw = ref / (k * canon.lengths)
    measured = ~np.isnan(raw) & canon.observed
    rho = np.where(measured, np.clip(raw, 1 / clip, clip), np.nan)
    head = float(np.nanmedian(rho[HEAD_COLS])) if measured[HEAD_COLS].any() else math.nan
    head_bones = [COL[j] for j in (R_EYE, L_EYE, R_EAR, L_EAR)]
    rho[head_bones] = head
    measured[head_bones] = not math.isnan(head)
    coarse: dict[str, list[float]] = {}
    for j, group in BONE_GROUP.items():
        if measured[COL[j]] and group != "feet":
            coarse.setdefault(_COARSE.get(group, group), []).append(rho[COL[j]])
    for j, group in BONE_GROUP.items():
        if not measured[COL[j]]:
            values = coarse.get(_COARSE.get(group, group))
            rho[COL[j]] = float(np.mean(values)) if values else 1.0
    rho[HEAD_COLS] = head if not math.isnan(head) else rho[COL[NOSE]]
    forearm = rho[COL[R_WRIST]]
    hand = np.nanmax(rho[HAND_COLS]) if measured[HAND_COLS].any() else forearm
    rho[HAND_COLS] = np.clip(np.clip(hand, forearm / 1.25, forearm * 1.25), 1 / clip, clip)
    for ankle in (R_ANKLE, L_ANKLE):
        shin = rho[COL[ankle]] * canon.lengths[COL[ankle]]
        for j in np.flatnonzero(PARENT[:NUM_BODY] == ankle):
            cap = 0.5 * shin / canon.lengths[COL[j]]
            rho[COL[j]] = np.clip(min(rho[COL[ankle]], cap), 1 / clip, clip)
    return rho, measured


def _multipliers(config: RetargetConfig) -> dict[str, float]:
    """Fine group -> product of the user multipliers that apply to it."""
    out = dict.fromkeys(RATIO_GROUPS, 1.0)
    for name, value in config.multipliers.items():
        if name not in MULTIPLIER_GROUPS:
            raise InputError(
                f"Unknown body part {name!r} in the proportion multipliers: use one of "
                + ", ".join(MULTIPLIER_GROUPS) + "."
            )
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InputError(
                f"The multiplier for {name} must be a positive number (1 keeps the "
                f"portrait's proportions), got {value!r}."
            )
        for group in MULTIPLIER_GROUPS[name]:
            out[group] *= float(value)
    return out


def point_ratios(
    rho: np.ndarray, canon: Canonical, k: float, mult: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(134,) absolute ratio r of the vector into each point and (134,) weights (the
    driver's canonical length of that vector) for path ratios across missing joints."""
    r = np.empty(NUM_KEYPOINTS)
    w = np.empty(NUM_KEYPOINTS)
    for j, group in BONE_GROUP.items():
        r[j] = k * rho[COL[j]] * mult[group]
        w[j] = canon.lengths[COL[j]]
    r[NECK], w[NECK] = k, 0.0
    r[FACE], w[FACE] = k * rho[HEAD_COLS[0]] * mult["head"], canon.lengths[HEAD_COLS[0]]
    hand = k * rho[HAND_COLS[0]] * mult["hands"]
    r[LEFT_HAND.start :], w[LEFT_HAND.start :] = hand, canon.lengths[HAND_COLS[0]]
    return r, np.maximum(w, 1e-6)


def group_ratios(rho: np.ndarray, mult: dict[str, float]) -> dict[str, float]:
    """Per-group ratio relative to k, multipliers included (what the UI shows)."""
    rows: dict[str, list[int]] = {"head": [HEAD_COLS[0]], "hands": [HAND_COLS[0]]}
    for j, group in BONE_GROUP.items():
        if group != "head":
            rows.setdefault(group, []).append(COL[j])
    return {g: float(np.mean(rho[rows[g]]) * mult[g]) for g in RATIO_GROUPS}
