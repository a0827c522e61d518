"""Proportions: a clip with the driver's build scores close to the driver, one with the
portrait's close to the portrait; on skeletons of known proportions and on real footage
(MediaPipe run again on the frames)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from animator.evaluate import EvaluateConfig, evaluate_clip, make_target
from animator.evaluate.proportion import bone_ratios, compare_proportions
from animator.pose.motions import make_motion
from animator.pose.skeleton import (
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    PoseSequence,
)
from animator.video import read_video, write_video


def with_build(poses: PoseSequence, legs: float, shoulders: float) -> PoseSequence:
    """The same motion with legs `legs` times and shoulders `shoulders` times as long."""
    out = poses.copy()
    kp = out.keypoints
    for shoulder, elbow, wrist in ((R_SHOULDER, R_ELBOW, R_WRIST), (L_SHOULDER, L_ELBOW, L_WRIST)):
        move = (kp[:, shoulder, :2] - kp[:, NECK, :2]) * (shoulders - 1)
        kp[:, [shoulder, elbow, wrist], :2] += move[:, None]
    for hip, knee, ankle in ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE)):
        thigh = kp[:, knee, :2] - kp[:, hip, :2]
        shin = kp[:, ankle, :2] - kp[:, knee, :2]
        kp[:, knee, :2] = kp[:, hip, :2] + legs * thigh
        kp[:, ankle, :2] = kp[:, knee, :2] + legs * shin
    kp[:, 18:24] = (np.nan, np.nan, 0.0)  # feet are not scored
    return out


@pytest.fixture(scope="module")
def motion():
    return make_motion("dance", seconds=2.0, fps=10, width=512, height=768)


def test_ratios_of_a_known_skeleton(motion):
    base = bone_ratios(motion[:1], "torso")
    longer = bone_ratios(with_build(motion, 1.3, 1.2)[:1], "torso")
    assert longer["thighs"] == pytest.approx(1.3 * base["thighs"], rel=1e-5)
    assert longer["shins"] == pytest.approx(1.3 * base["shins"], rel=1e-5)
    assert longer["shoulders"] == pytest.approx(1.2 * base["shoulders"], rel=1e-5)
    assert longer["head"] == pytest.approx(base["head"], rel=1e-5)


def test_driver_build_is_found_closer_to_the_driver(motion):
    portrait = with_build(motion, 1.0, 1.0)[:1]
    driver = with_build(motion, 1.3, 1.25)
    took_driver = compare_proportions(with_build(motion, 1.3, 1.25), portrait, driver)
    kept_portrait = compare_proportions(with_build(motion, 1.0, 1.0), portrait, driver)
    assert took_driver.mean_error_vs_driver == pytest.approx(0, abs=1e-6)
    assert took_driver.error_vs_portrait["thighs"] == pytest.approx(0.3, rel=1e-4)
    assert took_driver.build_shift == pytest.approx(1, abs=1e-4)
    assert "closer to the driver's" in took_driver.finding
    assert kept_portrait.mean_error_vs_portrait == pytest.approx(0, abs=1e-6)
    assert kept_portrait.build_shift == pytest.approx(0, abs=1e-4)
    assert "closer to the portrait's" in kept_portrait.finding
    halfway = compare_proportions(with_build(motion, 1.14, 1.118), portrait, driver)
    assert 0.4 < halfway.build_shift < 0.6


def test_same_build_gives_no_verdict(motion):
    result = compare_proportions(motion, motion[:1], motion)
    assert result.build_shift is None and "same build" in result.finding


def _squeezed(frame: np.ndarray, k: float = 0.75) -> np.ndarray:
    """Squashed vertically and padded back: a shorter head and arms for the same shoulders."""
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (w, round(h * k)), interpolation=cv2.INTER_AREA)
    top = (h - small.shape[0]) // 2
    return cv2.copyMakeBorder(small, top, h - small.shape[0] - top, 0, 0, cv2.BORDER_REPLICATE)


def test_real_clips_show_whose_build_they_have(tmp_path, driving_path):
    """The example video is the portrait's build; squashed, it is the driver's. A clip of
    each, measured against portrait (frame 0) and driver (the squashed video), is found
    closer to its own."""
    from PIL import Image

    from animator.animate import Animator

    animator = Animator(device="cpu", pose_backend="mediapipe")
    frames = read_video(driving_path, end=1.6).frames
    portrait = tmp_path / "portrait.png"
    Image.fromarray(frames[0]).save(portrait)
    driver = write_video([_squeezed(f) for f in frames], tmp_path / "driver.mp4", 25.0, crf=12)
    own = write_video(frames, tmp_path / "own.mp4", 25.0, crf=12)
    target = make_target(animator, portrait=portrait, driving=driver, fps=25.0)
    assert target.driver_poses is not None and target.portrait_pose is not None
    config = EvaluateConfig(identity=False)
    kept, took = (evaluate_clip(clip, target, animator=animator, config=config).proportions
                  for clip in (own, driver))
    assert kept.reference == took.reference == "shoulders"  # upper body: no hips
    assert "closer to the portrait's" in kept.finding and kept.build_shift < 0.3
    assert "closer to the driver's" in took.finding and took.build_shift > 0.7
    assert took.mean_error_vs_driver < 0.03 < took.mean_error_vs_portrait
