"""`draw_pose`: DWPose-style skeleton images (the Wan style is handed to wan.py).

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

import math
from dataclasses import dataclass

import cv2
import numpy as np

from animator.errors import InputError
from animator.pose.render.common import (
    _HAND_COLORS,
    _HAND_JOINT_COLOR,
    _ONE,
    _SHIFT,
    _check_pose,
    _check_size,
    _fixed,
    _points,
)
from animator.pose.render.wan import WAN_STYLE, draw_pose_wan
from animator.pose.skeleton import (
    DRAW_COLORS,
    DRAW_LIMBS,
    FACE,
    HAND_EDGES,
    L_SHOULDER,
    LEFT_HAND,
    NECK,
    R_SHOULDER,
    RIGHT_HAND,
)

STYLES = ("dwpose", "confidence")
# Short side of the canvas that each style's reference widths were drawn on.
_REFERENCE_SHORT_SIDE = {"dwpose": 512, "confidence": 2160}
# Reference sizes in pixels: limb half-width, joint radius, hand line width, hand joint
# radius, face dot radius.
_STICK, _JOINT_R, _HAND_W, _HAND_R, _FACE_R = 4.0, 4.0, 2.0, 4.0, 3.0
_LIMB_ALPHA = 0.6

_FACE_COLOR = (255, 255, 255)


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

    canvas = np.zeros((height, width, 3), np.uint8)
    xy, score, valid = _points(pose, width, height, threshold)
    # DWPose's drawing rule for the neck (wholebody.py): shown, at full confidence, when
    # both shoulders pass the threshold; its stored score (the shoulders' mean) is not used.
    valid[NECK] = valid[R_SHOULDER] and valid[L_SHOULDER]
    score[NECK] = 1.0
    pen = _Pen(canvas, xy.tolist(), score.tolist(), confidence, swap_rb, line_type)
    ok = valid.tolist()
    _draw_body(pen, ok, stick, joint_r)
    if hands:
        _draw_hands(pen, _points(pose, width, height, hand_threshold)[2].tolist(), hand_w, hand_r)
    if face:
        for i in range(FACE.start, FACE.stop):
            if ok[i]:
                pen.dot(i, face_r, _FACE_COLOR)
    return canvas


@dataclass
class _Pen:
    """One `draw_pose` call's canvas, points (lists: cv2 takes Python numbers fastest) and
    colour rules: red and blue swapped or not, colours scaled by confidence or not."""

    canvas: np.ndarray
    pts: list
    sc: list
    confidence: bool
    swap_rb: bool
    line_type: int

    def rgb(self, color, gain=1.0):
        color = tuple(math.floor(c * gain) for c in color)
        return color[::-1] if self.swap_rb else color

    def dot(self, i, radius, color):
        gain = self.sc[i] if self.confidence else 1.0
        cv2.circle(self.canvas, _fixed(*self.pts[i]), round(radius * _ONE), self.rgb(color, gain),
                   -1, self.line_type, _SHIFT)


def _draw_body(pen: _Pen, ok: list, stick: float, joint_r: float) -> None:
    """Limbs as filled ellipses in colour * 0.6, then a dot per body joint."""
    pts, sc = pen.pts, pen.sc
    for (a, b), color in zip(DRAW_LIMBS, DRAW_COLORS, strict=False):
        if not (ok[a] and ok[b]):
            continue
        (xa, ya), (xb, yb) = pts[a], pts[b]
        box = (
            ((xa + xb) / 2, (ya + yb) / 2),
            (math.hypot(xb - xa, yb - ya), 2 * stick),
            math.degrees(math.atan2(yb - ya, xb - xa)),
        )
        if pen.confidence:  # floored twice, as the reference does: colour * conf, then * 0.6
            color = [math.floor(c * sc[a] * sc[b]) for c in color]
        cv2.ellipse(pen.canvas, box, pen.rgb(color, _LIMB_ALPHA), -1, pen.line_type)
    for i, color in enumerate(DRAW_COLORS):
        if ok[i]:
            pen.dot(i, joint_r, color)


def _draw_hands(pen: _Pen, hand_ok: list, hand_w: int, hand_r: float) -> None:
    """Each hand's edges as lines in the HSV wheel, then a blue dot per hand point."""
    pts, sc = pen.pts, pen.sc
    for block in (LEFT_HAND, RIGHT_HAND):
        for (a, b), color in zip(HAND_EDGES, _HAND_COLORS, strict=True):
            a, b = block.start + a, block.start + b
            if hand_ok[a] and hand_ok[b]:
                gain = math.floor(sc[a] * sc[b] * 255) / 255 if pen.confidence else 1.0
                cv2.line(pen.canvas, _fixed(*pts[a]), _fixed(*pts[b]), pen.rgb(color, gain),
                         hand_w, pen.line_type, _SHIFT)
        for i in range(block.start, block.stop):
            if hand_ok[i]:
                pen.dot(i, hand_r, _HAND_JOINT_COLOR)
