"""Retargeting on synthetic skeletons: one test per criterion of retarget.md, plus edges.

The generator below builds whole-body DWPose-134 poses from bone lengths and absolute bone
angles (so the true proportions are known exactly), with hands and a face, optional
foreshortening (a factor <= 1 on a bone's 2D length) and Gaussian noise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from animator.config import RetargetConfig
from animator.errors import InputError
from animator.pose import retarget as rt
from animator.pose.skeleton import (
    BONES,
    FACE,
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_EYE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    NECK,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
    PoseSequence,
    missing_pose,
)

# --- synthetic skeletons --------------------------------------------------------------------

# Bone lengths for a torso (neck to hip) of 100 px, by child joint, and the group of each.
LENGTHS = {
    NOSE: 40, R_SHOULDER: 36, L_SHOULDER: 36, R_ELBOW: 55, L_ELBOW: 55, R_WRIST: 48,
    L_WRIST: 48, R_HIP: 100, L_HIP: 100, R_KNEE: 85, L_KNEE: 85, R_ANKLE: 85, L_ANKLE: 85,
    R_EYE: 8, L_EYE: 8, R_EAR: 14, L_EAR: 14, 18: 30, 19: 28, 20: 13, 21: 30, 22: 28, 23: 13,
}  # fmt: skip
GROUP = {
    NOSE: "head", R_EYE: "head", L_EYE: "head", R_EAR: "head", L_EAR: "head",
    R_SHOULDER: "shoulders", L_SHOULDER: "shoulders", R_HIP: "torso", L_HIP: "torso",
    R_ELBOW: "arms", L_ELBOW: "arms", R_WRIST: "arms", L_WRIST: "arms",
    R_KNEE: "legs", L_KNEE: "legs", R_ANKLE: "legs", L_ANKLE: "legs",
    18: "feet", 19: "feet", 20: "feet", 21: "feet", 22: "feet", 23: "feet",
}  # fmt: skip
# Neutral standing pose: absolute bone angles, image coordinates (0 = +x, pi/2 = down).
# The person faces the camera, so their right side is on the image's left.
NEUTRAL = {
    NOSE: -np.pi / 2, R_SHOULDER: np.pi, L_SHOULDER: 0.0, R_ELBOW: np.pi / 2 + 0.15,
    L_ELBOW: np.pi / 2 - 0.15, R_WRIST: np.pi / 2 + 0.1, L_WRIST: np.pi / 2 - 0.1,
    R_HIP: np.pi / 2 + 0.17, L_HIP: np.pi / 2 - 0.17, R_KNEE: np.pi / 2 + 0.03,
    L_KNEE: np.pi / 2 - 0.03, R_ANKLE: np.pi / 2, L_ANKLE: np.pi / 2,
    R_EYE: -np.pi / 2 - 0.9, L_EYE: -np.pi / 2 + 0.9, R_EAR: np.pi, L_EAR: 0.0,
    18: 0.94, 19: 0.54, 20: 1.94, 21: 2.2, 22: 2.6, 23: 1.2,
}  # fmt: skip
BODY_ORDER = [child for _, child in BONES]

LEAD_IN = RetargetConfig(transition=0.5)  # the lead-in is off by default (issue 18)


def _face_layout() -> np.ndarray:
    """68 iBUG-like points in face-width units, nose tip at the origin, y down."""
    t = np.linspace(0, np.pi, 17)
    jaw = np.stack([-0.45 * np.cos(t), -0.05 + 0.5 * np.sin(t)], -1)
    brows = np.stack([np.r_[np.linspace(-0.35, -0.08, 5), np.linspace(0.08, 0.35, 5)],
                      np.full(10, -0.32)], -1)  # fmt: skip
    bridge = np.stack([np.zeros(4), np.linspace(-0.25, -0.03, 4)], -1)
    nostrils = np.stack([np.linspace(-0.08, 0.08, 5), np.full(5, 0.05)], -1)
    e = np.linspace(0, 2 * np.pi, 6, endpoint=False)
    eye = np.stack([0.07 * np.cos(e), 0.03 * np.sin(e)], -1)
    eyes = np.r_[eye + (-0.18, -0.18), eye + (0.18, -0.18)]
    m = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    mouth = np.stack([0.15 * np.cos(m), 0.2 + 0.05 * np.sin(m)], -1)
    return np.r_[jaw, brows, bridge, nostrils, eyes, mouth]


FACE_LAYOUT = _face_layout()


def skeleton(
    neck, angles: dict, props: dict | None = None, size: float = 1.0, fore: dict | None = None,
    hands: bool = True, face: bool = True,
) -> np.ndarray:
    """(T, 134, 3) poses: neck (T, 2) px, angles {child: (T,) or scalar}, props {group:
    factor} on the base lengths (plus "hands"), size px per base px, fore {child: (T,)
    factor} foreshortening."""
    neck = np.atleast_2d(np.asarray(neck, float))
    T = len(neck)
    props, fore = props or {}, fore or {}
    xy = np.full((T, 134, 2), np.nan)
    xy[:, NECK] = neck
    for parent, child in BONES:
        length = size * LENGTHS[child] * props.get(GROUP[child], 1.0)
        if GROUP[child] == "feet":  # feet follow the shin, as in the retargeting model
            length = length * props.get("legs", 1.0)
        length = length * np.broadcast_to(fore.get(child, 1.0), (T,))
        a = np.broadcast_to(angles[child], (T,))
        xy[:, child] = xy[:, parent] + length[:, None] * np.stack([np.cos(a), np.sin(a)], -1)
    if face:
        tilt = np.broadcast_to(angles[NOSE], (T,)) + np.pi / 2
        c, s = np.cos(tilt), np.sin(tilt)
        rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (T, 2, 2)
        width = size * 30 * props.get("head", 1.0)
        xy[:, FACE] = xy[:, NOSE, None] + width * np.einsum("tij,kj->tki", rot, FACE_LAYOUT)
    if hands:
        hand_size = size * props.get("hands", 1.0) * props.get("arms", 1.0)
        for part, wrist, side in ((LEFT_HAND, L_WRIST, 1), (RIGHT_HAND, R_WRIST, -1)):
            forearm = np.broadcast_to(angles[wrist], (T,))
            pts = [xy[:, wrist]]
            for base_angle in (-0.9, -0.3, -0.1, 0.1, 0.3):
                a = forearm + side * base_angle
                p = xy[:, wrist] + hand_size * 19 * np.stack([np.cos(a), np.sin(a)], -1)
                pts.append(p)
                for seg in (8, 6, 5):
                    a = a + side * 0.15
                    p = p + hand_size * seg * np.stack([np.cos(a), np.sin(a)], -1)
                    pts.append(p)
            xy[:, part] = np.stack(pts, 1)
    scores = np.where(np.isnan(xy[..., 0]), 0.0, 0.9)
    return np.concatenate([xy, scores[..., None]], -1).astype(np.float32)


def motion(
    T: int, phase: float = 0.0, amp: float = 1.0, travel=(0.0, 0.0), start=(500.0, 300.0),
    still: int = 0,
) -> tuple[np.ndarray, dict]:
    """Neck track (T, 2) and angle tracks of a dance-like motion, in-plane only; the first
    `still` frames hold the neutral pose."""
    t = np.arange(T) / 25.0
    ramp = np.clip((np.arange(T) - still) / 10.0, 0, 1) if still else np.ones(T)
    envelope = ramp * ramp * (3 - 2 * ramp)  # starts from rest without a kink
    swing = {
        R_ELBOW: 0.9, L_ELBOW: 0.8, R_WRIST: 1.2, L_WRIST: 1.1, R_KNEE: 0.3, L_KNEE: 0.25,
        R_ANKLE: 0.35, L_ANKLE: 0.3, NOSE: 0.15, R_EYE: 0.15, L_EYE: 0.15, R_EAR: 0.15,
        L_EAR: 0.15, R_SHOULDER: 0.08, L_SHOULDER: 0.08, R_HIP: 0.05, L_HIP: 0.05,
    }  # fmt: skip
    angles = {}
    for j, base in NEUTRAL.items():
        a = amp * swing.get(j, 0.3 if j >= 18 else 0.0)
        angles[j] = base + a * envelope * np.sin(2 * np.pi * 0.6 * t + phase + 0.7 * j)
    for j in (R_EYE, L_EYE, R_EAR, L_EAR):  # a rigid head
        angles[j] = NEUTRAL[j] + angles[NOSE] - NEUTRAL[NOSE]
    for toes, ankle in (((18, 19, 20), L_ANKLE), ((21, 22, 23), R_ANKLE)):
        for j in toes:
            angles[j] = NEUTRAL[j] + angles[ankle] - NEUTRAL[ankle]
    neck = np.asarray(start) + np.outer(t, travel) * envelope[:, None] + np.stack(
        [np.zeros(T), 6 * envelope * np.sin(2 * np.pi * 1.2 * t)], -1)
    return neck, angles


def seq(kp, width=1000, height=1000, fps=25.0) -> PoseSequence:
    return PoseSequence(kp, width, height, fps)


def driver_seq(T=100, **kw) -> PoseSequence:
    props = kw.pop("props", None)
    size = kw.pop("size", 1.0)
    neck, angles = motion(T, **kw)
    return seq(skeleton(neck, angles, props, size))


def portrait_seq(props=None, size=1.6, neck=(400.0, 330.0), angles=None, width=800,
                 height=1400, **kw) -> PoseSequence:  # fmt: skip
    return seq(skeleton(neck, angles or NEUTRAL, props, size, **kw), width, height)


OFF = RetargetConfig(smoothing=0, transition=0.0)


def bone_lengths(xy: np.ndarray) -> np.ndarray:
    """(T, 23) body bone lengths in BONES order."""
    return np.stack([np.linalg.norm(xy[:, c] - xy[:, p], axis=-1) for p, c in BONES], -1)


def body_valid(kp: np.ndarray) -> np.ndarray:
    return ~np.isnan(kp[..., :24, 0])


# --- building blocks ------------------------------------------------------------------------


def test_median7_network_selects_the_median_of_every_binary_input():
    # 0-1 principle: a comparator network selects the median of all inputs iff it does so
    # for all 0/1 inputs.
    for bits in itertools.product([0.0, 1.0], repeat=7):
        got = rt._median7([np.array([b]) for b in bits])[0]
        assert got == sorted(bits)[3]


def test_hampel_flags_spikes_not_ramps_or_noise():
    rng = np.random.default_rng(0)
    T = 60
    ramp = np.linspace(0, 6, T)  # fast but smooth motion: 0.1 torso per frame
    noisy = 0.5 * np.sin(np.arange(T) / 8) + rng.normal(0, 0.01, T)
    spiky = noisy.copy()
    spiky[[10, 30, 31]] += 1.5  # a limb moving 0.05 torso lengths per frame
    spiky[20] = np.nan
    out = rt.hampel_outliers(np.stack([ramp, noisy, spiky]))
    assert not out[:2].any()
    assert set(np.flatnonzero(out[2])) == {10, 30, 31}


def test_fill_gaps_linear_hermite_limits_and_present_frames():
    T = 40
    t = np.arange(T, dtype=float)
    truth = 0.02 * t**2
    a = truth.copy()
    a[5:8] = np.nan  # 3 frames: linear
    a[15:25] = np.nan  # 10 frames: Hermite, should follow the parabola better than a line
    a[28:28 + 13] = np.nan  # 13 frames (to the end too): stays missing
    present = np.ones(T, bool)
    present[6] = False
    out, filled = rt.fill_gaps(a[None], present)
    out = out[0]
    assert np.isnan(out[6]) and not filled[0, 6]
    np.testing.assert_allclose(out[[5, 7]], np.interp([5, 7], [4, 8], truth[[4, 8]]))
    line = np.interp(t[15:25], [14, 25], truth[[14, 25]])
    assert np.abs(out[15:25] - truth[15:25]).max() < 0.5 * np.abs(line - truth[15:25]).max()
    assert np.isnan(out[28:]).all()
    angles = np.array([3.0, np.nan, np.nan, -3.0])  # across +-pi: the short way round
    got, _ = rt.fill_gaps(angles[None], np.ones(4, bool), angular=True)
    assert np.all(np.abs(rt._wrap(got[0, 1:3] - np.pi)) < 0.2)


def test_visible_and_assign_hands_swap_and_drop():
    neck, angles = motion(6)
    kp = skeleton(neck, angles)
    left, right = kp[:, LEFT_HAND].copy(), kp[:, RIGHT_HAND].copy()
    kp[1, LEFT_HAND], kp[1, RIGHT_HAND] = right[1], left[1]  # swapped
    kp[2, RIGHT_HAND] = missing_pose()[0, RIGHT_HAND]
    kp[2, LEFT_HAND] = right[2]  # the only hand, labelled on the wrong side
    kp[3, LEFT_HAND, :2] += 300.0  # someone else's hand
    kp[4, LEFT_HAND, 2] = 0.2  # below the hand threshold
    xy, scores, _ = rt.hygiene(kp, RetargetConfig())
    out = rt.from_planes(xy, scores)
    xy = out[..., :2]
    np.testing.assert_allclose(xy[[0, 1]][:, LEFT_HAND], left[[0, 1], :, :2], atol=1e-4)
    np.testing.assert_allclose(xy[2, RIGHT_HAND], right[2, :, :2], atol=1e-4)
    assert np.isnan(xy[2, LEFT_HAND]).all()
    assert np.isnan(xy[3, LEFT_HAND]).all() and (out[3, LEFT_HAND, 2] == 0).all()
    assert not np.isnan(xy[3, RIGHT_HAND]).any()
    assert np.isnan(xy[4, LEFT_HAND]).all()


# --- criterion 1: exact ratios and directions before smoothing -------------------------------


def test_rebuild_keeps_directions_and_scales_every_bone_by_its_ratio():
    rng = np.random.default_rng(1)
    neck, angles = motion(30, amp=1.5)
    fore = {R_ELBOW: np.linspace(0.3, 1, 30), L_KNEE: np.linspace(1, 0.5, 30)}
    xy = skeleton(neck, angles, fore=fore)[..., :2].astype(np.float64)
    xy[5, R_ELBOW] = np.nan  # a missing intermediate joint: the wrist hangs off the shoulder
    xy[7, 100:104] = np.nan
    seen = ~np.isnan(xy[..., 0])
    planes, _ = rt.to_planes(np.concatenate([xy, seen[..., None]], -1))
    root = planes[:, NECK]
    vec, direct = rt.decompose(planes, root)
    r = rng.uniform(0.6, 1.6, 134)
    w = rng.uniform(5, 50, 134)
    new_root = root * 1.3 + 50
    out = rt.compose(new_root, vec, seen.T, r, w).transpose(2, 1, 0)
    parents = rt.PARENT
    checked = 0
    for j in range(134):
        if j == NECK:
            continue
        both = seen[:, j] & seen[:, parents[j]]
        both &= np.linalg.norm(xy[:, j] - xy[:, parents[j]], axis=-1) > 1e-3  # hand 0 = wrist
        d_in = xy[both, j] - xy[both, parents[j]]
        d_out = out[both, j] - out[both, parents[j]]
        ratio = np.linalg.norm(d_out, axis=-1) / np.linalg.norm(d_in, axis=-1)
        assert np.all(np.abs(ratio / r[j] - 1) < 1e-6), j
        angle = np.arctan2(d_out[:, 1], d_out[:, 0]) - np.arctan2(d_in[:, 1], d_in[:, 0])
        assert np.all(np.abs(rt._wrap(angle)) < 1e-6), j
        checked += both.sum()
    assert checked > 30 * 120
    # across the missing elbow: shoulder -> wrist scaled by the length-weighted path ratio
    path = (r[R_ELBOW] * w[R_ELBOW] + r[R_WRIST] * w[R_WRIST]) / (w[R_ELBOW] + w[R_WRIST])
    d_in = xy[5, R_WRIST] - xy[5, R_SHOULDER]
    np.testing.assert_allclose(out[5, R_WRIST] - out[5, R_SHOULDER], path * d_in, rtol=1e-9)
    np.testing.assert_allclose(out[:, NECK], new_root.T)


def test_retarget_output_bone_ratios_are_constant_per_bone():
    driver = driver_seq(80)
    portrait = portrait_seq({"arms": 1.2, "legs": 0.9, "head": 1.1})
    res = rt.retarget(driver, portrait, OFF)
    out = res.poses.keypoints[..., :2].astype(np.float64)
    ratio = bone_lengths(out) / bone_lengths(driver.keypoints[..., :2].astype(np.float64))
    assert np.all(np.abs(ratio / ratio[:1] - 1) < 1e-4)
    elbow = [i for i, (_, c) in enumerate(BONES) if c == R_ELBOW][0]
    np.testing.assert_allclose(ratio[0, elbow], res.scale * res.ratios["upper_arms"], rtol=1e-4)


# --- criterion 2: proportions of a neutral pair, robust to foreshortening --------------------


def _relative(xy):
    lengths = bone_lengths(xy)
    torso = lengths[:, [i for i, (_, c) in enumerate(BONES) if c == R_HIP]]
    return lengths / torso


def test_neutral_pair_gets_the_portrait_proportions_despite_foreshortening():
    props = {"arms": 1.15, "legs": 0.92, "head": 1.1, "shoulders": 1.05, "hands": 1.1}
    portrait = portrait_seq(props)
    T = 60
    neck = np.tile([500.0, 300.0], (T, 1))
    clean = seq(skeleton(neck, NEUTRAL))
    res = rt.retarget(clean, portrait, OFF)
    want = _relative(portrait.keypoints[..., :2].astype(np.float64))[0]
    got = _relative(res.poses.keypoints[..., :2].astype(np.float64))
    np.testing.assert_allclose(got, np.broadcast_to(want, got.shape), rtol=0.01)

    # then twice as many frames with limbs turning toward the camera and a bow of the torso:
    # most frames are now foreshortened (a median would follow them, a high quantile not)
    f = np.r_[np.ones(T), 0.75 - 0.2 * np.sin(np.linspace(0, 6 * np.pi, 2 * T))]
    fore = {j: f for j in (R_ELBOW, L_ELBOW, R_WRIST, L_WRIST, R_KNEE, R_ANKLE)}
    fore[R_HIP] = fore[L_HIP] = 1 - 0.3 * (1 - f)
    shortened = seq(skeleton(np.r_[neck, neck, neck], NEUTRAL, fore=fore))
    res2 = rt.retarget(shortened, portrait, OFF)
    for group, value in res.ratios.items():
        assert abs(res2.ratios[group] / value - 1) < 0.02, group
    assert abs(res2.scale / res.scale - 1) < 0.02
    got2 = _relative(res2.poses.keypoints[:T, :, :2].astype(np.float64))
    np.testing.assert_allclose(got2, np.broadcast_to(want, got2.shape), rtol=0.02)


# --- criterion 3: anchor frame at the portrait's neck, with its shoulder width ---------------


@pytest.mark.parametrize("config", [RetargetConfig(), RetargetConfig(ground=False, smoothing=9)])
def test_anchor_frame_neck_and_shoulder_width(config):
    props = {"arms": 0.9, "shoulders": 1.2, "legs": 1.1}
    portrait = portrait_seq(props, size=2.0, neck=(380.0, 420.0))
    if config.ground:
        driver = driver_seq(60, still=12, travel=(40.0, 0.0))
    else:  # a different first pose: the ground line would not hold, the neck must
        driver = driver_seq(60, phase=2.0, travel=(40.0, 10.0))
    res = rt.retarget(driver, portrait, config)
    first = res.poses.keypoints[res.lead_in, :, :2]
    p = portrait.keypoints[0, :, :2]
    assert np.linalg.norm(first[NECK] - p[NECK]) < 0.5
    width = np.linalg.norm(first[R_SHOULDER] - first[L_SHOULDER])
    p_width = np.linalg.norm(p[R_SHOULDER] - p[L_SHOULDER])
    assert abs(width / p_width - 1) < 0.01


# --- criterion 4: a portrait taken from the driver reproduces the driver ---------------------


def test_portrait_from_the_driver_reproduces_it():
    driver = driver_seq(90, travel=(60.0, -20.0))
    kp = driver.keypoints
    torso = 100.0
    res = rt.retarget(driver, driver[0], OFF)
    assert res.lead_in == 0 and res.driver_start == 0
    assert abs(res.scale - 1) < 1e-6
    np.testing.assert_allclose(res.poses.keypoints, kp, atol=1e-3 * torso)

    # a later frame, with the sequence started there
    cfg = RetargetConfig(smoothing=0, transition=0.0, start_at_closest=True)
    res = rt.retarget(driver, driver[23], cfg)
    assert res.driver_start == 23
    np.testing.assert_allclose(res.poses.keypoints, kp[23:], atol=1e-3 * torso)

    # the portrait scaled by 2.5 and moved: the output follows
    big = kp[:1].copy()
    big[..., :2] = big[..., :2] * 2.5 + (120.0, -300.0)
    res = rt.retarget(driver, seq(big, 3000, 3000), OFF)
    want = kp.copy()
    want[..., :2] = want[..., :2] * 2.5 + (120.0, -300.0)
    assert abs(res.scale - 2.5) < 1e-6
    np.testing.assert_allclose(res.poses.keypoints, want, atol=2.5e-3 * torso)


# --- criterion 5: awkward inputs ------------------------------------------------------------


def _check_sane(res, driver_kp, lead_in=0):
    out = res.poses.keypoints[lead_in:]
    assert np.isfinite(out[..., 2]).all()
    had = body_valid(driver_kp)
    assert np.isfinite(out[..., :24, :2][had]).all()
    empty = np.isnan(driver_kp[..., 0]).all(axis=1)
    assert np.isnan(out[empty, :, :2]).all() and (out[empty, :, 2] == 0).all()
    ratio = bone_lengths(out.astype(np.float64)) / bone_lengths(driver_kp.astype(np.float64))
    ratio = ratio[np.isfinite(ratio)]
    assert ratio.size and np.all((ratio >= 0.5 * res.scale) & (ratio <= 2 * res.scale))


def test_half_body_portrait():
    kp = portrait_seq(height=1400).keypoints.copy()
    cut = 700.0  # the photo ends at the waist: hips on the border, the rest not detected
    kp[0, [R_KNEE, L_KNEE, R_ANKLE, L_ANKLE, *range(18, 24)]] = missing_pose()[0, :10]
    kp[0, [R_HIP, L_HIP], 1] = cut - 1
    portrait = seq(kp, 800, int(cut))
    driver = driver_seq(50)
    res = rt.retarget(driver, portrait, LEAD_IN)
    _check_sane(res, driver.keypoints, res.lead_in)
    assert res.ratios["thighs"] == 1.0 and res.ratios["shins"] == 1.0
    assert any("upper body" in n for n in res.notices)


def test_occluded_portrait_wrist_fades_in():
    kp = portrait_seq().keypoints.copy()
    kp[0, [R_WRIST, *range(RIGHT_HAND.start, RIGHT_HAND.stop)]] = missing_pose()[0, :22]
    driver = driver_seq(50, phase=1.0)
    res = rt.retarget(driver, seq(kp, 800, 1400), LEAD_IN)
    _check_sane(res, driver.keypoints, res.lead_in)
    lead = res.poses.keypoints[: res.lead_in + 1]
    assert np.isnan(lead[0, R_WRIST, 0]) and not np.isnan(lead[-1, R_WRIST, 0])
    assert np.all(np.diff(lead[:, R_WRIST, 2]) >= 0)  # fades in
    forearm = lead[:, R_WRIST, :2] - lead[:, R_ELBOW, :2]
    angle = np.arctan2(forearm[:, 1], forearm[:, 0])
    shown = ~np.isnan(angle)
    assert shown.sum() > 3
    np.testing.assert_allclose(rt._wrap(angle[shown] - angle[-1]), 0, atol=1e-4)


def test_empty_driver_frames_stay_empty_and_short_gaps_fill():
    kp = driver_seq(80).keypoints.copy()
    kp[[10, 11, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50]] = missing_pose(13)
    kp[20:23, R_ELBOW] = missing_pose()[0, 0]  # a joint lost for 3 frames: filled
    res = rt.retarget(seq(kp), portrait_seq())
    out = res.poses.keypoints[res.lead_in :]
    _check_sane(res, kp, res.lead_in)
    assert not np.isnan(out[20:23, R_ELBOW, :2]).any()
    assert any("no person" in n for n in res.notices)


def test_two_people_and_swapped_hands():
    driver = driver_seq(60)
    kp = driver.keypoints.copy()
    other = driver_seq(60, phase=2.5, start=(820.0, 320.0)).keypoints
    kp[30:32] = other[30:32]  # the tracker jumped to someone else for two frames
    kp[15, LEFT_HAND] = other[15, LEFT_HAND]  # someone else's hand
    kp[[5, 6, 7, 45]] = kp[[5, 6, 7, 45]][:, rt._SWAP_HANDS]
    res = rt.retarget(seq(kp), portrait_seq(), RetargetConfig(smoothing=0))
    out = res.poses.keypoints[res.lead_in :]
    clean = rt.retarget(driver, portrait_seq(), RetargetConfig(smoothing=0))
    ref = clean.poses.keypoints[clean.lead_in :]
    _check_sane(res, driver.keypoints, res.lead_in)
    neck_step = np.linalg.norm(np.diff(out[:, NECK, :2], axis=0), axis=-1)
    assert neck_step.max() < 20  # no jump to the other person
    assert np.abs(out[30:32, :24, :2] - ref[30:32, :24, :2]).max() < 15
    # the stranger's hand was dropped and the gap filled from our hand's neighbours
    np.testing.assert_allclose(out[15, LEFT_HAND, :2], ref[15, LEFT_HAND, :2], atol=3.0)
    for t in (5, 6, 7, 45):
        np.testing.assert_allclose(out[t, LEFT_HAND.start, :2], out[t, L_WRIST, :2], atol=1e-3)
        np.testing.assert_allclose(out[t, RIGHT_HAND.start, :2], out[t, R_WRIST, :2], atol=1e-3)


def test_input_errors():
    portrait = portrait_seq()
    with pytest.raises(InputError, match="driving video"):
        rt.retarget(seq(missing_pose(20)), portrait)
    with pytest.raises(InputError, match="driving video"):
        rt.retarget(seq(missing_pose(0)), portrait)
    lonely = missing_pose(1)
    lonely[0, R_KNEE] = (300, 900, 0.9)
    with pytest.raises(InputError, match="portrait"):
        rt.retarget(driver_seq(20), seq(lonely, 800, 1400))
    with pytest.raises(InputError, match="portrait"):
        rt.retarget(driver_seq(20), seq(missing_pose(1), 800, 1400))
    with pytest.raises(InputError, match="one of head"):
        rt.retarget(driver_seq(20), portrait, RetargetConfig(multipliers={"tail": 2.0}))
    with pytest.raises(InputError, match="positive"):
        rt.retarget(driver_seq(20), portrait, RetargetConfig(multipliers={"arms": -1}))


def test_multipliers_scale_their_groups():
    driver, portrait = driver_seq(30), portrait_seq()
    base = rt.retarget(driver, portrait, OFF)
    cfg = RetargetConfig(smoothing=0, transition=0, multipliers={"arms": 1.2, "hands": 0.9})
    more = rt.retarget(driver, portrait, cfg)
    assert more.ratios["upper_arms"] == pytest.approx(1.2 * base.ratios["upper_arms"])
    assert more.ratios["forearms"] == pytest.approx(1.2 * base.ratios["forearms"])
    assert more.ratios["hands"] == pytest.approx(0.9 * base.ratios["hands"])
    assert more.ratios["thighs"] == pytest.approx(base.ratios["thighs"])
    a = base.poses.keypoints[5, :, :2]
    b = more.poses.keypoints[5, :, :2]
    ratio = np.linalg.norm(b[R_WRIST] - b[R_ELBOW]) / np.linalg.norm(a[R_WRIST] - a[R_ELBOW])
    assert ratio == pytest.approx(1.2, rel=1e-4)


# --- criterion 6: smoothing -----------------------------------------------------------------


def test_smoothing_cuts_jitter_without_shrinking_bones():
    rng = np.random.default_rng(3)
    clean = driver_seq(150, amp=0.7)
    noisy_kp = clean.keypoints.copy()
    noisy_kp[..., :2] += rng.normal(0, 1.0, noisy_kp[..., :2].shape)  # 1 % of the torso
    noisy = seq(noisy_kp)
    portrait = portrait_seq({"arms": 1.1})
    ref = rt.retarget(clean, portrait, OFF).poses.keypoints[..., :24, :2].astype(np.float64)
    off = rt.retarget(noisy, portrait, OFF).poses.keypoints[..., :24, :2].astype(np.float64)
    on_cfg = RetargetConfig(transition=0.0)
    on = rt.retarget(noisy, portrait, on_cfg).poses.keypoints[..., :24, :2].astype(np.float64)

    def jitter(x):
        return np.linalg.norm(x[2:] - 2 * x[1:-1] + x[:-2], axis=-1).mean()

    def rmse(x):
        return np.sqrt(np.nanmean(np.sum((x - ref) ** 2, -1)))

    def cv(x):
        lengths = bone_lengths(x)
        return (lengths.std(0) / lengths.mean(0)).mean()

    assert jitter(on) <= 0.5 * jitter(off)
    assert rmse(on) < rmse(off)
    assert cv(on) <= cv(off)


# --- criterion 7: the transition from the portrait's pose -----------------------------------


def test_transition_endpoints_lengths_and_steps():
    portrait = portrait_seq({"arms": 1.1, "legs": 0.95})
    driver = driver_seq(40, phase=1.3, amp=1.3)
    res = rt.retarget(driver, portrait, LEAD_IN)
    lead = res.lead_in
    assert lead >= round(0.5 * 25)
    kp = res.poses.keypoints
    p = portrait.keypoints[0]
    np.testing.assert_allclose(kp[0, :, :2], p[:, :2], atol=1.0)
    plain = rt.retarget(driver, portrait, RetargetConfig(transition=0.0))
    np.testing.assert_allclose(kp[lead], plain.poses.keypoints[0], atol=1e-3)

    seg = kp[: lead + 1, :, :2].astype(np.float64)
    lengths = bone_lengths(seg)
    floor = 0.99 * np.minimum(lengths[0], lengths[-1])
    assert np.all(lengths >= floor)
    torso = np.linalg.norm(p[R_HIP, :2] - p[NECK, :2])
    steps = np.linalg.norm(np.diff(seg, axis=0), axis=-1)
    assert np.nanmax(steps) <= 0.15 * torso + 1e-6


def test_big_pose_change_lengthens_the_lead_in():
    arms_up = dict(NEUTRAL)
    arms_up.update({R_ELBOW: -np.pi / 2 - 0.3, L_ELBOW: -np.pi / 2 + 0.3,
                    R_WRIST: -np.pi / 2, L_WRIST: -np.pi / 2})  # fmt: skip
    driver = seq(skeleton(np.tile([500.0, 300.0], (20, 1)), arms_up))
    res = rt.retarget(driver, portrait_seq(), LEAD_IN)
    assert res.lead_in > round(0.5 * 25)
    assert any("lengthened" in n for n in res.notices)
    seg = res.poses.keypoints[: res.lead_in + 1, :, :2].astype(np.float64)
    torso = 100.0 * 1.6
    assert np.nanmax(np.linalg.norm(np.diff(seg, axis=0), axis=-1)) <= 0.15 * torso + 1e-6


# --- more building blocks and edges ---------------------------------------------------------


def test_savgol_matches_scipy_and_hold_fill_holds():
    from scipy.signal import savgol_filter

    a = np.random.default_rng(5).normal(size=(4, 31))
    for window, order in ((7, 2), (9, 3)):
        want = savgol_filter(a, window, order, axis=-1)
        np.testing.assert_allclose(rt.savgol(a, window, order), want, atol=1e-12)
    b = np.array([[np.nan, 1.0, np.nan, np.nan, 4.0, np.nan], [np.nan] * 6])
    np.testing.assert_array_equal(rt._hold_fill(b), [[1, 1, 1, 1, 4, 4], [0] * 6])


def test_hand_without_its_wrist_point_is_still_assigned():
    neck, angles = motion(3)
    kp = skeleton(neck, angles)
    left = kp[:, LEFT_HAND].copy()
    kp[:, LEFT_HAND.start, 2] = 0.0  # the hand's own wrist point unseen
    kp[1, LEFT_HAND], kp[1, RIGHT_HAND] = kp[1, RIGHT_HAND].copy(), kp[1, LEFT_HAND].copy()
    xy, scores, _ = rt.hygiene(kp, RetargetConfig())
    out = rt.from_planes(xy, scores)
    np.testing.assert_allclose(out[:, LEFT_HAND][:, 1:, :2], left[:, 1:, :2], atol=1e-4)


def test_long_occlusion_keeps_the_wrist_on_the_arm():
    kp = driver_seq(60).keypoints.copy()
    kp[10:40, R_ELBOW] = missing_pose()[0, 0]  # 30 frames: too long to fill
    res = rt.retarget(seq(kp), portrait_seq({"arms": 1.2}), OFF)
    out = res.poses.keypoints.astype(np.float64)
    assert np.isnan(out[10:40, R_ELBOW, 0]).all()
    reach = np.linalg.norm(out[10:40, R_WRIST, :2] - out[10:40, R_SHOULDER, :2], axis=-1)
    d_reach = np.linalg.norm(kp[10:40, R_WRIST, :2] - kp[10:40, R_SHOULDER, :2], axis=-1)
    ratio = reach / d_reach / res.scale
    lo, hi = sorted([res.ratios["upper_arms"], res.ratios["forearms"]])
    assert np.all((ratio > lo - 1e-3) & (ratio < hi + 1e-3))


def test_driver_starting_empty_fades_the_portrait_out():
    kp = driver_seq(40).keypoints.copy()
    kp[:5] = missing_pose(5)
    portrait = portrait_seq()
    res = rt.retarget(seq(kp), portrait, LEAD_IN)
    lead = res.poses.keypoints[: res.lead_in]
    assert res.lead_in == round(0.5 * 25)
    np.testing.assert_allclose(lead[0, :, :2], portrait.keypoints[0, :, :2], atol=1e-3)
    assert np.all(np.diff(lead[:, NECK, 2]) < 0)
    np.testing.assert_allclose(lead[:, NECK, :2], lead[:1, NECK, :2].repeat(len(lead), 0))
    assert np.isnan(res.poses.keypoints[res.lead_in : res.lead_in + 5, :, :2]).all()
