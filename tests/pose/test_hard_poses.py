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
    L_ELBOW,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    PoseSequence,
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


# --- small people: sides and shoulders that flip, heads of a few pixels ---------------------


def _small_walker(T: int = 80, seed: int = 0):
    """A person ~60 px tall (torso 15 px) whose detector mirrors the arms in some frames,
    collapses the shoulders in others and puts the eyes and ears within a pixel of noise."""
    clean = driver_seq(T, size=0.15, start=(300.0, 200.0))
    kp = clean.keypoints.copy()
    arms = [R_SHOULDER, R_ELBOW, R_WRIST]
    mirrored = [L_SHOULDER, L_ELBOW, L_WRIST]
    flips = [10, 11, 30, 52]
    for t in flips:
        kp[t, arms + mirrored] = kp[t, mirrored + arms]
    for t in (20, 41, 65):  # shoulders onto each other, the neck between them
        neck = kp[t, NECK, :2]
        kp[t, [R_SHOULDER, L_SHOULDER], :2] = neck + 0.15 * (kp[t, [R_SHOULDER, L_SHOULDER],
                                                                 :2] - neck)
    rng = np.random.default_rng(seed)
    head = [14, 15, 16, 17]
    kp[:, head, :2] += rng.normal(0, 0.8, (T, 4, 2))
    kp[:, 24:92] = (np.nan, np.nan, 0.0)  # no face at this size
    return clean, seq_like(clean, kp), flips


def seq_like(template, kp):
    return PoseSequence(kp, template.width, template.height, template.fps)


def test_small_person_keeps_its_sides_and_shoulder_span():
    clean, noisy, flips = _small_walker()
    portrait = portrait_seq()
    res = rt.retarget(noisy, portrait, RetargetConfig())
    ref = rt.retarget(clean, portrait, RetargetConfig())
    out, want = _after_lead_in(res), _after_lead_in(ref)
    shoulders = out[:, L_SHOULDER, :2] - out[:, R_SHOULDER, :2]
    want_shoulders = want[:, L_SHOULDER, :2] - want[:, R_SHOULDER, :2]
    cos = np.sum(shoulders * want_shoulders, -1) / (
        np.linalg.norm(shoulders, axis=-1) * np.linalg.norm(want_shoulders, axis=-1))
    assert cos.min() > 0.9  # never mirrored, never turned edge-on
    span = np.linalg.norm(shoulders, axis=-1) / np.linalg.norm(want_shoulders, axis=-1)
    assert np.abs(span - 1).max() < 0.15
    wrists = np.linalg.norm(out[:, R_WRIST, :2] - want[:, R_WRIST, :2], axis=-1)
    torso = np.linalg.norm(want[:, NECK, :2] - want[:, R_HIP, :2], axis=-1)
    assert (wrists / torso).max() < 0.25  # the right wrist stays the right one
    assert not implausible_frames(res.poses.keypoints).any()


def test_ordinary_footage_has_nothing_to_steady():
    """Sides, shoulder spans and heads of a person of ordinary size pass unchanged."""
    xy, scores = rt.to_planes(driver_seq(60).keypoints)
    before = xy.copy()
    assert rt.consistent_sides(xy, scores, np.full(60, 100.0)) == 0
    assert rt.steady_shoulders(xy, scores) == 0
    assert rt.steady_head(xy) == 0
    np.testing.assert_array_equal(xy, before)


# --- notes: every assumption in one line with what to do, none contradicting another --------


def test_extreme_body_scale_is_explained_in_one_line():
    driver = driver_seq(40, size=0.1, start=(60.0, 40.0))  # a wide shot's small person
    res = rt.retarget(driver, portrait_seq(size=1.6), RetargetConfig())
    assert res.scale > 10
    notes = [n for n in res.notices if "Body scale" in n]
    assert len(notes) == 1 and "\n" not in notes[0]
    assert f"x{res.scale:.2f}" in notes[0] and "root motion" in notes[0]
    ordinary = rt.retarget(driver_seq(40), portrait_seq(size=1.6), RetargetConfig())
    assert not [n for n in ordinary.notices if "Body scale" in n]


def test_travel_out_of_the_picture_is_told_and_root_motion_zero_stays():
    driver = driver_seq(60, travel=(400.0, 0.0))  # walks 1.6 torsos a second to the right
    portrait = portrait_seq(size=1.6, neck=(700.0, 330.0))
    res = rt.retarget(driver, portrait, RetargetConfig())
    assert any("out of the portrait's picture" in n for n in res.notices)
    still = rt.retarget(driver, portrait, RetargetConfig(root_motion=0.0))
    assert not any("out of the portrait's picture" in n for n in still.notices)


def test_notes_on_one_clip_never_contradict(tmp_path):
    """Empty frames, an extreme scale, a half-body and foreshortened portrait at once: each
    topic is told once, in one line that says what to do, and the driving video's own
    notes leave the empty frames to retargeting (which knows they stay empty)."""
    import threading
    from pathlib import Path

    from animator.config import InputLimits
    from animator.driving import PoseCache, video_driving

    driver = driver_seq(50, size=0.1, start=(60.0, 40.0))
    kp = driver.keypoints.copy()
    kp[10:14] = (np.nan, np.nan, 0.0)
    driver = seq_like(driver, kp)
    portrait = portrait_seq(size=1.6, fore={R_SHOULDER: 0.2, L_SHOULDER: 0.2}, height=700)
    kp = portrait.keypoints.copy()
    kp[0, [R_HIP, R_KNEE, 10, 11, L_KNEE, 13, *range(18, 24)]] = (np.nan, np.nan, 0.0)
    portrait = seq_like(portrait, kp)
    notes = rt.retarget(driver, portrait, RetargetConfig()).notices
    topics = {"stay empty": 0, "Body scale": 0, "foreshortened": 0, "upper body": 0}
    for note in notes:
        assert "\n" not in note and note.endswith(".")
        for topic in topics:
            topics[topic] += topic in note
    assert topics == dict.fromkeys(topics, 1), notes
    assert not any("nearest pose" in n for n in notes)

    class Stub:  # the video's detector: the person missing in 4 frames
        name = "stub"

        def detect_video(self, frames, fps, width, height, progress=None, person=0):
            from animator.pose.motions import make_motion

            poses = make_motion("wave", seconds=len(frames) / fps, fps=fps, width=width,
                                height=height)
            kp = poses.keypoints.copy()
            kp[2:6] = (np.nan, np.nan, 0.0)
            return seq_like(poses, kp)

    video = Path(__file__).resolve().parents[2] / "assets/driving/astronaut_sway.mp4"
    drive = video_driving(video, fps=None, start=0.0, end=1.0, person=0,
                          limits=InputLimits(), detector=Stub, lock=threading.Lock(),
                          cache=PoseCache(1), progress=lambda *_: None)
    assert not drive.poses.present()[2:6].any()
    together = drive.notices + rt.retarget(drive.poses, portrait_seq()).notices
    assert sum("no person" in n.lower() for n in together) == 1, together


# --- chest-up close-ups ----------------------------------------------------------------------


def _without(poses, joints):
    kp = poses.keypoints.copy()
    kp[:, joints] = (np.nan, np.nan, 0.0)
    return seq_like(poses, kp)


LOWER = [R_HIP, R_KNEE, 10, 11, L_KNEE, 13, *range(18, 24)]


def test_close_up_driver_guessed_legs_are_left_out_for_a_chest_up_portrait():
    driver = _without(driver_seq(80), LOWER)  # filmed from the chest up...
    kp = driver.keypoints.copy()
    guess = driver_seq(80).keypoints
    kp[np.ix_([12, 40, 41], LOWER)] = guess[np.ix_([12, 40, 41], LOWER)]  # ...legs guessed 3x
    driver = seq_like(driver, kp)
    chest_up = _without(portrait_seq(), LOWER)
    res = rt.retarget(driver, chest_up, RetargetConfig())
    assert not res.poses.valid()[:, LOWER].any()  # no part that neither picture shows
    assert res.poses.valid()[:, [R_SHOULDER, L_SHOULDER, R_WRIST]].all()
    assert sum("left out" in n for n in res.notices) == 1
    # a portrait that shows its legs keeps the driver's (a full-length person moving)
    full = rt.retarget(driver, portrait_seq(), RetargetConfig())
    assert full.poses.valid()[:, R_KNEE].sum() >= 3
    assert not any("left out" in n for n in full.notices)


def test_chest_up_portrait_torso_from_its_shoulders():
    driver = driver_seq(60)  # full body
    broad = rt.retarget(driver, _without(portrait_seq({"shoulders": 1.25}), LOWER), OFF)
    narrow = rt.retarget(driver, _without(portrait_seq({"shoulders": 0.85}), LOWER), OFF)
    for res in (broad, narrow):
        out = res.poses.keypoints
        torso = _length(out, NECK, R_HIP) / _length(out, NECK, R_SHOULDER)
        np.testing.assert_allclose(torso, 1.0 / 0.35, rtol=0.02)  # adult proportions
        assert sum("hips are out of the picture" in n for n in res.notices) == 1
    assert broad.ratios["torso"] > narrow.ratios["torso"]
    assert not implausible_frames(broad.poses.keypoints).any()
