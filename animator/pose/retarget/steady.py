"""A steady skeleton along the track: left/right consistency, the shoulder span and the
head size, what keeps a small person (~60 px tall) from flipping frame to frame.

At that size a detector often mirrors a limb group for a frame or two (the front and the
back of a walker look alike), the shoulders, a few pixels apart, collapse onto each other
or spread, and a head of 3-5 px (eyes and ears only) doubles or halves between frames.
Retargeting would draw all of it faithfully.

- `consistent_sides`: per frame and per group (arms with the shoulders and hands, legs
  with the hips and feet, eyes and ears), the mirrored labelling is taken when it lies
  clearly closer (`better` x the distance) to the last frame's pose, in neck-relative torso
  units. A person turning round moves gradually, so their sides are never swapped.
- `span_outliers`: frames whose shoulder span is more than `change` x off its 7-frame
  median lose both shoulders, which the gap filling then rebuilds from the frames around
  (their angle and length), so the span follows the track.
- `steady_head`: a head more than `change` x off its own median over `window` frames is
  scaled about the nose to that median (directions kept), and a head under `tiny_px`
  pixels has its eyes and ears at their 7-frame median offsets from the nose (at 3-5 px
  their bone angles are noise). Ordinary footage, whose heads are larger and change size
  slowly, is left as it is.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from animator.pose.plausibility import frame_heads, running_median
from animator.pose.retarget.numeric import _hold_fill, _median7, _norm
from animator.pose.skeleton import (
    FACE,
    FEET,
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
)

# The joints compared for each group, and every point the group's swap moves.
_GROUPS = (
    ((R_SHOULDER, R_ELBOW, R_WRIST),
     [R_SHOULDER, R_ELBOW, R_WRIST, *range(RIGHT_HAND.start, RIGHT_HAND.stop)]),
    ((R_HIP, R_KNEE, R_ANKLE), [R_HIP, R_KNEE, R_ANKLE, *range(FEET.start + 3, FEET.stop)]),
    ((R_EYE, R_EAR), [R_EYE, R_EAR]),
)  # fmt: skip
_OTHER = np.arange(NUM_KEYPOINTS)
_OTHER[: len(MIRROR)] = MIRROR
_OTHER[LEFT_HAND], _OTHER[RIGHT_HAND] = (np.arange(RIGHT_HAND.start, RIGHT_HAND.stop),
                                         np.arange(LEFT_HAND.start, LEFT_HAND.stop))
_PAIRS = [(R_SHOULDER, L_SHOULDER), (R_ELBOW, L_ELBOW), (R_WRIST, L_WRIST), (R_HIP, L_HIP),
          (R_KNEE, L_KNEE), (R_ANKLE, L_ANKLE), (R_EYE, L_EYE), (R_EAR, L_EAR)]


def consistent_sides(xy: np.ndarray, scores: np.ndarray, unit: np.ndarray,
                     better: float = 0.5, floor: float = 0.1, reach: int = 3) -> int:
    """Swap, in place, the left/right labels of a group in frames where the mirrored
    labelling is closer to the last frame (at most `reach` frames back) showing that group
    than `better` x the kept one, and the kept one is off by over `floor` torso lengths
    (a swap must be visible). xy, scores: planes; unit: (T,) torso length in pixels.
    Returns how many (frame, group) swaps were made.

    Vectorised: each frame is compared with the previous one as detected; a frame
    mirrored against it flips the labelling from there on (a parity over the track,
    restarted after a gap longer than `reach`), which is what correcting frame by frame
    against the corrected previous frame gives."""
    T = xy.shape[-1]
    swaps = 0
    neck = xy[:, NECK]
    ok = ~np.isnan(neck[0]) & (unit > 0)
    for joints, moved in _GROUPS:
        right = list(joints)
        left = [int(_OTHER[j]) for j in joints]
        rel = (xy[:, right + left] - neck[:, None]) / np.where(ok, unit, np.nan)
        shown = ok & ~np.isnan(rel[0]).all(axis=0)
        index = np.where(shown, np.arange(T), -1)
        prev = np.maximum.accumulate(np.r_[-1, index[:-1]])  # last shown frame before t
        close = shown & (prev >= 0) & (np.arange(T) - prev <= reach)
        t = np.flatnonzero(close)
        if not len(t):
            continue
        before = rel[..., prev[t]]
        n = len(right)
        keep = _median_distance(rel[..., t], before)
        mirror = _median_distance(rel[:, np.r_[n:2 * n, :n]][..., t], before)
        flip = np.zeros(T, dtype=bool)
        with np.errstate(invalid="ignore"):
            flip[t] = (keep > floor) & (mirror < better * keep)
        # the parity of flips since the last break (a frame with no close predecessor)
        breaks = shown & ~close
        segment = np.cumsum(breaks)
        count = np.cumsum(flip)
        start = np.zeros(segment.max() + 1, dtype=int)
        start[segment[breaks]] = count[breaks]
        swap = shown & ((count - start[segment]) % 2 == 1)
        if swap.any():
            moved = np.array(moved)
            pair = np.concatenate([moved, _OTHER[moved]])
            other = np.concatenate([_OTHER[moved], moved])
            xy[:, pair[:, None], swap] = xy[:, other[:, None], swap]
            scores[pair[:, None], swap] = scores[other[:, None], swap]
            swaps += int(swap.sum())
    return swaps


def _median_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,) NaN-aware median over joints of the distance between (2, J, T) point sets."""
    d = _norm(a - b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no joint in common: NaN
        return np.nanmedian(d, axis=0)


def span_outliers(xy: np.ndarray, change: float = 1.6) -> np.ndarray:
    """(T,) bool: frames whose shoulder span is more than `change` x off (either way) the
    median of the 7 frames around it."""
    span = _norm(xy[:, R_SHOULDER] - xy[:, L_SHOULDER])
    T = len(span)
    if T < 3:
        return np.zeros(T, dtype=bool)
    with np.errstate(divide="ignore"):
        log = np.log(span)[None]
    filled = np.pad(_hold_fill(log), ((0, 0), (3, 3)), mode="edge")
    med = _median7([filled[:, i:i + T] for i in range(7)])[0]
    return np.abs(log[0] - med) > math.log(change)  # False where unseen


def steady_shoulders(xy: np.ndarray, scores: np.ndarray, change: float = 1.6) -> int:
    """Drop, in place, both shoulders in the frames of `span_outliers` (the neck stays);
    returns how many frames."""
    odd = span_outliers(xy, change)
    xy[:, [R_SHOULDER, L_SHOULDER]] = np.where(odd, np.nan, xy[:, [R_SHOULDER, L_SHOULDER]])
    scores[[R_SHOULDER, L_SHOULDER]] = np.where(odd, 0.0, scores[[R_SHOULDER, L_SHOULDER]])
    return int(odd.sum())


def steady_head(xy: np.ndarray, change: float = 1.5, window: int = 25,
                tiny_px: float = 12.0) -> int:
    """Scale, in place, the eyes, ears and face about the nose in frames whose head size
    (the largest of ear-ear, 2.4 x eye-eye, 1.6 x nose-ear, jaw) is more than `change` x
    off its median over `window` frames; where that median is under `tiny_px` pixels,
    the eyes and ears also take their 7-frame median offsets from the nose. Returns how
    many frames changed."""
    T = xy.shape[-1]
    if T < 3:
        return 0
    head = frame_heads(np.moveaxis(xy, 0, -1).transpose(1, 0, 2))
    own = running_median(head, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = own / head
        odd = np.abs(np.log(factor)) > math.log(change)
    if odd.any():
        points = np.r_[R_EYE, L_EYE, R_EAR, L_EAR, FACE.start:FACE.stop]
        nose = xy[:, NOSE, odd][:, None]
        xy[:, points[:, None], odd] = nose + factor[odd] * (xy[:, points][..., odd] - nose)
    # a head of a few pixels: its eyes and ears are sub-pixel noise around the nose (their
    # bone angles spin), so they take the median of their offsets over 7 frames
    tiny = own < tiny_px
    if tiny.any():
        head_points = [R_EYE, L_EYE, R_EAR, L_EAR]
        offset = xy[:, head_points] - xy[:, [NOSE]]
        filled = np.pad(_hold_fill(offset.reshape(-1, T)), ((0, 0), (3, 3)), mode="edge")
        med = _median7([filled[:, i:i + T] for i in range(7)]).reshape(offset.shape)
        seen = ~np.isnan(offset[0]) & tiny
        xy[:, head_points] = np.where(seen, xy[:, [NOSE]] + med, xy[:, head_points])
    return int((odd | tiny).sum())

