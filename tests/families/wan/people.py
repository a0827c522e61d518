"""Synthetic people for the family tests: a standing person's 134 keypoints, drawn into
simple frames, moving a little per frame."""

from __future__ import annotations

import numpy as np

from animator.families.base import GenerationInputs
from animator.pose.skeleton import FACE, LEFT_HAND, RIGHT_HAND, PoseSequence, missing_pose

# A standing person in a 1 x 2 box (x right, y down), OpenPose-18 order then the feet.
_BODY = np.array([
    (0.50, 0.12), (0.50, 0.25), (0.38, 0.25), (0.33, 0.42), (0.30, 0.57), (0.62, 0.25),
    (0.67, 0.42), (0.70, 0.57), (0.42, 0.58), (0.41, 0.78), (0.40, 0.97), (0.58, 0.58),
    (0.59, 0.78), (0.60, 0.97), (0.47, 0.10), (0.53, 0.10), (0.44, 0.11), (0.56, 0.11),
    (0.62, 1.00), (0.64, 0.99), (0.58, 0.98), (0.38, 1.00), (0.36, 0.99), (0.42, 0.98),
])


def person(width: int, height: int, t: int = 0, x: float = 0.5) -> np.ndarray:
    """(134, 3) keypoints of a person standing in a width x height picture, centred at x
    (a fraction of the width), swaying a little with t."""
    kp = missing_pose(1)[0]
    scale = 0.9 * height
    origin = np.array([x * width - 0.5 * scale * 0.5, 0.05 * height])
    body = _BODY * [scale * 0.5, scale] + origin
    body[:, 0] += 2.0 * np.sin(t / 3)
    kp[:24, :2], kp[:24, 2] = body, 0.9
    angles = np.linspace(0, 2 * np.pi, FACE.stop - FACE.start, endpoint=False)
    head = body[0] + [0, 0.01 * height]
    kp[FACE, 0] = head[0] + 0.05 * scale * np.cos(angles)
    kp[FACE, 1] = head[1] + 0.06 * scale * np.sin(angles) + 0.5 * np.sin(t)
    kp[FACE, 2] = 0.8
    for block, wrist in ((LEFT_HAND, 7), (RIGHT_HAND, 4)):
        fingers = np.linspace(0, 0.04 * scale, block.stop - block.start)
        kp[block, 0] = body[wrist, 0] + fingers * 0.3
        kp[block, 1] = body[wrist, 1] + fingers
        kp[block, 2] = 0.7
    return kp


def frame_of(kp: np.ndarray, width: int, height: int, seed: int = 0) -> np.ndarray:
    """A textured background with the person as a bright blob over its keypoints."""
    import cv2

    rng = np.random.default_rng(seed)
    img = rng.integers(0, 120, (height, width, 3), dtype=np.uint8)
    pts = kp[:24, :2][np.isfinite(kp[:24, 0])]
    cv2.fillConvexPoly(img, cv2.convexHull(np.round(pts).astype(np.int32)), (230, 200, 180))
    return img


def inputs(num_frames: int, *, lead_in: int = 0, size=(48, 40), driver=(40, 32),
           settings=None, video: bool = True) -> GenerationInputs:
    """GenerationInputs of `num_frames` output frames: a portrait of `size`, a driving clip
    of `driver` size with num_frames - lead_in frames (lead-in frames show the first)."""
    (pw, ph), (dw, dh) = size, driver
    ref = person(pw, ph)
    portrait = frame_of(ref, pw, ph, seed=1)
    poses = PoseSequence(np.stack([person(pw, ph, t) for t in range(num_frames)]), pw, ph, 30)
    frames = num_frames - lead_in
    drive = PoseSequence(np.stack([person(dw, dh, t, x=0.4) for t in range(frames)]), dw, dh,
                         30)
    return GenerationInputs(
        portrait=portrait, reference=PoseSequence(ref[None], pw, ph), poses=poses,
        driver_index=[max(0, i - lead_in) for i in range(num_frames)],
        driving_frames=[frame_of(k, dw, dh, seed=2 + t) for t, k in enumerate(drive.keypoints)]
        if video else None,
        driving_poses=drive if video else None, settings=dict(settings or {}))
