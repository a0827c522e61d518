"""Built-in procedural motions, so the app can animate a portrait without a driving video.

Each motion is a `PoseSequence` of one canonical adult (standing, facing the camera, with
hands and face) built by forward kinematics over `skeleton.BONES`: every bone keeps its
rest length and only its direction is animated, so bone lengths are exactly constant.
Feet stay planted and knees/elbows bend through two-bone IK where a motion says where a
hand or foot goes. Hands (21 points) and face (iBUG-68) are rigid templates attached to
the forearm and the head. Angles are smooth periodic functions of the clip phase with a
whole number of cycles per clip, so every clip loops: the frame after the last one is
the first one.

Body units: the person is 1 tall, x to the image's right, y down, the neck at the origin
in the rest pose; a clip is scaled and centred onto the canvas at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from animator.errors import InputError
from animator.pose.skeleton import (
    BONES,
    FACE,
    L_ANKLE,
    L_ELBOW,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    MIRROR,
    NECK,
    NOSE,
    NUM_KEYPOINTS,
    R_ANKLE,
    R_BIG_TOE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HEEL,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_SMALL_TOE,
    R_WRIST,
    RIGHT_HAND,
    PoseSequence,
)

MOTIONS: dict[str, str] = {
    "wave": "waves the right hand above the shoulder while swaying gently",
    "walk": "walks in place facing the camera: alternate foot lifts, counter-swinging arms",
    "squat": "wide squats with the knees out, hands meeting at the chest at the bottom",
    "arm_circles": "both arms held out to the sides, hands tracing circles",
    "dance": "hip sway with alternating arm raises, knee bounces and head bobs",
}
# Seconds per cycle; a clip holds the nearest whole number of cycles (at least one).
_PERIODS = {"wave": 0.8, "walk": 1.2, "squat": 2.5, "arm_circles": 1.6, "dance": 1.0}

_FACE_WIDTH = 0.082  # jaw to jaw, in body heights
_HAND_LENGTH = 0.108  # wrist to middle fingertip
_FILL = 0.88  # fraction of the canvas the clip's bounding box may fill
_HEAD_TOP = 0.9 * _FACE_WIDTH  # skull top above the nose tip, not a keypoint


def _face_template() -> np.ndarray:
    """iBUG-68 points of a frontal face of width 1, relative to the nose tip (point 30)."""
    theta = np.linspace(0.0, np.pi, 17)
    jaw = np.stack([-0.5 * np.cos(theta), -0.22 + 0.72 * np.sin(theta)], axis=1)
    bx = np.linspace(-0.42, -0.08, 5)
    right_brow = np.stack([bx, -0.5 - 0.06 * np.sin(np.pi * (bx + 0.42) / 0.34)], axis=1)
    left_brow = right_brow[::-1] * [-1, 1]
    bridge = [[0, -0.40], [0, -0.27], [0, -0.13], [0, 0]]
    nostrils = [[-0.11, 0.05], [-0.055, 0.075], [0, 0.09], [0.055, 0.075], [0.11, 0.05]]
    # Eye contours from the corner nearest the image's left, clockwise on screen.
    eye = np.array([[-0.1, 0], [-0.035, -0.035], [0.035, -0.035], [0.1, 0],
                    [0.035, 0.035], [-0.035, 0.035]])  # fmt: skip
    right_eye, left_eye = eye + [-0.22, -0.33], eye + [0.22, -0.33]
    outer_lip = [[-0.19, 0.25], [-0.12, 0.21], [-0.05, 0.19], [0, 0.2], [0.05, 0.19],
                 [0.12, 0.21], [0.19, 0.25], [0.12, 0.3], [0.05, 0.32], [0, 0.325],
                 [-0.05, 0.32], [-0.12, 0.3]]  # fmt: skip
    inner_lip = [[-0.15, 0.25], [-0.05, 0.235], [0, 0.24], [0.05, 0.235], [0.15, 0.25],
                 [0.05, 0.265], [0, 0.27], [-0.05, 0.265]]  # fmt: skip
    parts = (jaw, right_brow, left_brow, bridge, nostrils, right_eye, left_eye, outer_lip,
             inner_lip)  # fmt: skip
    return np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])


def _hand_template() -> np.ndarray:
    """21 right-hand points, length 1, palm to the camera, hanging down (+y) from the
    wrist at the origin; the thumb is on the image's left. The left hand mirrors it."""
    points = [[0.0, 0.0], [-0.10, 0.10], [-0.19, 0.22], [-0.24, 0.33], [-0.27, 0.43]]
    # finger: (base x, base y, spread angle in degrees, phalanx lengths)
    fingers = ((-0.13, 0.50, -6, (0.22, 0.13, 0.10)), (-0.04, 0.52, -1, (0.25, 0.15, 0.11)),
               (0.05, 0.50, 4, (0.23, 0.14, 0.10)), (0.13, 0.46, 10, (0.17, 0.10, 0.09)))
    for x, y, spread, lengths in fingers:
        direction = np.array([math.sin(math.radians(spread)), math.cos(math.radians(spread))])
        joint = np.array([x, y])
        points.append(joint.tolist())
        for length in lengths:
            joint = joint + length * direction
            points.append(joint.tolist())
    return np.array(points)


def _rest() -> np.ndarray:
    """Rest pose of the 24 body/foot joints, neck at the origin."""
    f = _FACE_WIDTH
    right = {
        NOSE: (0.0, -0.09), NECK: (0.0, 0.0),
        R_EYE: (-0.22 * f, -0.09 - 0.33 * f), R_EAR: (-0.55 * f, -0.09 - 0.22 * f),
        R_SHOULDER: (-0.11, 0.0), R_HIP: (-0.07, 0.30), R_KNEE: (-0.075, 0.545),
        R_ANKLE: (-0.08, 0.79), R_BIG_TOE: (-0.06, 0.83), R_SMALL_TOE: (-0.115, 0.825),
        R_HEEL: (-0.076, 0.812),
    }  # fmt: skip
    right[R_ELBOW] = (-0.11 - 0.17 * math.sin(math.radians(8)), 0.17 * math.cos(math.radians(8)))
    right[R_WRIST] = (right[R_ELBOW][0] - 0.15 * math.sin(math.radians(4)),
                      right[R_ELBOW][1] + 0.15 * math.cos(math.radians(4)))  # fmt: skip
    rest = np.zeros((24, 2))
    for j, (x, y) in right.items():
        rest[j] = (x, y)
        rest[MIRROR[j]] = (-x, y)
    return rest


_REST = _rest()
_FACE_POINTS = _face_template() * _FACE_WIDTH
_RIGHT_HAND = _hand_template() * _HAND_LENGTH
_LEFT_HAND = _RIGHT_HAND * [-1, 1]
_OFFSET = {c: _REST[c] - _REST[p] for p, c in BONES}
_LENGTH = {c: float(np.hypot(*v)) for c, v in _OFFSET.items()}
_ANGLE = {c: math.atan2(v[1], v[0]) for c, v in _OFFSET.items()}
_FEET = range(18, 24)
_IK_CHAINS = {R_ELBOW: R_WRIST, L_ELBOW: L_WRIST, R_KNEE: R_ANKLE, L_KNEE: L_ANKLE}


@dataclass
class _Frame:
    """One frame's animation controls, all in body units and radians (image angles)."""

    root: tuple[float, float] = (0.0, 0.0)  # neck position
    lean: float = 0.0  # whole-body rotation about the neck
    bend: dict[int, float] = field(default_factory=dict)  # joint -> local rotation of its bone
    aim: dict[int, float] = field(default_factory=dict)  # joint -> absolute bone direction
    # end joint (wrist/ankle) -> (target, preferred bend direction of the middle joint)
    reach: dict[int, tuple[tuple[float, float], tuple[float, float]]] = field(
        default_factory=dict
    )
    flex: dict[int, float] = field(default_factory=dict)  # wrist -> hand rotation vs forearm


def _two_bone(root, target, a, b, bend_dir) -> tuple[float, float]:
    """Directions of the two bones of a chain of lengths a, b from `root` towards `target`
    (stopping short when out of reach), the middle joint towards `bend_dir`."""
    delta = np.asarray(target) - root
    base = math.atan2(delta[1], delta[0])
    d = min(max(float(np.hypot(*delta)), abs(a - b) + 1e-9), (a + b) * (1 - 1e-12))
    alpha = math.acos(max(-1.0, min(1.0, (a * a + d * d - b * b) / (2 * a * d))))
    first = max((base - alpha, base + alpha),
                key=lambda t: math.cos(t) * bend_dir[0] + math.sin(t) * bend_dir[1])
    mid = root + a * np.array([math.cos(first), math.sin(first)])
    end = root + d * np.array([math.cos(base), math.sin(base)])
    return first, math.atan2(end[1] - mid[1], end[0] - mid[0])


def _build(frame: _Frame) -> np.ndarray:
    """Forward kinematics of one frame: (134, 2) points in body units."""
    pos = {NECK: np.asarray(frame.root, dtype=np.float64)}
    rot = {NECK: frame.lean}
    aim = dict(frame.aim)
    for parent, child in BONES:
        if child in _IK_CHAINS and _IK_CHAINS[child] in frame.reach:
            end = _IK_CHAINS[child]
            target, bend_dir = frame.reach[end]
            aim[child], aim[end] = _two_bone(pos[parent], target, _LENGTH[child],
                                             _LENGTH[end], bend_dir)
        if child in aim:
            rot[child] = aim[child] - _ANGLE[child]
        elif child in _FEET:
            rot[child] = 0.0  # feet stay level on the floor
        else:
            rot[child] = rot[parent] + frame.bend.get(child, 0.0)
        angle = _ANGLE[child] + rot[child]
        pos[child] = pos[parent] + _LENGTH[child] * np.array([math.cos(angle), math.sin(angle)])

    out = np.zeros((NUM_KEYPOINTS, 2))
    for j, p in pos.items():
        out[j] = p
    out[FACE] = pos[NOSE] + _FACE_POINTS @ _rotation(rot[NOSE]).T
    for block, wrist, template in ((LEFT_HAND, L_WRIST, _LEFT_HAND),
                                   (RIGHT_HAND, R_WRIST, _RIGHT_HAND)):
        # The template hangs along +y: turn it to the forearm's direction.
        turn = _ANGLE[wrist] + rot[wrist] - math.pi / 2 + frame.flex.get(wrist, 0.0)
        out[block] = pos[wrist] + template @ _rotation(turn).T
    return out


def _rotation(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


def _down_out(side: int, degrees: float) -> float:
    """Image angle of a limb turned `degrees` away from pointing down, towards the outside
    of the body (side -1: the person's right, on the image's left)."""
    return math.pi / 2 - side * math.radians(degrees)


def _planted(width: float) -> dict:
    """IK targets keeping both feet on the floor `width` either side of the midline."""
    floor = _REST[R_ANKLE][1]
    return {R_ANKLE: ((-width, floor), (-1.0, 0.0)), L_ANKLE: ((width, floor), (1.0, 0.0))}


# --- motions: phase in [0, 1) over the clip, `cycles` whole cycles ----------------------


def _wave(phase: float, cycles: int) -> _Frame:
    p, slow = 2 * math.pi * cycles * phase, 2 * math.pi * phase
    return _Frame(
        root=(0.012 * math.sin(slow), 0.012),
        aim={R_ELBOW: _down_out(-1, 100), R_WRIST: -math.pi / 2 + 0.35 * math.sin(p)},
        bend={NOSE: -0.05 + 0.04 * math.sin(slow), L_ELBOW: 0.03 * math.sin(slow)},
        flex={R_WRIST: 0.25 * math.sin(p - 0.6)},
        reach=_planted(0.085),
    )


def _walk(phase: float, cycles: int) -> _Frame:
    p = 2 * math.pi * cycles * phase
    # The right foot is up in the first half of each stride, the left in the second.
    lift_r, lift_l = max(0.0, math.sin(p)) ** 2, max(0.0, -math.sin(p)) ** 2
    floor = _REST[R_ANKLE][1]
    return _Frame(
        root=(0.015 * math.sin(p), 0.02 - 0.01 * (lift_r + lift_l)),
        lean=-0.02 * math.sin(p),
        reach={
            R_ANKLE: ((-0.085 + 0.01 * lift_r, floor - 0.09 * lift_r), (-1.0, 0.0)),
            L_ANKLE: ((0.085 - 0.01 * lift_l, floor - 0.09 * lift_l), (1.0, 0.0)),
        },
        # Each arm swings forward with the opposite leg: the forearm comes across the body.
        bend={R_ELBOW: -0.06 * math.sin(p), L_ELBOW: -0.06 * math.sin(p),
              R_WRIST: -0.25 * (1 - math.sin(p)), L_WRIST: 0.25 * (1 + math.sin(p)),
              NOSE: 0.03 * math.sin(p)},  # fmt: skip
    )


def _squat(phase: float, cycles: int) -> _Frame:
    depth = (1 - math.cos(2 * math.pi * cycles * phase)) / 2
    root = np.array([0.0, 0.015 + 0.17 * depth])
    reach = _planted(0.13)
    for wrist, side in ((R_WRIST, -1), (L_WRIST, 1)):
        hang, clasp = _REST[wrist], np.array([side * 0.035, 0.13])
        target = root + (1 - depth) * hang + depth * clasp
        reach[wrist] = (tuple(target), (side * 1.0, 0.6))
    return _Frame(root=tuple(root), reach=reach, bend={NOSE: 0.04 * depth})


def _arm_circles(phase: float, cycles: int) -> _Frame:
    p = 2 * math.pi * cycles * phase
    root = np.array([0.0, 0.012 + 0.004 * math.sin(2 * p)])
    reach = _planted(0.085)
    for wrist, shoulder, side in ((R_WRIST, R_SHOULDER, -1), (L_WRIST, L_SHOULDER, 1)):
        center = root + _REST[shoulder] + [side * 0.2, -0.04]
        target = center + 0.09 * np.array([side * math.cos(p), math.sin(p)])
        reach[wrist] = (tuple(target), (side * 0.2, 1.0))
    return _Frame(root=tuple(root), reach=reach)


def _dance(phase: float, cycles: int) -> _Frame:
    p = 2 * math.pi * cycles * phase
    up_r = (1 + math.sin(p)) / 2
    up_l = 1 - up_r
    return _Frame(
        root=(0.04 * math.sin(p), 0.03 + 0.01 * (1 - math.cos(2 * p))),
        lean=-0.06 * math.sin(p),
        aim={R_ELBOW: _down_out(-1, 20 + 110 * up_r), L_ELBOW: _down_out(1, 20 + 110 * up_l)},
        bend={R_WRIST: math.radians(-40 + 110 * up_r), L_WRIST: -math.radians(-40 + 110 * up_l),
              NOSE: 0.08 * math.sin(2 * p)},  # fmt: skip
        flex={R_WRIST: 0.3 * math.sin(2 * p), L_WRIST: -0.3 * math.sin(2 * p)},
        reach=_planted(0.11),
    )


_BUILDERS = {
    "wave": _wave, "walk": _walk, "squat": _squat, "arm_circles": _arm_circles,
    "dance": _dance,
}  # fmt: skip


def list_motions() -> list[str]:
    return list(MOTIONS)


def make_motion(
    name: str, seconds: float = 4.0, fps: float = 25.0, width: int = 512, height: int = 768
) -> PoseSequence:
    """The built-in motion `name` as a looping PoseSequence on a width x height canvas.

    The clip holds round(seconds * fps) frames and a whole number of motion cycles; the
    figure is scaled to fill most of the canvas (less when the arms reach wide) and
    centred. All 134 points are present with score 1.
    """
    if name not in MOTIONS:
        raise InputError(f"unknown motion {name!r}; choose one of: {', '.join(MOTIONS)}.")
    if not (seconds > 0 and fps > 0 and math.isfinite(seconds * fps)):
        raise InputError(f"motion length and fps must be positive, got {seconds} s at {fps}.")
    if int(width) < 16 or int(height) < 16:
        raise InputError(f"motion canvas must be at least 16x16 pixels, got {width}x{height}.")
    num_frames = max(1, round(seconds * fps))
    cycles = max(1, round(seconds / _PERIODS[name]))
    build = _BUILDERS[name]
    xy = np.stack([_build(build(t / num_frames, cycles)) for t in range(num_frames)])

    low, high = xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)
    low[1] = min(low[1], xy[:, NOSE, 1].min() - _HEAD_TOP)
    scale = _FILL * min(width / (high[0] - low[0]), height / (high[1] - low[1]))
    canvas_center = np.array([width, height]) / 2
    xy = (xy - (low + high) / 2) * scale + canvas_center

    keypoints = np.concatenate([xy, np.ones((*xy.shape[:2], 1))], axis=2)
    return PoseSequence(keypoints.astype(np.float32), int(width), int(height), fps)
