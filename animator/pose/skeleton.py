"""The DWPose-134 whole-body layout, its kinematic tree, and `PoseSequence`.

Every detector produces this layout and every later step (retargeting, rendering, the
pose encoder's inputs) reads it, so the index facts live here and nowhere else.
Layout (see shared/reference/pose.md): 0-17 body in OpenPose-18 order, 18-23 feet,
24-91 face (iBUG-68), 92-112 left hand, 113-133 right hand. "Left"/"right" are the
person's own sides.

Keypoints are pixels of their own image: x, y, score. A missing point has x = y = NaN and
score 0, so that arithmetic on it propagates NaN instead of a fake (0, 0) joint.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from animator.datafiles import read_json
from animator.errors import InputError

NUM_KEYPOINTS = 134

BODY = slice(0, 18)
FEET = slice(18, 24)
FACE = slice(24, 92)
LEFT_HAND = slice(92, 113)
RIGHT_HAND = slice(113, 134)

BODY_NAMES = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee",
    "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
    "left_eye", "right_ear", "left_ear",
)  # fmt: skip
FOOT_NAMES = (
    "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel",
)  # fmt: skip
NOSE, NECK = 0, 1
R_SHOULDER, R_ELBOW, R_WRIST = 2, 3, 4
L_SHOULDER, L_ELBOW, L_WRIST = 5, 6, 7
R_HIP, R_KNEE, R_ANKLE = 8, 9, 10
L_HIP, L_KNEE, L_ANKLE = 11, 12, 13
R_EYE, L_EYE, R_EAR, L_EAR = 14, 15, 16, 17
L_BIG_TOE, L_SMALL_TOE, L_HEEL = 18, 19, 20
R_BIG_TOE, R_SMALL_TOE, R_HEEL = 21, 22, 23

# Parent of each body/foot joint; the neck is the root. Ears hang off the eyes and the eyes
# off the nose, matching the bones that DWPose draws.
BODY_PARENTS = (
    NECK, -1, NECK, R_SHOULDER, R_ELBOW, NECK, L_SHOULDER, L_ELBOW, NECK, R_HIP, R_KNEE,
    NECK, L_HIP, L_KNEE, NOSE, NOSE, R_EYE, L_EYE,
    L_ANKLE, L_ANKLE, L_ANKLE, R_ANKLE, R_ANKLE, R_ANKLE,
)  # fmt: skip

# (parent, child) for every bone of the body and feet, in a root-first order, so a
# single pass rebuilds a skeleton from the neck outward.
BONES: tuple[tuple[int, int], ...] = tuple(
    (BODY_PARENTS[j], j)
    for j in (0, 2, 5, 8, 11, 3, 6, 9, 12, 14, 15, 4, 7, 10, 13, 16, 17, 18, 19, 20, 21, 22, 23)
)

# Body part that each bone belongs to; user multipliers in retargeting act per group.
BONE_GROUPS: dict[tuple[int, int], str] = {
    (NECK, NOSE): "head", (NOSE, R_EYE): "head", (NOSE, L_EYE): "head",
    (R_EYE, R_EAR): "head", (L_EYE, L_EAR): "head",
    (NECK, R_SHOULDER): "shoulders", (NECK, L_SHOULDER): "shoulders",
    (R_SHOULDER, R_ELBOW): "upper_arms", (L_SHOULDER, L_ELBOW): "upper_arms",
    (R_ELBOW, R_WRIST): "forearms", (L_ELBOW, L_WRIST): "forearms",
    (NECK, R_HIP): "torso", (NECK, L_HIP): "torso",
    (R_HIP, R_KNEE): "thighs", (L_HIP, L_KNEE): "thighs",
    (R_KNEE, R_ANKLE): "shins", (L_KNEE, L_ANKLE): "shins",
    (L_ANKLE, L_BIG_TOE): "feet", (L_ANKLE, L_SMALL_TOE): "feet", (L_ANKLE, L_HEEL): "feet",
    (R_ANKLE, R_BIG_TOE): "feet", (R_ANKLE, R_SMALL_TOE): "feet", (R_ANKLE, R_HEEL): "feet",
}  # fmt: skip

# Mirror of each body/foot joint (left <-> right); centre joints map to themselves.
MIRROR = (
    NOSE, NECK, L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST,
    L_HIP, L_KNEE, L_ANKLE, R_HIP, R_KNEE, R_ANKLE, L_EYE, R_EYE, L_EAR, R_EAR,
    R_BIG_TOE, R_SMALL_TOE, R_HEEL, L_BIG_TOE, L_SMALL_TOE, L_HEEL,
)  # fmt: skip

# Rigid blocks: (keypoint range, the body joint it hangs from). Face about the nose, each
# hand about its body wrist (the hand's own point 0 is its wrist too).
BLOCKS: dict[str, tuple[slice, int]] = {
    "face": (FACE, NOSE),
    "left_hand": (LEFT_HAND, L_WRIST),
    "right_hand": (RIGHT_HAND, R_WRIST),
}

# Hand edges in hand-local indices (0 wrist; thumb 1-4, index 5-8, middle 9-12, ring
# 13-16, pinky 17-20): the wrist to each finger base, then along each finger.
HAND_EDGES: tuple[tuple[int, int], ...] = tuple(
    edge for base in (1, 5, 9, 13, 17) for edge in ((0, base), (base, base + 1),
                                                     (base + 1, base + 2), (base + 2, base + 3))
)

# Bones drawn in the DWPose convention, 0-based, in the order that fixes their colours.
DRAW_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11),
    (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
DRAW_COLORS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip


def missing_pose(num_frames: int = 1) -> np.ndarray:
    """An all-missing (T, 134, 3) array: NaN coordinates, zero scores."""
    kp = np.full((num_frames, NUM_KEYPOINTS, 3), np.nan, dtype=np.float32)
    kp[..., 2] = 0.0
    return kp


def _number(value) -> bool:
    """A real, finite number (bools and text are not)."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and math.isfinite(value))


def _whole(value) -> bool:
    return _number(value) and float(value).is_integer()


def _normalised(keypoints: np.ndarray) -> np.ndarray:
    """Enforce the missing-point convention: NaN (or infinite) x or y -> both NaN and
    score 0; coordinates further out than MAX_COORDINATE are refused (no detector makes
    them, and drawing them overflows)."""
    try:
        kp = np.array(keypoints, dtype=np.float32, copy=True)
    except (TypeError, ValueError) as error:
        raise ValueError(f"keypoints must be numbers ({error})") from None
    if kp.ndim == 2:
        kp = kp[None]
    if kp.ndim != 3 or kp.shape[1:] != (NUM_KEYPOINTS, 3):
        raise ValueError(f"keypoints must have shape (T, {NUM_KEYPOINTS}, 3), got {kp.shape}")
    missing = ~np.isfinite(kp[..., 0]) | ~np.isfinite(kp[..., 1]) | ~np.isfinite(kp[..., 2])
    kp[missing] = (np.nan, np.nan, 0.0)
    if np.nanmax(np.abs(kp[..., :2]), initial=0.0) > MAX_COORDINATE:
        raise ValueError(f"keypoint coordinates must be within {MAX_COORDINATE:g} pixels")
    return kp


# Per-frame JSON parts, OpenPose style: (JSON key, keypoint range).
_JSON_PARTS = (
    ("pose_keypoints_2d", BODY),
    ("foot_keypoints_2d", FEET),
    ("face_keypoints_2d", FACE),
    ("hand_left_keypoints_2d", LEFT_HAND),
    ("hand_right_keypoints_2d", RIGHT_HAND),
)
JSON_FORMAT = "animator.pose/1"


POSE_FILE_SUFFIXES = (".json", ".npz")  # what PoseSequence.save/load read and write
MAX_CANVAS = 16384  # pixels a side of a pose canvas (frames are at most a few thousand)
MAX_POSE_FPS = 1000.0
MAX_COORDINATE = 1e6  # pixels; keypoints may lie off the canvas, not this far
MAX_POSE_FILE_BYTES = 256 * 2**20  # an hour at 25 fps is about 270 MB of JSON


@dataclass
class PoseSequence:
    """One person's whole-body pose over time, in pixels of a width x height image.

    keypoints: (T, 134, 3) float32 of x, y, score; missing points are NaN with score 0.
    A frame where nobody was found is all-missing: it is kept (so frame indices stay
    aligned with the video) and never drawn as a skeleton.
    """

    keypoints: np.ndarray
    width: int
    height: int
    fps: float = 25.0

    def __post_init__(self):
        self.keypoints = _normalised(self.keypoints)
        size = (self.width, self.height)
        if not all(_whole(v) and 0 < v <= MAX_CANVAS for v in size):
            raise ValueError(f"the canvas must be whole pixels from 1 to {MAX_CANVAS} a side, "
                             f"got {self.width!r}x{self.height!r}")
        if not _number(self.fps) or not 0 < self.fps <= MAX_POSE_FPS:
            raise ValueError(f"the frame rate must be a number above 0 and at most "
                             f"{MAX_POSE_FPS}, got {self.fps!r}")
        self.width, self.height, self.fps = int(self.width), int(self.height), float(self.fps)

    @classmethod
    def from_frames(cls, frames, width: int, height: int, fps: float = 25.0) -> PoseSequence:
        """Build from a list of per-frame (134, 3) arrays, None for an empty frame."""
        kp = missing_pose(len(frames))
        for t, frame in enumerate(frames):
            if frame is not None:
                kp[t] = frame
        return cls(kp, width, height, fps)

    def __len__(self) -> int:
        return self.keypoints.shape[0]

    def __getitem__(self, index) -> PoseSequence:
        """Frames by slice, index array or int (an int keeps a length-1 sequence)."""
        kp = self.keypoints[index]
        return PoseSequence(kp, self.width, self.height, self.fps)

    @property
    def xy(self) -> np.ndarray:
        return self.keypoints[..., :2]

    @property
    def scores(self) -> np.ndarray:
        return self.keypoints[..., 2]

    @property
    def duration(self) -> float:
        return len(self) / self.fps

    def valid(self, threshold: float = 0.3) -> np.ndarray:
        """(T, 134) bool: points detected with score >= threshold."""
        return ~np.isnan(self.keypoints[..., 0]) & (self.keypoints[..., 2] >= threshold)

    def present(self, threshold: float = 0.3) -> np.ndarray:
        """(T,) bool: frames in which a person is present (any valid body joint)."""
        return self.valid(threshold)[:, BODY].any(axis=1)

    def copy(self) -> PoseSequence:
        return PoseSequence(self.keypoints.copy(), self.width, self.height, self.fps)

    # --- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict:
        """OpenPose-style JSON (one person per frame; missing points written as 0, 0, 0),
        which pose editors and other animation tools read; an empty frame has no people."""
        frames = []
        for kp in self.keypoints:
            if np.isnan(kp[:, 0]).all():
                frames.append({"people": []})
                continue
            person = {}
            for key, part in _JSON_PARTS:
                values = np.nan_to_num(kp[part], nan=0.0)
                person[key] = [round(float(v), 3) for v in values.reshape(-1)]
            frames.append({"people": [person]})
        return {
            "format": JSON_FORMAT,
            "layout": "DWPose-134: body OpenPose-18, feet 6, face iBUG-68, hands 21+21",
            "canvas_width": self.width,
            "canvas_height": self.height,
            "fps": self.fps,
            "frames": frames,
        }

    @classmethod
    def from_dict(cls, data: dict) -> PoseSequence:
        try:
            frames = data["frames"]
            width, height = data["canvas_width"], data["canvas_height"]
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a pose JSON file (missing {e}); expected {JSON_FORMAT}") from e
        if not isinstance(frames, list):
            raise ValueError(f"\"frames\" must be a list of frames; expected {JSON_FORMAT}")
        kp = missing_pose(len(frames))
        for t, frame in enumerate(frames):
            try:
                people = frame.get("people")
                if not people:
                    continue
                for key, part in _JSON_PARTS:
                    if key in people[0]:
                        values = np.asarray(people[0][key], dtype=np.float32).reshape(-1, 3)
                        absent = (values == 0).all(axis=1)
                        values[absent] = (np.nan, np.nan, 0.0)
                        kp[t, part] = values
            except (AttributeError, TypeError, ValueError, KeyError, IndexError) as e:
                raise ValueError(f"frame {t} is not a pose frame ({e}); expected "
                                 f"{JSON_FORMAT}") from e
        return cls(kp, width, height, data.get("fps", 25.0))

    def save(self, path: str | Path) -> Path:
        """Write .json (OpenPose-style, for other tools) or .npz (exact, compact)."""
        path = Path(path)
        if path.suffix == ".npz":
            np.savez_compressed(
                path, keypoints=self.keypoints, size=np.array([self.width, self.height]),
                fps=np.array(self.fps),
            )
        elif path.suffix == ".json":
            path.write_text(json.dumps(self.to_dict(), separators=(",", ":")))
        else:
            raise ValueError(f"pose files are .json or .npz, got {path.name!r}")
        return path

    @classmethod
    def load(cls, path: str | Path, max_bytes: int = MAX_POSE_FILE_BYTES) -> PoseSequence:
        """A saved sequence; a file over `max_bytes` (uncompressed, for .npz) or malformed
        (nested, wrong types, NaN where numbers belong) is a ValueError that says what is
        wrong (an InputError naming the file, for size and structure)."""
        path = Path(path)
        if path.suffix == ".npz":
            with zipfile.ZipFile(path) as archive:  # sizes first: a .npz is a zip archive
                inflated = sum(info.file_size for info in archive.infolist())
            if inflated > max_bytes:
                raise InputError(f"The pose file {path.name} unpacks to "
                                 f"{inflated / 2**20:.0f} MB; the limit is "
                                 f"{max_bytes / 2**20:g} MB.")
            with np.load(path, allow_pickle=False) as data:
                size, fps = np.asarray(data["size"]).tolist(), np.asarray(data["fps"])
                if not (isinstance(size, list) and len(size) == 2 and fps.size == 1):
                    raise ValueError("size must hold width and height, and fps one number")
                return cls(data["keypoints"], *size, fps.item())
        if path.suffix == ".json":
            return cls.from_dict(read_json(path, max_bytes=max_bytes, what="pose file"))
        raise ValueError(f"pose files are .json or .npz, got {path.name!r}")
