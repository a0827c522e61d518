"""Step 8, smoothing: zero-phase Savitzky-Golay over time on the root, unwrapped bone angles,
log-lengths and block coordinates; smoothing raw xy would shrink fast limbs.
"""

from __future__ import annotations

import numpy as np

from animator.pose.retarget.numeric import _hold_fill, _wrap, savgol
from animator.pose.retarget.tree import BONE_CHILDREN, NUM_BODY
from animator.pose.skeleton import (
    NUM_KEYPOINTS,
)


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
