"""Pose maps: skeleton images, dense body-part maps, and preview overlays.

- dwpose.py: `draw_pose`, the DWPose-style skeletons that public pose encoders were
  trained on ("dwpose" and MimicMotion's "confidence" style; `style="wan"` is handed on).
- wan.py: `draw_pose_wan`, Wan-Animate's own skeleton drawing (20 points, its widths).
- dense.py: `draw_dense`, dense body-part maps for the pose encoder's dense branch.
- sequence.py: `render_sequence` and `RenderedPoses`, the maps of a whole sequence.
- overlay.py: `overlay_pose`, a skeleton over its image for previews.
- common.py: pose and canvas checks and cv2 fixed-point helpers the drawings share.
"""

from animator.pose.render.common import _check_pose, _check_size, _points
from animator.pose.render.dense import DENSE_ORDER, PART_COLORS, draw_dense
from animator.pose.render.dwpose import STYLES, draw_pose
from animator.pose.render.overlay import overlay_pose
from animator.pose.render.sequence import RenderedPoses, render_sequence
from animator.pose.render.wan import (
    WAN_COLORS,
    WAN_LIMBS,
    WAN_STYLE,
    draw_pose_wan,
    wan_body,
    wan_line_widths,
)

__all__ = [
    "DENSE_ORDER", "PART_COLORS", "STYLES", "WAN_COLORS", "WAN_LIMBS", "WAN_STYLE",
    "RenderedPoses", "draw_dense", "draw_pose", "draw_pose_wan", "overlay_pose",
    "render_sequence", "wan_body", "wan_line_widths",
    # private helpers that other pose code may check against
    "_check_pose", "_check_size", "_points",
]  # fmt: skip
