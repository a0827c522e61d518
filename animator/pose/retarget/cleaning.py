"""Step 2, cleaning: Hampel outliers (body), one-frame spikes (hands, face), then short gaps
filled in parameter space (bone angle and log-length, block-local coordinates, the root in
pixels), so a filled limb keeps its length and a filled hand stays on its wrist.
"""

from __future__ import annotations

import numpy as np

from animator.pose.retarget.gaps import fill_gaps, gap_plan, interpolate
from animator.pose.retarget.numeric import _hold_fill, _median7
from animator.pose.retarget.tree import (
    BONE_CHILDREN,
    DEPTH,
    NUM_BODY,
    PARENT,
    decompose,
    root_positions,
)
from animator.pose.skeleton import (
    NECK,
    NUM_KEYPOINTS,
)

# Cleaning constants, in torso lengths where they are distances.
HAMPEL_SIGMAS = 3.0  # outlier if farther than this many robust sigmas from the window median
HAMPEL_FLOOR = 0.2  # ...and farther than this, so detector noise and fast limbs are kept
SPIKE_FLOOR = 0.1  # one-frame spike of a hand/face point, relative to its anchor joint


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
