"""`draw_dense`: dense body-part maps for the pose encoder's dense branch: each body part a
filled shape in its fixed colour (`PART_COLORS`), drawn back to front (`DENSE_ORDER`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from animator.pose.render.common import (
    _ONE,
    _SHIFT,
    _check_pose,
    _check_size,
    _fixed,
    _points,
)
from animator.pose.skeleton import (
    FACE,
    HAND_EDGES,
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    NECK,
    NOSE,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
)

# Colour of each body part in dense maps (RGB). "Right"/"left" are the person's own sides,
# so a person facing the camera has red-family right arm on the image's left.
PART_COLORS: dict[str, tuple[int, int, int]] = {
    "torso": (200, 200, 200),
    "head": (255, 200, 150),
    "right_upper_arm": (255, 0, 0),
    "right_forearm": (255, 128, 0),
    "right_hand": (255, 255, 0),
    "left_upper_arm": (0, 0, 255),
    "left_forearm": (0, 128, 255),
    "left_hand": (0, 255, 255),
    "right_thigh": (255, 0, 255),
    "right_shin": (160, 0, 160),
    "right_foot": (128, 0, 64),
    "left_thigh": (0, 255, 0),
    "left_shin": (0, 160, 0),
    "left_foot": (0, 96, 64),
}
# Back-to-front draw order: legs behind the torso, arms and hands in front of it.
DENSE_ORDER = (
    "right_thigh", "left_thigh", "right_shin", "left_shin", "right_foot", "left_foot",
    "torso", "head", "right_upper_arm", "left_upper_arm", "right_forearm", "left_forearm",
    "right_hand", "left_hand",
)  # fmt: skip
# Limb capsules: part -> (joint a, joint b, radius as a fraction of the body scale).
_CAPSULES = {
    "right_upper_arm": (R_SHOULDER, R_ELBOW, 0.12), "left_upper_arm": (L_SHOULDER, L_ELBOW, 0.12),
    "right_forearm": (R_ELBOW, R_WRIST, 0.10), "left_forearm": (L_ELBOW, L_WRIST, 0.10),
    "right_thigh": (R_HIP, R_KNEE, 0.19), "left_thigh": (L_HIP, L_KNEE, 0.19),
    "right_shin": (R_KNEE, R_ANKLE, 0.13), "left_shin": (L_KNEE, L_ANKLE, 0.13),
}  # fmt: skip
_FEET = {"right_foot": (R_ANKLE, (21, 22, 23)), "left_foot": (L_ANKLE, (18, 19, 20))}
_HANDS = {"right_hand": (RIGHT_HAND, R_ELBOW, R_WRIST), "left_hand": (LEFT_HAND, L_ELBOW, L_WRIST)}
_PALM = [0, 1, 5, 9, 13, 17]  # wrist, thumb base and the four finger bases
_NECK_R, _FOOT_R, _FINGER_R, _SHOULDER_R = 0.13, 0.07, 0.035, 0.12
_R_EYE, _L_EYE, _R_EAR, _L_EAR = 14, 15, 16, 17


def _body_scale(p: dict[int, np.ndarray], face: np.ndarray) -> float | None:
    """Body size in pixels, about the shoulder width of an upright person facing the
    camera; from the torso when the shoulders are foreshortened, else from the head."""
    sizes = []
    if R_SHOULDER in p and L_SHOULDER in p:
        sizes.append(np.linalg.norm(p[L_SHOULDER] - p[R_SHOULDER]))
    hips = [p[j] for j in (R_HIP, L_HIP) if j in p]
    if NECK in p and hips:
        sizes.append(0.8 * np.linalg.norm(np.mean(hips, axis=0) - p[NECK]))
    if sizes:
        return float(max(sizes))
    if _R_EAR in p and _L_EAR in p:
        return float(np.linalg.norm(p[_L_EAR] - p[_R_EAR]) / 0.4)
    if len(face) >= 2:
        return float(np.ptp(face, axis=0).max() / 0.4)
    if _R_EYE in p and _L_EYE in p:
        return float(np.linalg.norm(p[_L_EYE] - p[_R_EYE]) / 0.16)
    return None


def _torso(p: dict[int, np.ndarray], up: np.ndarray | None) -> np.ndarray | None:
    """Torso quad (right shoulder, left shoulder, left hip, right hip); hips that are
    missing (upper-body shots) are placed from the shoulders."""
    rs, ls, rh, lh = (p.get(j) for j in (R_SHOULDER, L_SHOULDER, R_HIP, L_HIP))
    if rs is None or ls is None:
        corners = [c for c in (rs, ls, lh, rh) if c is not None]
        return np.array(corners) if len(corners) >= 3 else None
    across = ls - rs
    width = np.linalg.norm(across)
    down = np.array([-across[1], across[0]]) / max(width, 1e-6)
    if up is not None and np.dot(down, up) > 0:
        down = -down
    elif up is None and (rh is None and lh is None) and down[1] < 0:
        down = -down  # no head, no hips: assume an upright person
    if rh is None and lh is None:
        mid = (rs + ls) / 2 + 1.3 * width * down
        rh, lh = mid - 0.35 * across, mid + 0.35 * across
    elif rh is None:
        rh = lh - 0.7 * across
    elif lh is None:
        lh = rh + 0.7 * across
    # Hip joints sit inside the pelvis: widen the bottom edge to the body's outline.
    hips_across = lh - rh
    return np.array([rs, ls, lh + 0.25 * hips_across, rh - 0.25 * hips_across])


def _head(p: dict[int, np.ndarray], face: np.ndarray, scale: float):
    """Head ellipse as a cv2 RotatedRect from the eyes, ears, nose and face points."""
    pool = [p[j] for j in (NOSE, _R_EYE, _L_EYE, _R_EAR, _L_EAR) if j in p] + list(face)
    if not pool:
        return None
    if _R_EYE in p and _L_EYE in p:
        center, across = (p[_R_EYE] + p[_L_EYE]) / 2, p[_L_EYE] - p[_R_EYE]
        head_w = 2.6 * np.linalg.norm(across)
    else:
        center, across, head_w = np.mean(pool, axis=0), np.array([1.0, 0.0]), 0.42 * scale
    if _R_EAR in p and _L_EAR in p:
        across = p[_L_EAR] - p[_R_EAR]
        head_w = 1.15 * np.linalg.norm(across)
    elif len(face) >= 17:
        head_w = max(head_w, 1.05 * np.ptp(face, axis=0).max())
    angle = math.degrees(math.atan2(across[1], across[0]))
    return (tuple(center.tolist()), (head_w, 1.3 * head_w), angle)


def draw_dense(pose: np.ndarray, width: int, height: int, *, threshold: float = 0.3) -> np.ndarray:
    """A dense body-part map of one pose for the pose encoder's dense branch.

    Each part (see PART_COLORS) is a filled shape in its fixed colour, drawn back to front
    in DENSE_ORDER: limb capsules whose radii follow the body scale (shoulder width or
    torso length), a torso quad from shoulders and hips (hips estimated for upper-body
    shots), a head ellipse, hands (palm hull plus finger capsules, or an ellipse past the
    wrist when the hand was not detected) and feet. Returns uint8 (H, W, 3) RGB on black.
    """
    pose = _check_pose(pose)
    width, height = _check_size(width, height)
    canvas = np.zeros((height, width, 3), np.uint8)
    xy, _, valid = _points(pose, width, height, threshold)
    p = {j: xy[j] for j in range(24) if valid[j]}
    face = xy[FACE][valid[FACE]]
    scale = _body_scale(p, face)
    if scale is None:
        return canvas

    def capsule(a, b, radius, color):
        cv2.line(canvas, _fixed(*a), _fixed(*b), color, max(round(2 * radius), 1), cv2.LINE_8,
                 _SHIFT)

    def polygon(points, color):
        hull = cv2.convexHull(np.round(np.asarray(points) * _ONE).astype(np.int32))
        cv2.fillConvexPoly(canvas, hull, color, cv2.LINE_8, _SHIFT)

    head = _head(p, face, scale)
    up = None if head is None or NECK not in p else np.array(head[0]) - p[NECK]
    for part in DENSE_ORDER:
        color = PART_COLORS[part]
        if part in _CAPSULES:
            a, b, radius = _CAPSULES[part]
            if a in p and b in p:
                capsule(p[a], p[b], radius * scale, color)
        elif part in _FEET:
            ankle, points = _FEET[part]
            if ankle in p:
                for j in points:
                    if j in p:
                        capsule(p[ankle], p[j], _FOOT_R * scale, color)
        elif part == "torso":
            quad = _torso(p, up)
            if quad is not None:
                polygon(quad, color)
            if R_SHOULDER in p and L_SHOULDER in p:
                capsule(p[R_SHOULDER], p[L_SHOULDER], _SHOULDER_R * scale, color)
        elif part == "head":
            if head is not None:
                if NECK in p:
                    capsule(p[NECK], head[0], _NECK_R * scale, PART_COLORS["torso"])
                cv2.ellipse(canvas, head, color, -1, cv2.LINE_8)
        else:
            block, elbow, wrist = _HANDS[part]
            hand_xy, hand_ok = xy[block], valid[block]
            palm = hand_xy[_PALM][hand_ok[_PALM]]
            if hand_ok.sum() >= 3:
                if len(palm) >= 3:
                    polygon(palm, color)
                for a, b in HAND_EDGES:
                    if hand_ok[a] and hand_ok[b]:
                        capsule(hand_xy[a], hand_xy[b], _FINGER_R * scale, color)
            elif elbow in p and wrist in p:
                direction = p[wrist] - p[elbow]
                length = 0.5 * scale
                center = p[wrist] + direction / max(np.linalg.norm(direction), 1e-6) * length / 2
                angle = math.degrees(math.atan2(direction[1], direction[0]))
                cv2.ellipse(canvas, (tuple(center.tolist()), (length, 0.4 * length), angle),
                            color, -1, cv2.LINE_8)
    return canvas
