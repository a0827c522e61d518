"""Plausibility of detected skeletons: parts that no human body allows are marked missing.

Detectors on real footage invent body parts: MediaPipe on a chest-up close-up may put the
hips at face level and draw the legs up over the head; a crowd may lend a stranger's knee.
Retargeting reproduces such a skeleton faithfully and the generator animates it, so every
skeleton is checked here first, against its most reliable part:

- the head (jaw width of the face, ear span, eye span, nose-bridge-to-chin, whichever is
  largest since projection only shortens), else the shoulders, gives a body unit `head`;
  a head `head_change` x smaller or larger than the person's own median head around it (a
  face collapsed onto a few pixels, on people ~60 px tall) is removed first;
- per frame, hips within `hip_to_nose` heads of the nose, hips above the neck, knees or
  ankles above the shoulders while the head is above the neck (upright), a shoulder span
  wider than `max_shoulders` heads, a bone longer than its anthropometric limit in heads
  (or `own_length` x this sequence's own 90th-percentile length of it), and leg or arm
  joints whose hip or shoulder was not seen (the detector's own visibility contradicts
  them) are all removed, with everything that hangs from them;
- over time, a frame whose whole skeleton jumps more than `jump` heads from the last good
  frame and comes back within `jump_frames` frames is an outlier: such a frame's body is
  removed (a cut that stays is kept: the person really moved).

The report says how many frames lost which part; `notice()` phrases it for the user.
Nothing is invented: what a check removes stays missing (retargeting fills short gaps).

`implausible_frames` is the verdict on a finished (retargeted) skeleton, with wider limits
(`AnatomyLimits`): the share of such frames is what benchmarks/hard_poses.py reports.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from animator.pose.skeleton import (
    BODY,
    FACE,
    FEET,
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
)

_FACE0 = FACE.start
_JAW_R, _JAW_L, _CHIN, _BRIDGE = _FACE0, _FACE0 + 16, _FACE0 + 8, _FACE0 + 27


@dataclass
class PlausibilityConfig:
    """Limits of a human body, in head widths (ear to ear, ~15 cm on an adult)."""

    threshold: float = 0.3  # score from which a point counts as seen (DWPose's usual)
    hip_to_nose: float = 1.3  # hips closer than this to the nose are not hips
    max_shoulders: float = 4.2  # widest shoulder span for a head (adults: ~2.5)
    upright: float = 0.3  # the head this far above the neck means the torso is upright
    limb_margin: float = 1.6  # anthropometric bone lengths x this are the per-frame limits
    own_length: float = 1.8  # a bone this much longer than its own 90th percentile is wrong
    own_frames: int = 8  # frames needed before a bone's own length is trusted
    jump: float = 2.5  # whole-skeleton move per frame, in heads, at 25 fps (scaled by fps)
    jump_frames: int = 3  # longest run of jumped frames that counts as an outlier
    head_change: float = 2.0  # a head this many x smaller or larger than its own median ...
    head_window: int = 25  # ... over this many frames around it is not that person's head


# Adult bone lengths in head widths, by child joint (a 15 cm head: 30 cm upper arm, ...).
_BONE_HEADS = {
    NOSE: 1.5, R_SHOULDER: 1.4, L_SHOULDER: 1.4, R_ELBOW: 2.1, L_ELBOW: 2.1,
    R_WRIST: 1.9, L_WRIST: 1.9, R_HIP: 3.6, L_HIP: 3.6, R_KNEE: 3.1, L_KNEE: 3.1,
    R_ANKLE: 3.0, L_ANKLE: 3.0, R_EYE: 0.5, L_EYE: 0.5, R_EAR: 0.7, L_EAR: 0.7,
}  # fmt: skip
_PARENT = {
    NOSE: NECK, R_SHOULDER: NECK, L_SHOULDER: NECK, R_ELBOW: R_SHOULDER, L_ELBOW: L_SHOULDER,
    R_WRIST: R_ELBOW, L_WRIST: L_ELBOW, R_HIP: NECK, L_HIP: NECK, R_KNEE: R_HIP,
    L_KNEE: L_HIP, R_ANKLE: R_KNEE, L_ANKLE: L_KNEE, R_EYE: NOSE, L_EYE: NOSE,
    R_EAR: R_EYE, L_EAR: L_EYE,
}  # fmt: skip

_FEET_L, _FEET_R = list(range(FEET.start, FEET.start + 3)), list(range(FEET.start + 3, FEET.stop))
_HAND_L, _HAND_R = list(range(LEFT_HAND.start, LEFT_HAND.stop)), list(
    range(RIGHT_HAND.start, RIGHT_HAND.stop))
# Everything that hangs from a joint (the joint included): what goes when it goes.
_BELOW = {
    R_ANKLE: [R_ANKLE, *_FEET_R], L_ANKLE: [L_ANKLE, *_FEET_L],
    R_KNEE: [R_KNEE, R_ANKLE, *_FEET_R], L_KNEE: [L_KNEE, L_ANKLE, *_FEET_L],
    R_HIP: [R_HIP, R_KNEE, R_ANKLE, *_FEET_R], L_HIP: [L_HIP, L_KNEE, L_ANKLE, *_FEET_L],
    R_WRIST: [R_WRIST, *_HAND_R], L_WRIST: [L_WRIST, *_HAND_L],
    R_ELBOW: [R_ELBOW, R_WRIST, *_HAND_R], L_ELBOW: [L_ELBOW, L_WRIST, *_HAND_L],
    R_SHOULDER: [R_SHOULDER, R_ELBOW, R_WRIST, *_HAND_R],
    L_SHOULDER: [L_SHOULDER, L_ELBOW, L_WRIST, *_HAND_L],
    NOSE: [NOSE, R_EYE, L_EYE, R_EAR, L_EAR, *range(FACE.start, FACE.stop)],
    R_EYE: [R_EYE, R_EAR], L_EYE: [L_EYE, L_EAR], R_EAR: [R_EAR], L_EAR: [L_EAR],
}  # fmt: skip
_BELOW[NECK] = sorted({NECK, *_BELOW[R_SHOULDER], *_BELOW[L_SHOULDER], *_BELOW[R_HIP],
                       *_BELOW[L_HIP]})

# The part each point is reported under.
PARTS = ("shoulders", "arms", "hands", "hips", "legs", "feet", "head")
_PART_OF = np.full(134, "head", dtype=object)
_PART_OF[[NECK, R_SHOULDER, L_SHOULDER]] = "shoulders"
_PART_OF[[R_ELBOW, L_ELBOW, R_WRIST, L_WRIST]] = "arms"
_PART_OF[LEFT_HAND.start:] = "hands"
_PART_OF[[R_HIP, L_HIP]] = "hips"
_PART_OF[[R_KNEE, L_KNEE, R_ANKLE, L_ANKLE]] = "legs"
_PART_OF[FEET] = "feet"
_PART_INDEX = {p: np.flatnonzero(_PART_OF == p) for p in PARTS}


@dataclass
class PlausibilityReport:
    """What the checks removed from a sequence."""

    frames: int  # frames checked
    with_person: int  # frames with a seen body joint before the checks
    dropped: dict[str, int] = field(default_factory=dict)  # part -> frames that lost it
    jumps: int = 0  # frames removed as whole-skeleton jumps
    touched: int = 0  # frames that lost anything

    @property
    def passed(self) -> int:
        """Frames with a person whose skeleton came through untouched."""
        return self.with_person - self.touched

    def notice(self, what: str = "driving") -> str | None:
        """One sentence for the user, None when nothing was removed."""
        if not self.touched:
            return None
        parts = [f"{name} in {n}" for name, n in self.dropped.items() if n]
        text = (f"Implausible joints removed in {self.touched} of {self.with_person} {what} "
                f"frame(s) with a person")
        if parts:
            text += ": " + ", ".join(parts)
        if self.jumps:
            text += ("; " if parts else ": ") + f"{self.jumps} whole-skeleton jump(s) dropped"
        return text + ". Those parts stay missing rather than being guessed."


def _dist(kp: np.ndarray, a, b) -> np.ndarray:
    return np.hypot(kp[:, a, 0] - kp[:, b, 0], kp[:, a, 1] - kp[:, b, 1])


def head_size(kp: np.ndarray, window: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """(T,) head width in pixels from the head's own points (NaN when the head is not
    seen), then (T,) the unit used: the head, else the shoulder span / 2.5.

    Each span only underestimates (profile, a missing ear), so the largest is taken, and
    in a sequence no less than the median over `window` frames around it."""
    head = frame_heads(kp)
    if len(head) > 1 and (~np.isnan(head)).sum() > 1:
        head = np.fmax(head, running_median(head, window))
    shoulders = _dist(kp, R_SHOULDER, L_SHOULDER) / 2.5
    return head, np.where(np.isnan(head), shoulders, head)


def frame_heads(kp: np.ndarray) -> np.ndarray:
    """(T,) head width of each frame on its own: the largest of the head's spans (jaw,
    ears, eyes, bridge to chin, nose to ear, each scaled to a head width), NaN unseen."""
    spans = np.stack([
        _dist(kp, _JAW_R, _JAW_L), _dist(kp, R_EAR, L_EAR), 2.4 * _dist(kp, R_EYE, L_EYE),
        1.25 * _dist(kp, _BRIDGE, _CHIN), 1.6 * _dist(kp, NOSE, R_EAR),
        1.6 * _dist(kp, NOSE, L_EAR),
    ])
    head = np.fmax.reduce(spans, axis=0)
    head[~(head > 0)] = np.nan
    return head


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """(T,) NaN-aware median of the `window` values centred on each (NaN where none)."""
    pad = np.pad(values, window // 2, constant_values=np.nan)
    runs = np.lib.stride_tricks.sliding_window_view(pad, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
        return np.nanmedian(runs, axis=1)


def _below(joints) -> np.ndarray:
    return np.array(sorted({c for j in np.atleast_1d(joints)
                            for c in _BELOW.get(int(j), [int(j)])}))


def _drop(kp: np.ndarray, t: np.ndarray, joints) -> None:
    """Remove `joints` (and what hangs from them) in frames where `t` is True."""
    if t.any():
        kp[np.ix_(np.flatnonzero(t), _below(joints))] = (np.nan, np.nan, 0.0)


def check_frames(keypoints: np.ndarray,
                 config: PlausibilityConfig | None = None) -> np.ndarray:
    """The per-frame checks on (T, 134, 3) keypoints; returns a checked copy. Points under
    the score threshold are left as they are (nothing downstream uses them) unless a
    check removes the joint they hang from."""
    c = config or PlausibilityConfig()
    kp = np.array(keypoints, dtype=np.float32, copy=True)
    seen = ~np.isnan(kp[..., 0]) & (kp[..., 2] >= c.threshold)
    masked = np.where(seen[..., None], kp, np.nan)

    # a head far smaller or larger than this person's own (the median around it) is a
    # collapsed or misplaced face (small people): it goes, and is filled from its neighbours
    own = frame_heads(masked)
    if len(own) > 1:
        around = running_median(own, c.head_window)
        with np.errstate(invalid="ignore"):
            odd = (own < around / c.head_change) | (own > around * c.head_change)
        _drop(kp, odd, NOSE)
        _drop(masked, odd, NOSE)
    head, unit = head_size(masked)
    y = masked[..., 1]

    # the shoulders against the head (only when the unit is the head itself)
    span = _dist(masked, R_SHOULDER, L_SHOULDER)
    wide = span > c.max_shoulders * head
    _drop(kp, wide, NECK)
    _drop(masked, wide, NECK)
    neck_y = 0.5 * (y[:, R_SHOULDER] + y[:, L_SHOULDER])
    upright = neck_y - y[:, NOSE] > c.upright * unit
    top = np.fmin(y[:, R_SHOULDER], y[:, L_SHOULDER])
    for hip in (R_HIP, L_HIP):
        near_face = _dist(masked, hip, NOSE) < c.hip_to_nose * unit
        above_neck = upright & (y[:, hip] < neck_y)
        _drop(kp, near_face | above_neck, hip)
    for joint in (R_KNEE, L_KNEE, R_ANKLE, L_ANKLE):
        _drop(kp, upright & (y[:, joint] < top), joint)

    # bone lengths, root first, against the body's limits and its own lengths
    seen = ~np.isnan(kp[..., 0]) & (kp[..., 2] >= c.threshold)
    masked = np.where(seen[..., None], kp, np.nan)
    masked[:, NECK, :2] = 0.5 * (masked[:, R_SHOULDER, :2] + masked[:, L_SHOULDER, :2])
    for child, parent in _PARENT.items():
        length = _dist(masked, child, parent) / unit
        limit = _BONE_HEADS[child] * c.limb_margin
        bad = length > limit
        known = ~np.isnan(length)
        if known.sum() >= c.own_frames and child not in (R_EYE, L_EYE, R_EAR, L_EAR, NOSE):
            own = np.nanquantile(length, 0.9)
            bad |= length > c.own_length * own
        _drop(kp, bad, child)
        _drop(masked, bad, child)

    # legs without either hip, arms without either shoulder: the detector's own visibility
    # says that their root is not there, so neither are they (a close-up's invented legs)
    seen = ~np.isnan(kp[..., 0]) & (kp[..., 2] >= c.threshold)
    for roots, joints in (((R_HIP, L_HIP), (R_KNEE, L_KNEE, R_ANKLE, L_ANKLE)),
                          ((R_SHOULDER, L_SHOULDER), (R_ELBOW, L_ELBOW, R_WRIST, L_WRIST))):
        orphan = ~seen[:, list(roots)].any(axis=1) & seen[:, list(joints)].any(axis=1)
        _drop(kp, orphan, joints[:2])
        _drop(kp, orphan, joints[2:])
    return kp


def _body_distance(a: np.ndarray, b: np.ndarray, unit: float) -> float:
    """Median move of the body joints both frames show, in units; inf with fewer than 3."""
    both = ~np.isnan(a[BODY, 0]) & ~np.isnan(b[BODY, 0])
    if both.sum() < 3:
        return np.inf
    d = np.hypot(*(a[BODY][both, :2] - b[BODY][both, :2]).T)
    return float(np.median(d) / unit)


def jump_outliers(keypoints: np.ndarray, fps: float = 25.0,
                  config: PlausibilityConfig | None = None) -> np.ndarray:
    """(T,) bool: frames whose whole skeleton jumps away from the last good frame by more
    than `jump` heads (scaled to the frame rate) and comes back within `jump_frames`."""
    c = config or PlausibilityConfig()
    seen = ~np.isnan(keypoints[..., 0]) & (keypoints[..., 2] >= c.threshold)
    kp = np.where(seen[..., None], keypoints, np.nan)
    _, unit = head_size(kp)
    limit = c.jump * max(1.0, 25.0 / fps)
    present = seen[:, BODY].sum(axis=1) >= 3
    out = np.zeros(len(kp), dtype=bool)
    last = None
    t = 0
    while t < len(kp):
        if not present[t]:
            t += 1
            continue
        if last is None or not np.isfinite(unit[last]):
            last, t = t, t + 1
            continue
        scale = unit[last]
        size_jump = np.isfinite(unit[t]) and abs(np.log(unit[t] / scale)) > np.log(2.0)
        away = _body_distance(kp[t], kp[last], scale)
        if away <= limit and not size_jump:
            last, t = t, t + 1
            continue
        # does a frame within jump_frames come back to `last` (nearer than half the jump)?
        back = None
        for u in range(t + 1, min(len(kp), t + c.jump_frames + 1)):
            near = min(limit * (u - last), 0.5 * away) if np.isfinite(away) else limit
            if present[u] and _body_distance(kp[u], kp[last], scale) <= near:
                back = u
                break
        if back is None:
            last, t = t, t + 1  # it stays there: a cut or a fast move, not an outlier
            continue
        out[t:back] = present[t:back]
        last, t = back, back + 1
    return out


def check_poses(poses: PoseSequence, config: PlausibilityConfig | None = None
                ) -> tuple[PoseSequence, PlausibilityReport]:
    """Every check on a sequence (a portrait is a sequence of one): returns the checked
    copy and what was removed."""
    c = config or PlausibilityConfig()
    before = poses.keypoints
    kp = check_frames(before, c)
    jumps = jump_outliers(kp, poses.fps, c)
    kp[jumps] = (np.nan, np.nan, 0.0)
    valid_before = ~np.isnan(before[..., 0]) & (before[..., 2] >= c.threshold)
    valid_after = ~np.isnan(kp[..., 0]) & (kp[..., 2] >= c.threshold)
    lost = valid_before & ~valid_after
    lost[jumps] = False
    report = PlausibilityReport(len(poses), int(valid_before[:, BODY].any(axis=1).sum()),
                                jumps=int(jumps.sum()))
    for part in PARTS:
        report.dropped[part] = int(lost[:, _PART_INDEX[part]].any(axis=1).sum())
    report.touched = int((lost.any(axis=1) | jumps).sum())
    return PoseSequence(kp, poses.width, poses.height, poses.fps), report


@dataclass
class AnatomyLimits:
    """What no adult body shows, used to count implausible frames of a finished skeleton
    (`implausible_frames`); wider than the detector checks, which remove parts, because
    this is the verdict a user would give on the output."""

    threshold: float = 0.3  # score from which a point counts as drawn
    min_shoulders: float = 0.6  # shoulder span in head widths: below is a body seen edge-on
    max_shoulders: float = 8.0  # ... and above is no human body
    bone_margin: float = 2.0  # a bone longer than its adult length (in heads) x this
    knee_rise: float = 1.0  # a knee this many heads above its hip while upright


def implausible_frames(keypoints: np.ndarray, limits: AnatomyLimits | None = None
                       ) -> np.ndarray:
    """(T,) bool: frames whose drawn skeleton no adult body allows: hips above the neck or
    knees above the hips of an upright body, a shoulder span outside
    [min_shoulders, max_shoulders] heads, or a bone beyond `bone_margin` x its adult length
    in heads. The head unit is the head's own (`head_size`), so a frame without a head is
    judged on its hips and knees only."""
    c = limits or AnatomyLimits()
    kp = np.asarray(keypoints, dtype=np.float64)
    seen = ~np.isnan(kp[..., 0]) & (kp[..., 2] >= c.threshold)
    masked = np.where(seen[..., None], kp, np.nan)
    masked[:, NECK, :2] = 0.5 * (masked[:, R_SHOULDER, :2] + masked[:, L_SHOULDER, :2])
    head, _ = head_size(masked, window=1)
    y = masked[..., 1]
    neck_y = y[:, NECK]
    with np.errstate(invalid="ignore"):
        upright = neck_y - y[:, NOSE] > 0.3 * head
        bad = np.zeros(len(kp), dtype=bool)
        for hip, knee in ((R_HIP, R_KNEE), (L_HIP, L_KNEE)):
            bad |= upright & (y[:, hip] < neck_y)
            bad |= upright & (y[:, knee] < y[:, hip] - c.knee_rise * head)
        span = _dist(masked, R_SHOULDER, L_SHOULDER) / head
        bad |= (span < c.min_shoulders) | (span > c.max_shoulders)
        for child, parent in _PARENT.items():
            if child in (R_EYE, L_EYE, R_EAR, L_EAR, NOSE):
                continue  # the head's own spans are the unit
            bad |= _dist(masked, child, parent) / head > c.bone_margin * _BONE_HEADS[child]
    return bad
