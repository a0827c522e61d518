"""Step 7, the lead-in: frames from the portrait's pose into the motion, interpolated in
parameter space (root linearly, bones along the shortest arc, log-lengths linearly) with
smoothstep easing, lengthened when a point would move too fast; and `closest_frame`, the
optional start at the driving frame closest to the portrait's pose.
"""

from __future__ import annotations

import math

import numpy as np

from animator.pose.retarget.numeric import _norm, _wrap
from animator.pose.retarget.tree import BONE_CHILDREN, LEVELS, NUM_BODY, PARENT
from animator.pose.skeleton import (
    NECK,
    NUM_KEYPOINTS,
)


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
