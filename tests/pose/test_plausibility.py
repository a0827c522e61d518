"""Plausibility checks on synthetic skeletons: each failure a detector makes on real footage
is built into a good skeleton and must be caught; good skeletons must never be touched."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from animator.config import RetargetConfig
from animator.pose import skeleton as sk
from animator.pose.plausibility import check_frames, check_poses, head_size, jump_outliers
from animator.pose.render import PART_COLORS, draw_dense, draw_pose
from animator.pose.retarget import retarget
from animator.pose.skeleton import PoseSequence, missing_pose

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from pose_bench import synthetic_pose_sequence  # noqa: E402

HEAD = 40.0  # head width in pixels


def standing(x: float = 300.0, y: float = 100.0) -> np.ndarray:
    """A person facing the camera, head width HEAD, nose at (x, y), adult proportions."""
    h = HEAD
    kp = missing_pose(1)[0]
    pts = {
        sk.NOSE: (0, 0), sk.R_EYE: (-0.2, -0.15), sk.L_EYE: (0.2, -0.15),
        sk.R_EAR: (-0.5, -0.05), sk.L_EAR: (0.5, -0.05),
        sk.R_SHOULDER: (-1.25, 1.4), sk.L_SHOULDER: (1.25, 1.4),
        sk.R_ELBOW: (-1.5, 3.4), sk.L_ELBOW: (1.5, 3.4),
        sk.R_WRIST: (-1.6, 5.2), sk.L_WRIST: (1.6, 5.2),
        sk.R_HIP: (-0.7, 4.8), sk.L_HIP: (0.7, 4.8),
        sk.R_KNEE: (-0.75, 7.8), sk.L_KNEE: (0.75, 7.8),
        sk.R_ANKLE: (-0.8, 10.7), sk.L_ANKLE: (0.8, 10.7),
        sk.L_BIG_TOE: (1.2, 11.2), sk.L_SMALL_TOE: (1.4, 11.1), sk.L_HEEL: (0.8, 10.9),
        sk.R_BIG_TOE: (-1.2, 11.2), sk.R_SMALL_TOE: (-1.4, 11.1), sk.R_HEEL: (-0.8, 10.9),
    }  # fmt: skip
    for j, (dx, dy) in pts.items():
        kp[j] = (x + dx * h, y + dy * h, 0.9)
    kp[sk.NECK] = (x, y + 1.4 * h, 0.9)
    for part, wrist in ((sk.LEFT_HAND, sk.L_WRIST), (sk.RIGHT_HAND, sk.R_WRIST)):
        kp[part] = (kp[wrist, 0], kp[wrist, 1] + 0.3 * h, 0.9)
    return kp


def walking(frames: int = 40) -> PoseSequence:
    """The standing person walking right at 0.3 heads per frame, arms swinging."""
    kp = np.stack([standing(200 + 0.3 * HEAD * t) for t in range(frames)])
    swing = 0.4 * HEAD * np.sin(np.arange(frames) / 4)
    kp[:, [sk.R_WRIST, *range(sk.RIGHT_HAND.start, sk.RIGHT_HAND.stop)], 0] += swing[:, None]
    return PoseSequence(kp, 1000, 700, 25.0)


def lost(before: np.ndarray, after: np.ndarray) -> set[int]:
    return set(np.flatnonzero(~np.isnan(before[:, 0]) & np.isnan(after[:, 0])).tolist())


def test_head_size_from_the_head_then_the_shoulders():
    kp = standing()[None]
    head, unit = head_size(kp)
    assert head[0] == pytest.approx(HEAD, rel=0.05)
    no_head = kp.copy()
    no_head[0, [sk.NOSE, sk.R_EYE, sk.L_EYE, sk.R_EAR, sk.L_EAR]] = (np.nan, np.nan, 0)
    head, unit = head_size(no_head)
    assert np.isnan(head[0]) and unit[0] == pytest.approx(2.5 * HEAD / 2.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_good_skeletons_are_never_touched(seed):
    for poses in (walking(), synthetic_pose_sequence(250, seed=seed)):
        checked, report = check_poses(poses)
        np.testing.assert_array_equal(checked.keypoints, poses.keypoints)
        assert report.touched == 0 and report.notice() is None
        assert report.passed == report.with_person == int(poses.present().sum())


def test_hips_moved_onto_the_face_are_caught():
    kp = standing()
    kp[sk.R_HIP, :2] = kp[sk.NOSE, :2] + (-0.3 * HEAD, 0.6 * HEAD)
    kp[sk.L_HIP, :2] = kp[sk.NOSE, :2] + (0.3 * HEAD, 0.6 * HEAD)
    out = check_frames(kp[None])[0]
    gone = lost(kp, out)
    assert {sk.R_HIP, sk.L_HIP} <= gone
    assert {sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE, sk.L_HEEL} <= gone  # hung from them
    assert not gone & {sk.NOSE, sk.R_SHOULDER, sk.L_SHOULDER, sk.R_WRIST, sk.L_WRIST}


def test_legs_drawn_up_over_the_head_are_caught():
    kp = standing()
    kp[sk.R_KNEE, 1] = kp[sk.R_ANKLE, 1] = kp[sk.NOSE, 1] - HEAD  # above the shoulders
    out = check_frames(kp[None])[0]
    assert {sk.R_KNEE, sk.R_ANKLE, sk.R_BIG_TOE} <= lost(kp, out)
    assert not lost(kp, out) & {sk.L_KNEE, sk.L_ANKLE, sk.R_HIP}


def test_a_knee_over_the_head_is_allowed_when_the_body_is_not_upright():
    kp = standing()
    kp[:, 1] = 700 - kp[:, 1]  # upside down (a handstand): feet above, head below
    assert not lost(kp, check_frames(kp[None])[0])


def test_impossible_shoulder_span_for_the_head():
    kp = standing()
    kp[sk.R_SHOULDER, 0] -= 3 * HEAD
    kp[sk.L_SHOULDER, 0] += 3 * HEAD  # 8.5 heads wide
    out = check_frames(kp[None])[0]
    assert {sk.R_SHOULDER, sk.L_SHOULDER, sk.NECK, sk.R_WRIST} <= lost(kp, out)
    assert not lost(kp, out) & {sk.NOSE, sk.R_EAR}


def test_limb_far_longer_than_a_body_allows():
    kp = standing()
    kp[sk.L_WRIST, :2] = kp[sk.L_ELBOW, :2] + (0, 6 * HEAD)  # a 6-head forearm
    out = check_frames(kp[None])[0]
    gone = lost(kp, out)
    assert sk.L_WRIST in gone and sk.LEFT_HAND.start in gone and sk.L_ELBOW not in gone


def test_limb_far_longer_than_its_own_length_in_the_sequence():
    kp = walking().keypoints.copy()
    kp[:, sk.L_WRIST, :2] = kp[:, sk.L_ELBOW, :2] + (0, 1.2 * HEAD)  # short forearms
    t = 20
    kp[t, sk.L_WRIST, 1] = kp[t, sk.L_ELBOW, 1] + 2.6 * HEAD  # within a body's limit only
    assert sk.L_WRIST not in lost(kp[t], check_frames(kp[t:t + 1])[0])
    checked, report = check_poses(PoseSequence(kp, 1000, 700, 25.0))
    assert np.isnan(checked.keypoints[t, sk.L_WRIST, 0])
    assert report.dropped["arms"] == 1 and report.touched == 1


def test_legs_without_hips_contradict_the_visibility():
    kp = standing()
    kp[[sk.R_HIP, sk.L_HIP], 2] = 0.05  # the detector says: no hips in view
    out = check_frames(kp[None])[0]
    assert {sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE} <= lost(kp, out)
    one_hip = standing()
    one_hip[sk.R_HIP, 2] = 0.05  # one hip occluded: the other leg and this one stay
    assert not lost(one_hip, check_frames(one_hip[None])[0])


def test_whole_skeleton_jump_is_an_outlier_but_a_cut_is_not():
    poses = walking()
    kp = poses.keypoints.copy()
    kp[15, :, 0] += 8 * HEAD  # one frame somewhere else entirely
    checked, report = check_poses(PoseSequence(kp, 2000, 700, 25.0))
    assert report.jumps == 1 and not checked.present()[15]
    assert checked.present().sum() == len(poses) - 1
    np.testing.assert_array_equal(checked.keypoints[16:], kp[16:])
    cut = poses.keypoints.copy()
    cut[15:, :, 0] += 8 * HEAD  # a cut: the person stays at the new place
    assert not jump_outliers(cut).any()


def test_notice_says_which_parts_in_how_many_frames():
    poses = walking()
    kp = poses.keypoints.copy()
    for t in (3, 4, 5):
        kp[t, [sk.R_HIP, sk.L_HIP], :2] = kp[t, sk.NOSE, :2] + (0, 0.5 * HEAD)
    _, report = check_poses(PoseSequence(kp, 1000, 700, 25.0))
    assert report.dropped["hips"] == 3 and report.dropped["legs"] == 3
    text = report.notice()
    assert "3 of 40" in text and "hips in 3" in text and "legs in 3" in text


# --- upper-body drivers ---------------------------------------------------------------------


def upper_body(frames: int = 30) -> PoseSequence:
    kp = walking(frames).keypoints.copy()
    lower = [sk.R_HIP, sk.L_HIP, sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE, *range(18, 24)]
    kp[:, lower] = (np.nan, np.nan, 0.0)
    return PoseSequence(kp, 1000, 700, 25.0)


def test_upper_body_driver_gives_no_lower_body_even_in_the_lead_in():
    portrait = PoseSequence(standing(250, 80)[None], 500, 700)  # the portrait shows legs
    result = retarget(upper_body(), portrait, RetargetConfig(transition=0.5))
    assert result.lead_in > 0
    lower = [sk.R_HIP, sk.L_HIP, sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE, *range(18, 24)]
    assert np.isnan(result.poses.keypoints[:, lower, 0]).all()
    assert result.poses.valid()[:, [sk.R_WRIST, sk.L_WRIST, sk.NOSE]].all()


def test_half_bodies_render_skeleton_and_dense_maps_without_legs():
    pose = upper_body(1).keypoints[0]
    skeleton = draw_pose(pose, 1000, 700)
    assert skeleton.any()
    assert not skeleton[int(pose[sk.L_WRIST, 1]) + 40:].any()  # nothing below the hands
    dense = draw_dense(pose, 1000, 700)
    thigh = np.array(PART_COLORS["right_thigh"])
    assert dense.any() and not (dense == thigh).all(axis=-1).any()
