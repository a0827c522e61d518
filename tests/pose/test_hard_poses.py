"""Retargeting onto and from hard footage (issue 20), on crafted skeletons with known
proportions: portraits that are not standing front-on, chest-up close-ups, small people
whose sides flip, and the notes a user reads about them. Real footage is in
test_real_media.py; the figures in benchmarks/hard_poses.py.
"""

from __future__ import annotations

import numpy as np

from animator.config import RetargetConfig
from animator.pose import retarget as rt
from animator.pose.plausibility import implausible_frames
from animator.pose.skeleton import (
    L_KNEE,
    L_SHOULDER,
    NECK,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
)
from tests.pose.test_retarget import OFF, bone_lengths, driver_seq, portrait_seq


def _length(kp: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(kp[..., a, :2].astype(float) - kp[..., b, :2].astype(float), axis=-1)


def _after_lead_in(res) -> np.ndarray:
    return res.poses.keypoints[res.lead_in:]


# --- portraits that are not front-on and standing --------------------------------------------


def test_side_on_portrait_keeps_adult_shoulders_and_says_so():
    driver = driver_seq(80)
    front = rt.retarget(driver, portrait_seq(), OFF)
    # turned ~80 degrees from the camera: the shoulders (and the face) shown at 15 %
    side = portrait_seq(fore={R_SHOULDER: 0.15, L_SHOULDER: 0.15})
    res = rt.retarget(driver, side, OFF)
    out, ref = _after_lead_in(res), _after_lead_in(front)
    span = _length(out, R_SHOULDER, L_SHOULDER) / _length(out, NECK, R_HIP)
    want = _length(ref, R_SHOULDER, L_SHOULDER) / _length(ref, NECK, R_HIP)
    np.testing.assert_allclose(span, want, rtol=0.02)  # the front-on body's proportions
    assert abs(res.scale / front.scale - 1) < 0.02  # the size from the bones seen in full
    assert not implausible_frames(out).any()
    notes = [n for n in res.notices if "foreshortened" in n]
    assert len(notes) == 1 and "shoulders" in notes[0] and "front-on photo" in notes[0]
    assert not [n for n in front.notices if "foreshortened" in n]


def test_sitting_portrait_thighs_follow_the_shins_not_the_view():
    driver = driver_seq(80)
    props = {"legs": 1.1}
    standing = rt.retarget(driver, portrait_seq(props), OFF)
    sitting = portrait_seq(props, fore={R_KNEE: 0.1, L_KNEE: 0.1})  # thighs toward the camera
    res = rt.retarget(driver, sitting, OFF)
    assert abs(res.ratios["thighs"] / standing.ratios["thighs"] - 1) < 0.05
    assert abs(res.scale / standing.scale - 1) < 0.02
    thigh = bone_lengths(_after_lead_in(res)[..., :2].astype(float))
    ref = bone_lengths(_after_lead_in(standing)[..., :2].astype(float))
    np.testing.assert_allclose(thigh, ref, rtol=0.05)
    assert any("thighs foreshortened" in n for n in res.notices)


def test_front_on_portrait_with_other_proportions_is_not_called_foreshortened():
    driver = driver_seq(60)
    portrait = portrait_seq({"arms": 0.8, "legs": 1.2, "shoulders": 0.85})
    res = rt.retarget(driver, portrait, RetargetConfig())
    assert not [n for n in res.notices if "foreshortened" in n]
    assert abs(res.ratios["upper_arms"] / res.ratios["thighs"] - 0.8 / 1.2) < 0.03
