"""`draw_pose_wan`: Wan-Animate's skeleton drawing.

Facts of Wan2.2's preprocessing (wan/modules/animate/preprocess/human_visualization.py,
`draw_aapose_new` with stick width "v2", and pose2d_utils.split_kp2ds_for_aa), which drew
the skeletons Wan-Animate was trained on: 20 body points, OpenPose-18 plus one toe per foot
(the mean of the big and the small toe, scores averaged too); 19 limbs as filled ellipses
in colour * 0.6 (truncated), then a dot per point in full colour, radius = the limb's
half-width; hands as 1-3 px lines in the HSV wheel with blue dots; no face points; one
score threshold (0.5) for body and hands; coordinates truncated to integers. Drawn on
black in RGB.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from animator.pose.render.common import (
    _HAND_COLORS,
    _HAND_JOINT_COLOR,
    _check_pose,
    _check_size,
)
from animator.pose.skeleton import (
    DRAW_COLORS,
    HAND_EDGES,
    LEFT_HAND,
    RIGHT_HAND,
)

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
