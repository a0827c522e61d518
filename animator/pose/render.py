"""Pose maps: DWPose-style skeleton images, dense body-part maps, and preview overlays.

Public pose encoders were trained on skeletons drawn one particular way (see
shared/reference/pose.md), so `draw_pose` reproduces that drawing: its colours, widths,
draw order and the 0.6 dimming of the limb layer. Two styles:

- "dwpose": the plain DWPose/ControlNet drawing, whose reference widths belong to a canvas
  with a 512 px short side.
- "confidence": MimicMotion's variant: colours scaled by keypoint confidence, limbs whose
  endpoints score under `threshold` dropped. MimicMotion draws with the same pixel widths
  on a canvas with a 2160 px short side and resizes down, which gives thin lines. Instead
  we draw once at the output size with widths scaled by short_side / 2160 (at least 1 px)
  and anti-aliased edges, which gives the same thin, soft look without the 2160 px canvas.

Speed: in DWPose the limb layer is drawn on a black canvas and then multiplied by 0.6
as a whole. Limbs overwrite each other (no blending between limbs), so drawing each limb
directly in colour * 0.6 gives the same pixels with no full-image pass at all.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from animator.errors import InputError
from animator.pose.skeleton import (
    DRAW_COLORS,
    DRAW_LIMBS,
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
    NUM_KEYPOINTS,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
    PoseSequence,
)

STYLES = ("dwpose", "confidence")
# Short side of the canvas that each style's reference widths were drawn on.
_REFERENCE_SHORT_SIDE = {"dwpose": 512, "confidence": 2160}
# Reference sizes in pixels: limb half-width, joint radius, hand line width, hand joint
# radius, face dot radius.
_STICK, _JOINT_R, _HAND_W, _HAND_R, _FACE_R = 4.0, 4.0, 2.0, 4.0, 3.0
_LIMB_ALPHA = 0.6
_HAND_COLORS = tuple(
    tuple(round(c * 255) for c in colorsys.hsv_to_rgb(i / len(HAND_EDGES), 1.0, 1.0))
    for i in range(len(HAND_EDGES))
)
_HAND_JOINT_COLOR = (0, 0, 255)
_FACE_COLOR = (255, 255, 255)
_SHIFT = 4  # sub-pixel bits for cv2 coordinates
_ONE = 1 << _SHIFT
_OVERLAY_DIM = 0.75  # image brightness under an overlay, so the skeleton reads clearly


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


def draw_pose(
    pose: np.ndarray,
    width: int,
    height: int,
    *,
    style: str = "dwpose",
    swap_rb: bool = False,
    hands: bool = True,
    face: bool = False,
    threshold: float = 0.3,
    hand_threshold: float = 0.35,
    line_scale: float | None = None,
) -> np.ndarray:
    """Draw one (134, 3) pose, in pixels of a width x height canvas, as a skeleton map.

    Returns uint8 (height, width, 3) RGB on black. Points that are NaN or score under the
    threshold (`hand_threshold` for hands) are not drawn, nor any limb that touches them.
    `line_scale` multiplies the reference widths; by default it follows the canvas's
    short side (see the module docstring). `swap_rb` returns the red and blue channels
    swapped, as in StableAnimator's training skeletons.
    """
    if style == WAN_STYLE:  # Wan-Animate's own drawing: its widths, threshold and toes
        return draw_pose_wan(pose, width, height, hands=hands, swap_rb=swap_rb)
    pose = _check_pose(pose)
    width, height = _check_size(width, height)
    if style not in STYLES:
        raise InputError(f"unknown skeleton style {style!r}; use one of {', '.join(STYLES)}.")
    if line_scale is None:
        line_scale = min(width, height) / _REFERENCE_SHORT_SIDE[style]
    confidence = style == "confidence"
    line_type = cv2.LINE_AA if confidence else cv2.LINE_8
    # Drawn widths: the thin confidence style keeps at least one pixel.
    floor = 1.0 if confidence else 0.5
    stick, joint_r = max(_STICK * line_scale, floor), max(_JOINT_R * line_scale, floor)
    hand_w = max(round(_HAND_W * line_scale), 1)
    hand_r, face_r = max(_HAND_R * line_scale, floor), max(_FACE_R * line_scale, floor)

    def rgb(color, gain=1.0):
        color = tuple(math.floor(c * gain) for c in color)
        return color[::-1] if swap_rb else color

    canvas = np.zeros((height, width, 3), np.uint8)
    xy, score, valid = _points(pose, width, height, threshold)
    pts, sc, ok = xy.tolist(), score.tolist(), valid.tolist()

    def dot(i, radius, color):
        gain = sc[i] if confidence else 1.0
        cv2.circle(canvas, _fixed(*pts[i]), round(radius * _ONE), rgb(color, gain), -1,
                   line_type, _SHIFT)

    for (a, b), color in zip(DRAW_LIMBS, DRAW_COLORS, strict=False):
        if not (ok[a] and ok[b]):
            continue
        (xa, ya), (xb, yb) = pts[a], pts[b]
        box = (
            ((xa + xb) / 2, (ya + yb) / 2),
            (math.hypot(xb - xa, yb - ya), 2 * stick),
            math.degrees(math.atan2(yb - ya, xb - xa)),
        )
        if confidence:  # floored twice, as the reference does: colour * conf, then * 0.6
            color = [math.floor(c * sc[a] * sc[b]) for c in color]
        cv2.ellipse(canvas, box, rgb(color, _LIMB_ALPHA), -1, line_type)
    for i, color in enumerate(DRAW_COLORS):
        if ok[i]:
            dot(i, joint_r, color)

    if hands:
        hand_ok = _points(pose, width, height, hand_threshold)[2].tolist()
        for block in (LEFT_HAND, RIGHT_HAND):
            for (a, b), color in zip(HAND_EDGES, _HAND_COLORS, strict=True):
                a, b = block.start + a, block.start + b
                if hand_ok[a] and hand_ok[b]:
                    gain = math.floor(sc[a] * sc[b] * 255) / 255 if confidence else 1.0
                    cv2.line(canvas, _fixed(*pts[a]), _fixed(*pts[b]), rgb(color, gain),
                             hand_w, line_type, _SHIFT)
            for i in range(block.start, block.stop):
                if hand_ok[i]:
                    dot(i, hand_r, _HAND_JOINT_COLOR)
    if face:
        for i in range(FACE.start, FACE.stop):
            if ok[i]:
                dot(i, face_r, _FACE_COLOR)
    return canvas


def render_sequence(
    poses: PoseSequence, width: int | None = None, height: int | None = None, **draw_kw
) -> Iterator[np.ndarray]:
    """Yield one skeleton map per frame at width x height (default: the sequence's own
    size), scaling coordinates from the sequence's canvas; empty frames come out black."""
    width = poses.width if width is None else width
    height = poses.height if height is None else height
    width, height = _check_size(width, height)
    scale = np.array([width / poses.width, height / poses.height, 1.0])
    for kp in poses.keypoints:
        yield draw_pose(kp * scale, width, height, **draw_kw)


class RenderedPoses(Sequence):
    """Pose maps of a sequence drawn on demand: `maps[i]` draws frame i.

    The generator reads its pose maps window by window; a lazy sequence keeps a long clip's
    maps (1.7 MB each at 576x1024) from all sitting in memory at once. `dense=True` draws
    dense part maps instead of skeletons. Coordinates must already be in canvas pixels.
    """

    def __init__(self, poses: PoseSequence, *, dense: bool = False, **draw_kw):
        self.poses, self.dense, self.draw_kw = poses, dense, draw_kw

    def __len__(self) -> int:
        return len(self.poses)

    def __getitem__(self, index: int) -> np.ndarray:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        pose, size = self.poses.keypoints[index], (self.poses.width, self.poses.height)
        if self.dense:
            return draw_dense(pose, *size, threshold=self.draw_kw.get("threshold", 0.3))
        return draw_pose(pose, *size, **self.draw_kw)


def overlay_pose(
    image: np.ndarray, pose: np.ndarray, *, alpha: float = 0.7, **draw_kw
) -> np.ndarray:
    """The skeleton of `pose` (pixels of `image`) over an RGB uint8 image, for previews.

    The image is dimmed a little and skeleton pixels are blended over it with `alpha`,
    so the skeleton reads clearly on bright and busy images alike.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InputError(
            f"overlay needs an RGB uint8 image of shape (H, W, 3), got {image.dtype} "
            f"{image.shape}; convert the image to 8-bit RGB first."
        )
    height, width = image.shape[:2]
    skeleton = draw_pose(pose, width, height, **draw_kw)
    out = cv2.convertScaleAbs(image, alpha=_OVERLAY_DIM)
    drawn = skeleton.any(axis=2)
    blended = alpha * skeleton[drawn].astype(np.float32) + (1 - alpha) * out[drawn]
    out[drawn] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


# --- dense part maps ---------------------------------------------------------------------

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


# --- Wan-Animate's drawing ----------------------------------------------------------------
# Facts of Wan2.2's preprocessing (wan/modules/animate/preprocess/human_visualization.py,
# `draw_aapose_new` with stick width "v2", and pose2d_utils.split_kp2ds_for_aa), which drew
# the skeletons Wan-Animate was trained on: 20 body points, OpenPose-18 plus one toe per foot
# (the mean of the big and the small toe, scores averaged too); 19 limbs as filled ellipses
# in colour * 0.6 (truncated), then a dot per point in full colour, radius = the limb's
# half-width; hands as 1-3 px lines in the HSV wheel with blue dots; no face points; one
# score threshold (0.5) for body and hands; coordinates truncated to integers. Drawn on
# black in RGB.

WAN_STYLE = "wan"
_WAN_THRESHOLD = 0.5
_L_TOE, _R_TOE = 18, 19  # the two extra points of Wan's 20-point body
# 0-based limbs, in the order that fixes their colours (shoulders, arms, legs, head, feet).
WAN_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
    (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (13, 18), (10, 19),
)  # fmt: skip
WAN_COLORS = DRAW_COLORS + ((200, 200, 0), (100, 100, 0))  # the two toes' own colours


def wan_line_widths(width: int, height: int) -> tuple[int, int]:
    """(body half-width = dot radius, hand line width = hand dot radius) in pixels for a
    canvas, as Wan's "v2" stick width sets them from the short side."""
    body = max(int(min(width, height) / 200) - 1, 1)
    return body, max(body // 2, 1)


def wan_body(pose: np.ndarray) -> np.ndarray:
    """The (20, 3) body Wan draws from one (134, 3) pose: OpenPose-18 plus the left and the
    right toe (mean of big and small toe). Missing points get score 0."""
    pose = _check_pose(pose)
    toes = [(pose[a] + pose[b]) / 2 for a, b in ((18, 19), (21, 22))]
    body = np.concatenate([pose[:18], np.stack(toes)])
    missing = ~np.isfinite(body).all(axis=1)
    body[missing] = (0.0, 0.0, 0.0)
    return body


def draw_pose_wan(pose: np.ndarray, width: int, height: int, *, hands: bool = True,
                  head: bool = True, swap_rb: bool = False,
                  threshold: float = _WAN_THRESHOLD) -> np.ndarray:
    """One (134, 3) pose, in pixels of a width x height canvas, drawn as Wan-Animate's
    training skeletons were (see above). Returns uint8 (height, width, 3) RGB on black."""
    width, height = _check_size(width, height)
    body = wan_body(pose)
    if not head:
        body[[0, 14, 15, 16, 17], 2] = 0.0
    stick, hand_w = wan_line_widths(width, height)
    limit = 4.0 * max(width, height)  # keeps far-off points inside cv2's integer range
    xy = np.clip(body[:, :2], -limit, limit)
    ok = (body[:, 2] >= threshold).tolist()

    def rgb(color):
        return tuple(color[::-1]) if swap_rb else tuple(color)

    canvas = np.zeros((height, width, 3), np.uint8)
    for (a, b), color in zip(WAN_LIMBS, WAN_COLORS, strict=False):
        if not (ok[a] and ok[b]):
            continue
        (xa, ya), (xb, yb) = xy[a], xy[b]
        length = math.hypot(xb - xa, yb - ya)
        angle = math.degrees(math.atan2(ya - yb, xa - xb))
        polygon = cv2.ellipse2Poly((int((xa + xb) / 2), int((ya + yb) / 2)),
                                   (int(length / 2), stick), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, rgb([int(c * 0.6) for c in color]))
    for i, color in enumerate(WAN_COLORS):
        if ok[i]:
            cv2.circle(canvas, (int(xy[i, 0]), int(xy[i, 1])), stick, rgb(color), -1)
    if hands:
        pose = np.asarray(pose, dtype=np.float64)
        for block in (LEFT_HAND, RIGHT_HAND):
            hand = np.nan_to_num(np.clip(pose[block], -limit, limit))
            shown = (hand[:, 2] >= threshold) & (hand[:, 0] > 0.01) & (hand[:, 1] > 0.01)
            pts = [(int(x), int(y)) for x, y in hand[:, :2]]
            for (a, b), color in zip(HAND_EDGES, _HAND_COLORS, strict=True):
                if shown[a] and shown[b]:
                    cv2.line(canvas, pts[a], pts[b], rgb(color), hand_w)
            for i in np.flatnonzero(shown):
                cv2.circle(canvas, pts[i], hand_w, rgb(_HAND_JOINT_COLOR), -1)
    return canvas
