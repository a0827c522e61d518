"""Fitting portraits and their poses to the generator's canvas."""

from __future__ import annotations

import numpy as np

from animator.framing import Framing, choose_size
from animator.pose.skeleton import PoseSequence, missing_pose

SIZES = ((1024, 576), (512, 512))  # (height, width), StableAnimator's


def test_choose_size_follows_the_portrait_aspect():
    assert choose_size(600, 1000, SIZES) == (576, 1024)  # portrait
    assert choose_size(1920, 1080, SIZES) == (1024, 576)  # landscape: the size on its side
    assert choose_size(500, 520, SIZES) == (512, 512)  # square


def test_crop_keeps_the_person_and_poses_follow_the_image():
    image = np.zeros((400, 1000, 3), np.uint8)
    image[:, 700:720] = 255  # a white stripe where "the person" stands
    framing = Framing.around((1000, 400), (512, 512), center_x=710)
    out = framing.image(image)
    assert out.shape == (512, 512, 3)
    kp = missing_pose(1)
    kp[0, 1] = (710, 200, 0.9)
    moved = framing.poses(PoseSequence(kp, 1000, 400)).keypoints[0, 1]
    x, y = int(round(moved[0])), int(round(moved[1]))
    assert out[y, x].mean() > 200  # the keypoint still sits on the stripe
    assert (moved[2], framing.poses(PoseSequence(kp, 1000, 400)).width) == (np.float32(0.9), 512)


def test_crop_is_clamped_inside_the_image():
    framing = Framing.around((1000, 400), (512, 512), center_x=990)
    assert framing.x0 + framing.crop_w <= 1000 and framing.x0 >= 0
