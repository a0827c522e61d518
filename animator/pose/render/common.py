"""What the drawings share: checks of a pose and a canvas size, points made safe for cv2's
fixed-point coordinates, and the hand colours (the HSV wheel over the hand edges) that the
DWPose and the Wan drawings both use.
"""

from __future__ import annotations

import colorsys

import numpy as np

from animator.errors import InputError
from animator.pose.skeleton import (
    HAND_EDGES,
    NUM_KEYPOINTS,
)

_HAND_COLORS = tuple(
    tuple(round(c * 255) for c in colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0))
    for i in range(len(HAND_EDGES))
)
_HAND_JOINT_COLOR = (0, 0, 255)
_SHIFT = 4  # sub-pixel bits for cv2 coordinates
_ONE = 1 << _SHIFT


def _check_pose(pose: np.ndarray) -> np.ndarray:
    pose = np.asarray(pose, dtype=np.float64)
    if pose.shape != (NUM_KEYPOINTS, 3):
        raise InputError(
            f"a pose must be a ({NUM_KEYPOINTS}, 3) array of x, y, score; got shape "
            f"{pose.shape}. Pass one frame of a PoseSequence (sequence.keypoints[t])."
        )
    return pose


def _check_size(width: int, height: int) -> tuple[int, int]:
    if int(width) <= 0 or int(height) <= 0:
        raise InputError(f"canvas size must be positive, got {width}x{height}.")
    return int(width), int(height)


def _points(pose: np.ndarray, width: int, height: int, threshold: float):
    """Coordinates clamped to a range cv2's fixed point can hold, scores in [0, 1], and
    a validity mask (finite coordinates and score >= threshold)."""
    xy = pose[:, :2]
    valid = np.isfinite(xy).all(axis=1) & (pose[:, 2] >= threshold)
    limit = 4.0 * max(width, height)
    xy = np.clip(np.nan_to_num(xy), -limit, limit)
    return xy, np.clip(np.nan_to_num(pose[:, 2]), 0.0, 1.0), valid


def _fixed(x: float, y: float) -> tuple[int, int]:
    return round(x * _ONE), round(y * _ONE)
