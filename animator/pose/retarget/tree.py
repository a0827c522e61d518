"""The pose as a tree: the parent of each of the 134 points, the xy-planes layout, and a pose
as root + vectors along that tree (step 5 of shared/reference/retarget.md).

Every point has a parent: body and feet follow `BODY_PARENTS`, the face hangs off the nose
and each hand off its body wrist, so the hands and the face are rigid blocks scaled about
that joint. `decompose` turns xy planes into a root and one vector per point; `compose`
rebuilds them with per-point ratios, so directions (foreshortening, depth motion) stay.
`root_positions` finds the root (the neck, or its estimate) in every frame.
"""

from __future__ import annotations

import numpy as np

from animator.pose.skeleton import (
    BODY_PARENTS,
    FACE,
    L_EAR,
    L_EYE,
    L_HIP,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    NECK,
    NOSE,
    NUM_KEYPOINTS,
    R_EAR,
    R_EYE,
    R_HIP,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
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
