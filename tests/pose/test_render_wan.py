"""Wan-Animate's skeleton drawing, checked on fixed keypoints against the facts of Wan2.2's
preprocessing code (human_visualization.draw_aapose_new, stick width "v2")."""

from __future__ import annotations

import numpy as np
import pytest

from animator.pose.render import (
    RenderedPoses,
    draw_pose,
    draw_pose_wan,
    wan_body,
    wan_line_widths,
)
from animator.pose.skeleton import (
    FACE,
    L_ANKLE,
    L_SHOULDER,
    LEFT_HAND,
    NECK,
    R_ANKLE,
    R_SHOULDER,
    PoseSequence,
    missing_pose,
)

W, H = 1000, 800  # short side 800: body half-width int(800 / 200) - 1 = 3, hands 1


def pose_with(points: dict[int, tuple[float, float, float]]) -> np.ndarray:
    pose = missing_pose(1)[0].astype(np.float64)
    for i, p in points.items():
        pose[i] = p
    return pose


def test_line_widths_follow_the_short_side():
    assert wan_line_widths(1280, 720) == (2, 1)
    assert wan_line_widths(832, 480) == (1, 1)
    assert wan_line_widths(W, H) == (3, 1)
    assert wan_line_widths(1080, 1920) == (4, 2)
    assert wan_line_widths(64, 64) == (1, 1)  # never under one pixel


def test_limb_colour_is_dimmed_and_joint_colour_is_full():
    pose = pose_with({NECK: (500, 300, 0.9), R_SHOULDER: (400, 300, 0.9)})
    img = draw_pose_wan(pose, W, H)
    # limb 0 (neck - right shoulder), colour (255, 0, 0) * 0.6 truncated
    assert tuple(img[300, 450]) == (153, 0, 0)
    # its half-width is the stick width: 3 px off the axis drawn, 4 px black
    assert tuple(img[303, 450]) == (153, 0, 0)
    assert tuple(img[304, 450]) == (0, 0, 0)
    # joint dots in each point's full colour, drawn after the limbs, radius 3
    assert tuple(img[300, 500]) == (255, 85, 0)  # neck = point 1
    assert tuple(img[300, 400]) == (255, 170, 0)  # right shoulder = point 2
    assert tuple(img[300, 503]) == (255, 85, 0) and not img[300, 504].any()
    assert not img[296, 450].any()


def test_toes_are_the_mean_of_big_and_small_toe_with_their_own_colours():
    pose = pose_with({L_ANKLE: (300, 600, 0.9), 18: (290, 700, 0.8), 19: (330, 700, 0.6),
                      R_ANKLE: (700, 600, 0.9), 21: (700, 700, 0.9), 22: (720, 700, 0.9)})
    body = wan_body(pose)
    np.testing.assert_allclose(body[18], (310, 700, 0.7))
    np.testing.assert_allclose(body[19], (710, 700, 0.9))
    img = draw_pose_wan(pose, W, H)
    # dots take colours by point: the toes' own (200, 200, 0) and (100, 100, 0) ...
    assert tuple(img[700, 310]) == (200, 200, 0)
    assert tuple(img[700, 710]) == (100, 100, 0)
    # ... limbs by limb order: left ankle - toe is limb 17, (255, 0, 85) * 0.6; right ankle
    # - toe is limb 18, (200, 200, 0) * 0.6
    assert tuple(img[650, 305]) == (153, 0, 51)
    assert tuple(img[650, 705]) == (120, 120, 0)
    without = pose.copy()
    without[22] = np.nan
    assert wan_body(without)[19, 2] == 0  # a toe pair with a missing point is not drawn


def test_one_threshold_of_half_and_no_face_points():
    pose = pose_with({NECK: (500, 300, 0.5), L_SHOULDER: (600, 300, 0.49)})
    for i in range(FACE.start, FACE.stop):
        pose[i] = (100 + i, 100, 1.0)
    img = draw_pose_wan(pose, W, H)
    assert tuple(img[300, 500]) == (255, 85, 0)  # score 0.5 is drawn
    assert img[295:306, 594:607].max() == 0  # 0.49 is not, nor its limb
    assert img[90:111, 110:200].max() == 0  # face points are never drawn
    # our other styles would draw that shoulder (threshold 0.3)
    assert draw_pose(pose, W, H)[300, 600].any()


def test_hands_are_thin_wheel_coloured_lines_with_blue_dots():
    pose = pose_with({LEFT_HAND.start: (200, 200, 0.9), LEFT_HAND.start + 1: (260, 200, 0.9),
                      LEFT_HAND.start + 5: (200, 400, 0.3)})
    img = draw_pose_wan(pose, W, H)
    assert tuple(img[200, 230]) == (255, 0, 0)  # edge 0: hue 0, full colour, width 1
    assert tuple(img[202, 230]) == (0, 0, 0)
    assert tuple(img[200, 200]) == (0, 0, 255)  # hand dots are blue
    assert img[395:406, 195:206].max() == 0  # under the threshold: no dot
    assert not draw_pose_wan(pose, W, H, hands=False).any()


def test_style_name_dispatch_and_lazy_sequence():
    pose = pose_with({NECK: (50, 30, 0.9), R_SHOULDER: (40, 30, 0.9)})
    np.testing.assert_array_equal(draw_pose(pose, 100, 80, style="wan"),
                                  draw_pose_wan(pose, 100, 80))
    maps = RenderedPoses(PoseSequence(pose[None], 100, 80), style="wan")
    np.testing.assert_array_equal(maps[0], draw_pose_wan(pose, 100, 80))
    swapped = draw_pose(pose, 100, 80, style="wan", swap_rb=True)
    np.testing.assert_array_equal(swapped, draw_pose_wan(pose, 100, 80)[..., ::-1])


def test_far_off_and_missing_points_do_not_crash():
    pose = pose_with({NECK: (1e9, -1e9, 0.9), R_SHOULDER: (40, 30, 0.9)})
    assert draw_pose_wan(pose, 100, 80).shape == (80, 100, 3)
    assert not draw_pose_wan(missing_pose(1)[0], 100, 80).any()
    with pytest.raises(Exception, match="134, 3"):
        draw_pose_wan(np.zeros((18, 3)), 100, 80)


def test_neck_drawn_when_the_shoulders_mean_passes():
    """Wan2.2's split_kp2ds_for_aa makes the neck the mean of the shoulders, score too, and
    draws by that score: shoulders 0.9 and 0.3 give a neck of 0.6, drawn (neck-nose limb)
    although one shoulder is under Wan's 0.5."""
    from animator.pose.detect import coco_wholebody_to_dwpose

    coco = np.zeros((1, 133, 2), np.float32)
    coco[0, :, :] = (500, 300)
    coco[0, 0] = (500, 200)  # nose
    coco[0, 5], coco[0, 6] = (560, 400), (440, 400)  # left, right shoulder
    scores = np.zeros((1, 133), np.float32)
    scores[0, 0], scores[0, 5], scores[0, 6] = 0.9, 0.9, 0.3
    pose = coco_wholebody_to_dwpose(coco, scores, W, H)[0]
    assert pose[NECK, 2] == pytest.approx(0.6)
    image = draw_pose_wan(pose, W, H)
    assert image[300, 500].any()  # on the neck-nose limb, between (500, 400) and (500, 200)
