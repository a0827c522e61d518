"""Skeleton-length rescaling: the driving motion performed with the portrait's proportions.

`retarget(driver, portrait)` is the one entry point; it runs the steps of
shared/reference/retarget.md, each also a module-level function so it can be tested alone:

1. `hygiene`: visibility thresholds, the neck as the mid-shoulder, hands given to the
   nearest wrist and dropped when farther than half a forearm.
2. `clean`: Hampel outliers (body), one-frame spikes (hands, face), short gaps filled in
   parameter space (bone angle and log-length), so a filled limb keeps its length.
3. `canonical_lengths`: per-frame scale s_t and a high quantile of l_t(b) / s_t, because
   projection only ever shortens a bone.
4. `proportion_ratios`: a global scale k from bones that any portrait shows, then per-bone
   ratios relative to k, clipped, with group fallbacks for bones the portrait does not show.
5. `decompose` / `compose`: a pose as root + vectors along the kinematic tree; rebuilding
   multiplies each vector by its ratio, so directions (foreshortening, depth motion) stay.
6. placement at the portrait's neck and ground line (inside `retarget`).
7. `transition`: lead-in frames from the portrait's pose, interpolated in parameter space.
8. `smooth`: zero-phase Savitzky-Golay on root, unwrapped angles, log-lengths and block
   coordinates; smoothing raw xy would shrink fast limbs.

Defaults (RetargetConfig): smoothing is on (7-frame Savitzky-Golay of order 2), because
detector jitter is the most visible flaw of a skeleton video and an order-2 fit passes slow
motion through unchanged; with smoothing off (0) a portrait taken from the driver reproduces
the driver exactly. The 0.5 s lead-in is lengthened when the portrait's pose is far from the
first driving pose, so that no point moves more than `max_step` torso lengths per frame.
User multipliers act per group: head, shoulders, torso, arms (= upper_arms + forearms),
legs (= thighs + shins), hands, feet, or the fine groups upper_arms, forearms, thighs, shins.

Internally a sequence is float64 xy planes of shape (2, 134, T) with NaN for missing points,
plus (134, T) scores (`to_planes`): a row per point keeps the tree walks fast. Every point
has a parent: body and feet follow `BODY_PARENTS`, the face hangs off the nose and each hand
off its body wrist, so the hands and the face are rigid blocks scaled about that joint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import correlate1d, median_filter, uniform_filter1d
from scipy.signal import savgol_coeffs
from scipy.special import erfinv

from animator.config import RetargetConfig
from animator.errors import InputError
from animator.pose.skeleton import (
    BODY_PARENTS,
    BONE_GROUPS,
    FACE,
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_EYE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    MIRROR,
    NECK,
    NOSE,
    NUM_KEYPOINTS,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
    PoseSequence,
)

# --- the tree over all 134 points -----------------------------------------------------------

PARENT = np.array(
    BODY_PARENTS
    + (NOSE,) * (FACE.stop - FACE.start)
    + (L_WRIST,) * (LEFT_HAND.stop - LEFT_HAND.start)
    + (R_WRIST,) * (RIGHT_HAND.stop - RIGHT_HAND.start)
)
NUM_BODY = len(BODY_PARENTS)  # body + feet: the points whose bones are angles and lengths
BONE_CHILDREN = np.array([j for j in range(NUM_BODY) if j != NECK])  # one bone per child


def _depth() -> np.ndarray:
    depth = np.full(NUM_KEYPOINTS, -1)
    depth[NECK] = 0
    while (depth < 0).any():
        ready = (depth < 0) & (depth[PARENT] >= 0)
        depth[ready] = depth[PARENT[ready]] + 1
    return depth


DEPTH = _depth()
# points by depth below the neck: a parent is always in an earlier level
LEVELS = [np.flatnonzero(DEPTH == d) for d in range(1, DEPTH.max() + 1)]

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

# Cleaning constants, in torso lengths where they are distances.
HAMPEL_SIGMAS = 3.0  # outlier if farther than this many robust sigmas from the window median
HAMPEL_FLOOR = 0.2  # ...and farther than this, so detector noise and fast limbs are kept
SPIKE_FLOOR = 0.1  # one-frame spike of a hand/face point, relative to its anchor joint
LINEAR_GAP = 4  # gaps up to this many frames are filled linearly, longer ones by Hermite
MAX_GAP = 12  # longer gaps stay missing
BORDER = 0.01  # portrait points this close to the image edge (of the short side) are cut


@dataclass
class Retargeted:
    """The retargeted motion and what the user should know about it.

    poses: in the portrait's pixels at the driver's fps; `lead_in` transition frames first,
    then one frame per used driver frame (from `driver_start`). `ratios` are per group and
    relative to the global `scale` k (1 = the driver's proportions), multipliers included.
    """

    poses: PoseSequence
    lead_in: int
    driver_start: int
    scale: float
    ratios: dict[str, float]
    notices: list[str]


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


# --- layout and small numeric helpers --------------------------------------------------------


def to_planes(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 134, 3) keypoints -> xy planes (2, 134, T) float64 and scores (134, T) float32.

    Everything here works on planes: one contiguous row per point, so walking the tree
    (gathering parent rows) is ~50x faster than on (T, 134, 2).
    """
    kp = keypoints.transpose(2, 1, 0)  # C order below: astype would keep this one
    return np.ascontiguousarray(kp[:2], np.float64), np.ascontiguousarray(kp[2], np.float32)


def from_planes(xy: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Inverse of `to_planes`: (T, 134, 3) float32."""
    out = np.empty((xy.shape[-1], NUM_KEYPOINTS, 3), dtype=np.float32)
    out[..., 0], out[..., 1], out[..., 2] = xy[0].T, xy[1].T, scores.T
    return out


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _runs(invalid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along the last axis of a 2D mask, in O(number of True): the flat
    index of every True entry, and the flat index of the valid entry just before and just
    after its run in the same row (-1 where the run touches the row's start or end)."""
    T = invalid.shape[-1]
    holes = np.flatnonzero(invalid)
    if holes.size == 0:
        return holes, holes, holes
    first = np.ones(holes.size, dtype=bool)
    first[1:] = (np.diff(holes) != 1) | (holes[1:] % T == 0)
    run = np.cumsum(first) - 1
    starts = holes[first]
    ends = holes[np.append(np.flatnonzero(first)[1:] - 1, holes.size - 1)]
    before = np.where(starts % T > 0, starts - 1, -1)
    after = np.where(ends % T < T - 1, ends + 1, -1)
    return holes, before[run], after[run]


def _hold_fill(a: np.ndarray) -> np.ndarray:
    """NaN replaced by the last valid value before it along the last axis (the first one
    after it at a row's start); rows without any value become 0. For filters that must not
    see NaN; the caller masks the held values out again."""
    holes, before, after = _runs(np.isnan(a).reshape(-1, a.shape[-1]))
    if holes.size == 0:
        return a
    out = a.copy()
    flat = out.reshape(-1)
    source = np.where(before >= 0, before, after)
    flat[holes] = np.where(source >= 0, flat[source], 0.0)
    return out


def _nan_median_rows(a: np.ndarray, min_count: int = 1) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN if fewer than min_count values)."""
    s = np.sort(a, axis=-1)
    n = (~np.isnan(a)).sum(axis=-1)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(s, np.maximum(n // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(n >= min_count, 0.5 * (lo + hi), np.nan)


def _nan_quantile(a: np.ndarray, q: float) -> np.ndarray:
    """Quantile over the last axis ignoring NaN (linear interpolation; NaN if no value)."""
    s = np.sort(a, axis=-1)
    n = (~np.isnan(a)).sum(axis=-1)
    pos = q * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    vlo = np.take_along_axis(s, lo[..., None], axis=-1)[..., 0]
    vhi = np.take_along_axis(s, hi[..., None], axis=-1)[..., 0]
    return np.where(n > 0, vlo + (pos - lo) * (vhi - vlo), np.nan)


@lru_cache
def _savgol_weights(window: int, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Savitzky-Golay weights: centre, and the first/last `window` samples -> the fitted
    values of the first/last window // 2 frames (scipy's mode="interp")."""
    half = window // 2
    edge = np.stack([savgol_coeffs(window, order, pos=i, use="dot") for i in range(half)])
    tail = np.stack([savgol_coeffs(window, order, pos=window - half + i, use="dot")
                     for i in range(half)])  # fmt: skip
    return savgol_coeffs(window, order), edge, tail


def savgol(a: np.ndarray, window: int, order: int = 2) -> np.ndarray:
    """Zero-phase Savitzky-Golay smoothing along the last axis (T >= window), the edges
    fitted like scipy's savgol_filter(mode="interp"), with the weights computed once."""
    centre, edge, tail = _savgol_weights(window, order)
    out = correlate1d(a, centre, axis=-1, mode="nearest")
    half = window // 2
    out[..., :half] = a[..., :window] @ edge.T
    out[..., -half:] = a[..., -window:] @ tail.T
    return out


def _norm(d: np.ndarray) -> np.ndarray:
    """Length of (2, ...) vectors (np.hypot is ~10x slower and its care is not needed)."""
    return np.sqrt(d[0] * d[0] + d[1] * d[1])


# Median of 7 by a selection network of min/max: vectorised over whole arrays, unlike a
# per-window sort. Correct for every input by the 0-1 principle (checked in the tests).
_MEDIAN7 = ((0, 5), (0, 3), (1, 6), (2, 4), (0, 1), (3, 5), (2, 6), (2, 3), (3, 6), (4, 5),
            (1, 4), (1, 3), (3, 4))  # fmt: skip


def _median7(w: list[np.ndarray]) -> np.ndarray:
    w = list(w)
    for i, j in _MEDIAN7:
        w[i], w[j] = np.minimum(w[i], w[j]), np.maximum(w[i], w[j])
    return w[3]


def hampel_outliers(series: np.ndarray, floor: float = HAMPEL_FLOOR) -> np.ndarray:
    """(M, T) bool: values farther from their 7-frame median than both HAMPEL_SIGMAS robust
    sigmas (1.4826 MAD) and `floor`. NaN is never an outlier and is held over for windows."""
    T = series.shape[-1]
    filled = np.pad(_hold_fill(series), ((0, 0), (3, 3)), mode="edge")
    windows = [filled[:, i : i + T] for i in range(7)]
    med = _median7(windows)
    mad = _median7([np.abs(w - med) for w in windows])
    limit = np.maximum(HAMPEL_SIGMAS * 1.4826 * mad, floor)
    return np.abs(series - med) > limit  # False for NaN


def _spikes(series: np.ndarray, floor: float) -> np.ndarray:
    """(M, T) bool: one-frame spikes, values beyond both neighbours, on the same side, by
    more than `floor` (a 3-frame Hampel without the MAD). Cheap enough for the 110 hand
    and face points."""
    d = np.diff(series, axis=-1)
    up, down = d[:, :-1], -d[:, 1:]  # x_t - x_{t-1}, x_t - x_{t+1}
    out = np.zeros(series.shape, dtype=bool)
    out[:, 1:-1] = (np.minimum(up, down) > floor) | (np.maximum(up, down) < -floor)
    return out


def gap_plan(
    invalid: np.ndarray, present: np.ndarray, max_gap: int = MAX_GAP
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of an (M, T) mask to fill: interior runs of at most `max_gap` frames, only in
    `present` frames. Returns flat indices and the valid flat indices before/after each."""
    holes, before, after = _runs(invalid)
    ok = (before >= 0) & (after >= 0) & (after - before <= max_gap + 1)
    ok &= present[holes % invalid.shape[-1]]
    return holes[ok], before[ok], after[ok]


def interpolate(a: np.ndarray, plan: tuple, angular: bool = False) -> np.ndarray:
    """Values of an (M, T) array at the entries of a `gap_plan` (arrays sharing a mask share
    the plan). Runs up to LINEAR_GAP frames are linear, longer ones a cubic Hermite curve
    whose end slopes are the one-sided differences there (a limb in motion keeps moving
    through the gap). `angular`: values are angles, interpolated along the short arc."""
    holes, i0, i1 = plan
    T = a.shape[-1]
    flat = a.reshape(-1)
    diff = _wrap if angular else (lambda d: d)
    p0 = flat[i0]
    p1 = p0 + diff(flat[i1] - p0)
    span = (i1 - i0).astype(float)
    u = (holes - i0) / span
    value = p0 + u * (p1 - p0)
    long = span > LINEAR_GAP + 1
    if long.any():
        secant = (p1 - p0) / span
        has_before = i0 % T > 0
        has_after = i1 % T < T - 1
        before = np.where(has_before, flat[np.where(has_before, i0 - 1, i0)], np.nan)
        after = np.where(has_after, flat[np.where(has_after, i1 + 1, i1)], np.nan)
        m0 = np.where(np.isnan(before), secant, diff(p0 - before))
        m1 = np.where(np.isnan(after), secant, diff(after - p1))
        u2, u3 = u * u, u * u * u
        hermite = ((2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * span * m0
                   + (3 * u2 - 2 * u3) * p1 + (u3 - u2) * span * m1)  # fmt: skip
        value = np.where(long, hermite, value)
    return value


def fill_gaps(
    a: np.ndarray, present: np.ndarray, max_gap: int = MAX_GAP, angular: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the short interior NaN runs of each row of an (M, T) array in `present` frames
    (see `interpolate`). Returns the filled array and the (M, T) mask of filled entries."""
    plan = gap_plan(np.isnan(a), present, max_gap)
    out = a.copy()
    out.reshape(-1)[plan[0]] = interpolate(a, plan, angular)
    filled = np.zeros(a.shape, dtype=bool)
    filled.reshape(-1)[plan[0]] = True
    return out, filled


# --- step 1: hygiene ------------------------------------------------------------------------


def visible(keypoints: np.ndarray, config: RetargetConfig) -> tuple[np.ndarray, np.ndarray]:
    """(T, 134, 3) keypoints -> xy planes with NaN where a point is below its threshold and
    scores (0 there). A missing neck is the mid-shoulder when both shoulders are seen."""
    xy, scores = to_planes(keypoints)
    threshold = np.full((NUM_KEYPOINTS, 1), config.threshold, dtype=np.float32)
    threshold[LEFT_HAND.start :] = config.hand_threshold
    ok = ~np.isnan(xy[0]) & ~np.isnan(xy[1]) & (scores >= threshold)
    np.copyto(xy, np.nan, where=~ok)
    scores[~ok] = 0.0
    neck = ~ok[NECK] & ok[R_SHOULDER] & ok[L_SHOULDER]
    if neck.any():
        xy[:, NECK, neck] = 0.5 * (xy[:, R_SHOULDER, neck] + xy[:, L_SHOULDER, neck])
        scores[NECK, neck] = np.minimum(scores[R_SHOULDER, neck], scores[L_SHOULDER, neck])
    return xy, scores


_SWAP_HANDS = np.arange(NUM_KEYPOINTS)
_SWAP_HANDS[LEFT_HAND], _SWAP_HANDS[RIGHT_HAND] = (
    np.arange(RIGHT_HAND.start, RIGHT_HAND.stop),
    np.arange(LEFT_HAND.start, LEFT_HAND.stop),
)


def assign_hands(
    xy: np.ndarray, scores: np.ndarray, forearm: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Give each hand to the nearest body wrist (swapping the two hand blocks where that
    is cheaper) and drop a hand farther than half a forearm from its wrist (a second
    person's hand, a misdetection). With the wrist unseen, within 1.5 forearms of the elbow.
    A hand is located by its own wrist point, else by its nearest finger base.

    xy, scores: planes, changed in place. forearm: (T,) expected forearm length in pixels.
    """
    hands = np.stack([xy[:, LEFT_HAND], xy[:, RIGHT_HAND]], axis=1)  # (2, 2, 21, T)
    seen = ~np.isnan(hands[0]).all(axis=1)  # (hand, T)
    if not seen.any():
        return xy, scores

    def reach(joints: list[int]) -> np.ndarray:  # (hand, joint, T): hand-to-joint distance
        target = xy[:, joints][:, None]
        dist = _norm(hands[:, :, None, 0] - target)  # from the hand's own wrist point
        cols = np.flatnonzero((np.isnan(hands[0, :, 0]) & seen).any(axis=0))
        if cols.size:  # else from its nearest finger base
            bases = hands[:, :, None][..., _FINGER_BASES, :][..., cols]
            near = np.fmin.reduce(_norm(bases - target[..., None, cols]), axis=2)
            dist[..., cols] = np.fmin(dist[..., cols], near)
        return dist

    dist = reach([L_WRIST, R_WRIST])
    cost = np.where(seen[:, None], np.where(np.isnan(dist), 1e9, dist), 0.0)
    swap = cost[0, 1] + cost[1, 0] < cost[0, 0] + cost[1, 1]
    if swap.any():
        xy[..., swap] = xy[:, _SWAP_HANDS][..., swap]
        scores[:, swap] = scores[_SWAP_HANDS][:, swap]
        hands[..., swap] = hands[:, ::-1][..., swap]
        seen[:, swap] = seen[::-1][:, swap]
        dist[..., swap] = dist[::-1][..., swap]
    elbow = reach([L_ELBOW, R_ELBOW])
    own, to_elbow = dist[[0, 1], [0, 1]], elbow[[0, 1], [0, 1]]
    keep = np.where(np.isnan(own), to_elbow <= 1.5 * forearm, own <= 0.5 * forearm)
    for h, part in enumerate((LEFT_HAND, RIGHT_HAND)):
        drop = seen[h] & ~keep[h]
        xy[:, part, drop] = np.nan
        scores[part, drop] = 0.0
    return xy, scores


def hygiene(
    keypoints: np.ndarray, config: RetargetConfig
) -> tuple[np.ndarray, np.ndarray, Canonical]:
    """Step 1 on (T, 134, 3) keypoints: `visible`, then `assign_hands` with the forearm
    from this sequence's own canonical lengths. Returns xy planes, scores and those lengths
    (rough: not denoised, good enough for thresholds)."""
    xy, scores = visible(keypoints, config)
    canon = canonical_lengths(xy, config.length_quantile, denoise=False)
    forearm = canon.lengths[COL[R_WRIST]] * canon.scale
    xy, scores = assign_hands(xy, scores, forearm)
    return xy, scores, canon


# --- step 3: lengths ------------------------------------------------------------------------


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


# --- step 4: ratios -------------------------------------------------------------------------


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


# --- step 5: the pose as root + vectors along the tree --------------------------------------


def root_positions(xy: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """(2, T) root: the neck where seen; else a seen joint plus its median offset to the
    neck (in units of `unit`, the per-frame torso length); else the centroid of what is
    seen. NaN only in frames with no point at all."""
    root = xy[:, NECK].copy()
    miss = np.isnan(root[0])
    neck_seen = ~miss
    for j in (R_SHOULDER, L_SHOULDER, NOSE, R_HIP, L_HIP, R_EYE, L_EYE, R_EAR, L_EAR):
        if not miss.any():
            return root
        seen = ~np.isnan(xy[0, j])
        both, use = neck_seen & seen, miss & seen
        if both.any() and use.any():
            offset = np.median((xy[:, NECK, both] - xy[:, j, both]) / unit[both], axis=1)
            root[:, use] = xy[:, j, use] + unit[use] * offset[:, None]
            miss &= ~use
    if miss.any():
        pts = xy[..., miss]
        count = (~np.isnan(pts[0])).sum(axis=0)
        root[:, miss] = np.where(count > 0, np.nansum(pts, axis=1) / np.maximum(count, 1), np.nan)
    return root


_NECK_CHILDREN = np.flatnonzero(PARENT == NECK)


def _parent_seen(seen: np.ndarray, root: np.ndarray) -> np.ndarray:
    """(134, T): the parent of each point is seen (the root stands in for the neck)."""
    seen_or_root = seen.copy()
    seen_or_root[NECK] = ~np.isnan(root[0])
    out = seen_or_root[PARENT]
    out[NECK] = True  # the root has no parent to miss
    return out


def decompose(xy: np.ndarray, root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """xy planes -> vectors (2, 134, T) and `direct` (134, T). The vector into a seen point
    starts at its nearest seen ancestor (the root for the top): its bone when `direct`, i.e.
    the parent is seen. Unseen points have NaN vectors."""
    seen = ~np.isnan(xy[0])
    parent = xy[:, PARENT]
    parent[:, _NECK_CHILDREN] = root[:, None]
    vec = xy - parent
    vec[:, NECK] = np.nan
    seen_or_root = seen.copy()
    seen_or_root[NECK] = ~np.isnan(root[0])
    direct = seen & seen_or_root[PARENT]
    direct[NECK] = False
    jj, tt = np.nonzero(seen & ~direct)
    keep = jj != NECK
    jj, tt = jj[keep], tt[keep]
    if jj.size:  # seen points under unseen joints: climb to the nearest seen ancestor
        anc = PARENT[jj]
        for _ in LEVELS:
            anc = np.where(seen_or_root[anc, tt], anc, PARENT[anc])
        at = np.where(anc == NECK, root[:, tt], xy[:, anc, tt])
        vec[:, jj, tt] = xy[:, jj, tt] - at
    return vec, direct


def compose(
    root: np.ndarray, vec: np.ndarray, seen: np.ndarray, r: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Step 5, rebuild from the root outward: x'_child = x'_anchor + r_eff * vec. With its
    parent seen, r_eff is the bone's own ratio r(b) (directions exact, lengths times r(b));
    across unseen joints it is the w-weighted mean of the ratios along the path."""
    out = np.empty_like(vec)
    out[:, NECK] = root
    for idx in LEVELS:
        out[:, idx] = out[:, PARENT[idx]] + r[idx, None] * vec[:, idx]
    cols = np.flatnonzero((seen & ~_parent_seen(seen, root)).any(axis=0))
    if cols.size:  # seen points under unseen joints: path ratios on those frames only
        v, s = vec[..., cols], seen[:, cols]
        pos = np.empty_like(v)
        anchor = np.empty_like(v)
        pos[:, NECK] = anchor[:, NECK] = root[:, cols]
        num = np.zeros(s.shape)
        den = np.zeros(s.shape)
        for idx in LEVELS:
            par = PARENT[idx]
            n = num[par] + (r * w)[idx, None]
            d = den[par] + w[idx, None]
            pos[:, idx] = anchor[:, par] + n / d * v[:, idx]
            anchor[:, idx] = np.where(s[idx], pos[:, idx], anchor[:, par])
            num[idx] = np.where(s[idx], 0.0, n)
            den[idx] = np.where(s[idx], 0.0, d)
        out[..., cols] = pos
    out[:, NECK] = np.where(seen[NECK], root, np.nan)
    return out


# --- step 2: cleaning -----------------------------------------------------------------------


def clean(
    xy: np.ndarray, scores: np.ndarray, present: np.ndarray, unit: np.ndarray,
    fill_score: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Step 2: invalidate outliers, then fill short gaps in present frames.

    Body and feet: Hampel filter on neck-relative coordinates in torso lengths (`unit`,
    per frame); the root's own track too, and a root outlier (the detector jumped to
    someone else) drops the whole frame. Hands and face: one-frame spikes of block-local
    coordinates. Gaps: bones as angle + log-length, blocks in block-local coordinates,
    the root in pixels, so a filled limb keeps its length and a filled hand stays on its
    wrist. A filled point gets its parent's score (at least `fill_score`).
    Returns xy, scores and the root (the neck, or its estimate where the neck is unseen).
    """
    T = xy.shape[-1]
    xy, scores = xy.copy(), scores.copy()
    root = root_positions(xy, unit)
    if T >= 3:  # in float32: these are only decisions, and twice as fast
        xy32, root32, unit32 = (a.astype(np.float32) for a in (xy, root, unit))
        rel = (xy32[:, :NUM_BODY] - root32[:, None]) / unit32
        bad = hampel_outliers(np.concatenate([rel.reshape(-1, T), root32 / unit32]))
        bad_body = bad[:NUM_BODY] | bad[NUM_BODY : 2 * NUM_BODY]
        bad_body[:, bad[-2] | bad[-1]] = True
        local = (xy32[:, NUM_BODY:] - xy32[:, PARENT[NUM_BODY:]]) / unit32
        spikes = _spikes(local.reshape(-1, T), SPIKE_FLOOR)
        bad_block = spikes[: NUM_KEYPOINTS - NUM_BODY] | spikes[NUM_KEYPOINTS - NUM_BODY :]
        bad_block |= bad_body.all(axis=0)
        bad = np.concatenate([bad_body, bad_block])
        if bad.any():
            np.copyto(xy, np.nan, where=bad)
            scores[bad] = 0.0
            root = root_positions(xy, unit)

    seen = ~np.isnan(xy[0])
    root_plan = gap_plan(np.isnan(root[:1]), present)
    root_filled = root.copy()
    for i in range(2):
        root_filled[i].reshape(-1)[root_plan[0]] = interpolate(root[i : i + 1], root_plan)
    vec, direct = decompose(xy, root)
    body_plan = gap_plan(~direct[BONE_CHILDREN], present)
    block_plan = gap_plan(~direct[NUM_BODY:], present)
    if body_plan[0].size or block_plan[0].size:
        body = vec[:, BONE_CHILDREN]
        angle = interpolate(np.arctan2(body[1], body[0]), body_plan, angular=True)
        with np.errstate(divide="ignore"):
            loglen = 0.5 * np.log(body[0] ** 2 + body[1] ** 2)
        length = np.exp(interpolate(loglen, body_plan))
        rows, t_body = np.divmod(body_plan[0], T)
        rows_b, t_block = np.divmod(block_plan[0], T)
        jj = np.concatenate([BONE_CHILDREN[rows], NUM_BODY + rows_b])
        tt = np.concatenate([t_body, t_block])
        v = np.concatenate([length * np.stack([np.cos(angle), np.sin(angle)]),
                            [interpolate(vec[i, NUM_BODY:], block_plan) for i in range(2)]],
                           axis=1)  # fmt: skip
        new = ~seen[jj, tt]  # a plan also covers seen points whose parent is unseen
        jj, tt, v = jj[new], tt[new], v[:, new]
        neck_score = np.where(seen[NECK], scores[NECK], fill_score)
        for depth in range(1, DEPTH.max() + 1):  # parents before children
            sel = DEPTH[jj] == depth
            j, t, par = jj[sel], tt[sel], PARENT[jj[sel]]
            at = np.where(par == NECK, root_filled[:, t], xy[:, par, t])
            ok = ~np.isnan(at[0])
            j, t, par = j[ok], t[ok], par[ok]
            xy[:, j, t] = at[:, ok] + v[:, sel][:, ok]
            parent_score = np.where(par == NECK, neck_score[t], scores[par, t])
            scores[j, t] = np.maximum(parent_score, fill_score)
    neck, neck_filled = fill_gaps(xy[:, NECK], present)  # the neck's own gaps, in pixels
    gain = neck_filled.any(axis=0) & ~np.isnan(root_filled[0])
    if gain.any():
        xy[:, NECK, gain] = neck[:, gain]
        scores[NECK, gain] = fill_score
    root = np.where(np.isnan(xy[:, NECK]), root_filled, xy[:, NECK])
    return xy, scores, root


# --- step 8: smoothing ----------------------------------------------------------------------


def smooth(
    root: np.ndarray, vec: np.ndarray, direct: np.ndarray, window: int, order: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Zero-phase Savitzky-Golay over time on the root (pixels), bone angles (unwrapped) and
    log-lengths, and block-local coordinates; only bone vectors (`direct`) are smoothed.
    Gaps are held for the filter and stay gaps. Lengths are smoothed, never shrunk: raw-xy
    smoothing would cut the corners of fast limbs."""
    T = root.shape[-1]
    window = min(window, T if T % 2 else T - 1)
    if window <= order + 1:
        return root, vec
    nb = len(BONE_CHILDREN)
    body = vec[:, BONE_CHILDREN]
    with np.errstate(divide="ignore"):
        loglen = 0.5 * np.log(body[0] ** 2 + body[1] ** 2)
    params = np.concatenate([root, np.arctan2(body[1], body[0]), loglen, vec[0, NUM_BODY:],
                             vec[1, NUM_BODY:]])  # fmt: skip
    unseen = np.isnan(vec[0])
    jj, tt = np.nonzero(~unseen & ~direct)  # vectors from a farther ancestor: not filtered
    params[_ROW_A[jj], tt] = params[_ROW_B[jj], tt] = np.nan
    params = _hold_fill(params)
    params[2 : 2 + nb] = np.unwrap(params[2 : 2 + nb], axis=-1)
    params = savgol(params, window, order)
    # float32 trig is vectorised (float64 cos is ~20x slower here); 1e-7 rad is plenty
    angle = _wrap(params[2 : 2 + nb]).astype(np.float32)
    out = np.empty_like(vec)
    out[:, BONE_CHILDREN] = np.exp(params[2 + nb : 2 + 2 * nb]) * np.stack(
        [np.cos(angle), np.sin(angle)])  # fmt: skip
    out[:, NUM_BODY:] = params[2 + 2 * nb :].reshape(2, -1, T)
    np.copyto(out, np.nan, where=unseen)
    out[:, jj, tt] = vec[:, jj, tt]
    return np.where(np.isnan(root), np.nan, params[:2]), out


# rows of each point's two parameters in `smooth`: angle and log-length for bones, x and y
# for block points
_ROW_A = np.zeros(NUM_KEYPOINTS, dtype=int)
_ROW_B = np.zeros(NUM_KEYPOINTS, dtype=int)
_ROW_A[BONE_CHILDREN] = 2 + np.arange(len(BONE_CHILDREN))
_ROW_B[BONE_CHILDREN] = 2 + len(BONE_CHILDREN) + np.arange(len(BONE_CHILDREN))
_ROW_A[NUM_BODY:] = 2 + 2 * len(BONE_CHILDREN) + np.arange(NUM_KEYPOINTS - NUM_BODY)
_ROW_B[NUM_BODY:] = _ROW_A[NUM_BODY:] + NUM_KEYPOINTS - NUM_BODY


# --- step 7: transition ---------------------------------------------------------------------


def closest_frame(
    vec: np.ndarray, direct: np.ndarray, ref_vec: np.ndarray, ref_direct: np.ndarray,
    candidates: np.ndarray,
) -> int:
    """Frame among `candidates` whose bone directions are closest to the reference pose's
    (mean 1 - cos of the angle differences over bones both show, 4 at least)."""
    j = BONE_CHILDREN
    v = vec[:, j][..., candidates]
    a = np.arctan2(v[1], v[0])
    b = np.arctan2(ref_vec[1, j], ref_vec[0, j])  # (23, 1)
    shared = direct[j][:, candidates] & ref_direct[j]
    count = shared.sum(axis=0)
    cost = np.where(shared, 1 - np.cos(a - b), 0.0).sum(axis=0) / np.maximum(count, 1)
    cost = np.where(count >= 4, cost, np.inf)
    return int(candidates[np.argmin(cost)]) if np.isfinite(cost).any() else int(candidates[0])


def transition(
    start: np.ndarray, start_scores: np.ndarray, start_root: np.ndarray,
    end: np.ndarray, end_scores: np.ndarray, end_root: np.ndarray, alphas: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Poses at blend `alphas` (A,) between two single poses given as (2, 134) xy, (134,)
    scores and (2,) roots, in parameter space: root linearly, bones along the shortest arc
    with log-lengths linearly, block-local coordinates linearly. A point seen in both hangs
    from its nearest ancestor seen in both; a point seen in one pose only keeps that pose's
    vector from its nearest ancestor seen there and fades in or out through its score.
    Returns xy planes (2, 134, A) and scores (134, A)."""
    in_s, in_e = ~np.isnan(start[0]), ~np.isnan(end[0])
    if np.isnan(end_root).any():
        end_root = start_root
    pos = np.full((2, NUM_KEYPOINTS, len(alphas)), np.nan)
    pos[:, NECK] = start_root[:, None] + alphas * (end_root - start_root)[:, None]
    s_at, e_at = start.copy(), end.copy()
    s_at[:, NECK], e_at[:, NECK] = start_root, end_root
    # nearest ancestor (self included) seen in both / in start / in end; the root is in all
    near_b, near_s, near_e = (np.arange(NUM_KEYPOINTS) for _ in range(3))
    for idx in LEVELS:
        par = PARENT[idx]
        both = in_s[idx] & in_e[idx]
        anchor = np.where(both, near_b[par], np.where(in_s[idx], near_s[par], near_e[par]))
        v_s = (start[:, idx] - s_at[:, anchor])[..., None]
        v_e = (end[:, idx] - e_at[:, np.where(both, near_b[par], near_e[par])])[..., None]
        th_s, th_e = np.arctan2(v_s[1], v_s[0]), np.arctan2(v_e[1], v_e[0])
        ln_s, ln_e = np.log(np.maximum(_norm(v_s), 1e-12)), np.log(np.maximum(_norm(v_e), 1e-12))
        th = th_s + alphas * _wrap(th_e - th_s)
        polar = np.exp(ln_s + alphas * (ln_e - ln_s)) * np.stack([np.cos(th), np.sin(th)])
        v = np.where((idx < NUM_BODY)[:, None], polar, v_s + alphas * (v_e - v_s))
        v = np.where(both[:, None], v, np.where(in_s[idx, None], v_s, v_e))
        pos[:, idx] = pos[:, anchor] + v
        near_b[idx] = np.where(both, idx, near_b[par])
        near_s[idx] = np.where(in_s[idx], idx, near_s[par])
        near_e[idx] = np.where(in_e[idx], idx, near_e[par])
    scores = (1 - alphas) * start_scores[:, None] + alphas * end_scores[:, None]
    pos[:, scores <= 0] = np.nan
    return pos, np.maximum(scores, 0.0).astype(np.float32)


def _smoothstep(u: np.ndarray) -> np.ndarray:
    return u * u * (3 - 2 * u)


def lead_in(ends: tuple, frames: int, max_step: float) -> tuple[np.ndarray, np.ndarray]:
    """The lead-in: `transition` over the poses `ends` (its first six arguments) with
    smoothstep easing, `frames` frames long, or longer (up to 4x) where a point would move
    more than `max_step` pixels in one frame. Returns xy planes (2, 134, N) and scores
    (134, N); frame 0 is the start pose, the end pose itself is not included."""
    n = frames
    for _ in range(3):  # a step shrinks about as 1/n: one retry is normally enough
        xy, scores = transition(*ends, _smoothstep(np.arange(n + 1) / n))
        step = np.nanmax(_norm(np.diff(xy, axis=-1)), initial=0.0)
        if step <= max_step or n == 4 * frames:
            break
        n = min(math.ceil(n * step / max_step * 1.05), 4 * frames)
    return xy[..., :-1], scores[:, :-1]


# hips, legs and feet: what an upper-body driver never shows
_LOWER_BODY = np.array([R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, *range(18, 24)])

# --- the entry point ------------------------------------------------------------------------


def retarget(
    driver: PoseSequence, portrait: PoseSequence, config: RetargetConfig | None = None
) -> Retargeted:
    """The driving motion with the portrait person's proportions, placed where the portrait's
    person stands, starting from the portrait's pose (shared/reference/retarget.md).

    driver: the driving poses in the driving video's pixels. portrait: one pose in the
    portrait's pixels. Raises InputError when the driver never shows a person or the
    portrait shows no usable head and shoulders, or for unknown multiplier groups.
    """
    config = config or RetargetConfig()
    if len(portrait) != 1:
        raise ValueError(f"portrait must be a single pose, got {len(portrait)} frames")
    mult = _multipliers(config)
    notices: list[str] = []
    if len(driver) == 0:
        driver = PoseSequence(np.full((1, NUM_KEYPOINTS, 3), np.nan), 1, 1, driver.fps)

    # 1-2: hygiene and cleaning of the driver
    xy, scores, canon = hygiene(driver.keypoints, config)
    present = ~np.isnan(xy[0]).all(axis=0)
    if not present.any():
        raise InputError(
            "No person found in the driving video: use a video where one person is "
            "clearly visible."
        )
    xy, scores, root = clean(xy, scores, present, canon.torso * canon.scale, config.threshold)
    seen = ~np.isnan(xy[0])
    vec, direct = decompose(xy, root)

    # 3-4: lengths and ratios
    canon = canonical_lengths(xy, config.length_quantile)
    p_xy, p_scores, _ = hygiene(portrait.keypoints, config)
    p_root = p_xy[:, NECK, 0]
    ref = portrait_lengths(p_xy, portrait.width, portrait.height)
    k = global_scale(ref, canon) if not np.isnan(p_root).any() else math.nan
    if not np.isfinite(k):
        if np.isnan(p_root).any() or not (~np.isnan(ref) & (K_WEIGHT > 0)).any():
            raise InputError(
                "No person found in the portrait: use a photo where the head and "
                "shoulders are visible."
            )
        raise InputError(
            "The driving video never shows the body parts the portrait shows: use a "
            "driving video where the person's head and shoulders are visible."
        )
    rho, measured = proportion_ratios(ref, canon, k, config.ratio_clip)
    r, w = point_ratios(rho, canon, k, mult)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = ref / (k * canon.lengths)
    if (measured & ((raw > config.ratio_clip) | (raw < 1 / config.ratio_clip))).any():
        notices.append(
            f"Some of the portrait's proportions differ from the driving video's by more "
            f"than {config.ratio_clip:g}x and were limited to that."
        )
    legs = [COL[j] for j in (R_KNEE, L_KNEE, R_ANKLE, L_ANKLE)]
    if not measured[legs].any() and canon.observed[legs].any():
        notices.append(
            "The portrait shows only the upper body: the legs keep the driving video's "
            "proportions."
        )
    if not measured[HAND_COLS].any() and canon.observed[HAND_COLS].any():
        notices.append("The portrait's hands are not visible: hand size follows the forearms.")

    # 8: smoothing, on the driver's parameters: ratios are constant per bone, so this is
    # the same as smoothing the output's parameters
    if config.smoothing > 1:
        root, vec = smooth(root, vec, direct, int(config.smoothing) | 1)

    # 7, optional part: start at the frame closest to the portrait's pose (first half)
    start = 0
    if config.start_at_closest:
        first_half = np.flatnonzero(present[: max(1, (len(present) + 1) // 2)])
        p_vec, p_direct = decompose(p_xy, p_root[:, None])
        start = closest_frame(vec, direct, p_vec, p_direct, first_half)
        if start:
            notices.append(
                f"The motion starts at driving frame {start}, the one closest to the "
                "portrait's pose."
            )
    root, vec, seen, scores = root[:, start:], vec[..., start:], seen[:, start:], scores[:, start:]

    # 6: placement
    anchor = int(np.flatnonzero(~np.isnan(root[0]))[0])
    placed = p_root[:, None] + config.root_motion * k * (root - root[:, [anchor]])
    out = compose(placed, vec, seen, r, w)
    if config.ground:  # ankles, not toes: feet are the least reliable points
        margin = max(2.0, BORDER * min(portrait.width, portrait.height))
        p_feet = p_xy[1, [R_ANKLE, L_ANKLE], 0]
        p_feet = p_feet[p_feet <= portrait.height - 1 - margin]
        d_feet = out[1, [R_ANKLE, L_ANKLE], anchor]
        if p_feet.size and (~np.isnan(d_feet)).any():
            drop = p_feet.max() - np.nanmax(d_feet)
            out[1] += drop
            placed[1] += drop
    empty = int((~present[start:]).sum())
    if empty:
        notices.append(f"{empty} driving frame(s) show no person; they stay empty.")

    # 7: transition from the portrait's pose
    lead = 0
    frames = round(config.transition * driver.fps)
    if frames > 0:
        torso = r[R_HIP] * canon.lengths[COL[R_HIP]]
        # a lower body the driver never shows is not in the lead-in either: an upper-body
        # driver gives an upper-body output from the first frame (nothing fades out)
        start_xy, start_scores = p_xy[..., 0].copy(), p_scores[:, 0].copy()
        never = _LOWER_BODY[~seen[_LOWER_BODY].any(axis=1)]
        start_xy[:, never], start_scores[never] = np.nan, 0.0
        ends = (start_xy, start_scores, p_root, out[..., 0], scores[:, 0], placed[:, 0])
        lead_xy, lead_scores = lead_in(ends, frames, config.max_step * torso)
        lead = lead_xy.shape[-1]
        if lead > frames:
            notices.append(
                f"The lead-in from the portrait's pose was lengthened to "
                f"{lead / driver.fps:.2f} s so the first moves stay smooth."
            )
        out = np.concatenate([lead_xy, out], axis=-1)
        scores = np.concatenate([lead_scores, scores], axis=-1)

    return Retargeted(
        poses=PoseSequence(from_planes(out, scores), portrait.width, portrait.height, driver.fps),
        lead_in=lead,
        driver_start=start,
        scale=k,
        ratios=group_ratios(rho, mult),
        notices=notices,
    )
