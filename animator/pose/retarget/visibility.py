"""Step 1, hygiene: visibility thresholds, the neck as the mid-shoulder, and the hands given
to the nearest wrist (dropped when farther than half a forearm: a second person's hand, a
misdetection).
"""

from __future__ import annotations

import numpy as np

from animator.config import RetargetConfig
from animator.pose.retarget.lengths import _FINGER_BASES, COL, Canonical, canonical_lengths
from animator.pose.retarget.numeric import _norm
from animator.pose.retarget.tree import to_planes
from animator.pose.skeleton import (
    L_ELBOW,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    NECK,
    NUM_KEYPOINTS,
    R_ELBOW,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
)


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
