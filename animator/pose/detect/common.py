"""What every detector shares: image and frame checks, the DWPose-134 conventions applied to
raw points (`_finish`: missing points NaN with score 0, points beyond the picture kept, the
neck from the shoulders), the COCO-WholeBody mapping, keypoint boxes and overlaps, and the person
index checks (`check_person_index`, `_chosen`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from animator.errors import InputError
from animator.pose.skeleton import (
    BODY,
    L_SHOULDER,
    NECK,
    NUM_KEYPOINTS,
    R_SHOULDER,
)

VISIBLE = 0.3  # the usual DWPose visibility threshold (body, face)

# COCO-WholeBody-133 source of each DWPose-134 index (-1: the neck, built afterwards).
# Body: COCO-17 -> OpenPose-18; from index 18 on (feet, face, hands) the order is COCO's,
# shifted by the inserted neck.
_FROM_COCO = np.array(
    [0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, *range(17, 133)]
)


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """A C-contiguous RGB uint8 (H, W, 3) array; grey and RGBA images are converted."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InputError(f"expected an 8-bit image, got dtype {image.dtype}; pass uint8 RGB")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise InputError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    return np.ascontiguousarray(image)


def _finish(kp: np.ndarray, width: int, height: int) -> np.ndarray:
    """Apply the layout's conventions to raw (..., 134, 3) points: points with no score or
    no finite position become missing, then the neck is added from the shoulders.

    Two facts of the public preprocessing (Wan2.2's pose2d_utils.split_kp2ds_for_aa, and
    DWPose's wholebody.py before its drawing rule): the neck is the mean of the two shoulder
    rows, score included, so its score is the shoulders' average; and a point beyond the
    picture is kept (a limb leaving the frame is drawn up to the edge, not cut short).
    `width` and `height` are the picture's size, kept in the signature for callers."""
    del width, height  # points beyond the picture are kept (see above)
    kp = np.array(kp, dtype=np.float32)
    finite = np.isfinite(kp[..., :2]).all(axis=-1)
    kp[~(finite & (kp[..., 2] > 0))] = (np.nan, np.nan, 0.0)
    shoulders = kp[..., [R_SHOULDER, L_SHOULDER], :]
    kp[..., NECK, :2] = shoulders[..., :2].mean(axis=-2)  # a missing shoulder: NaN neck
    kp[..., NECK, 2] = np.where(np.isfinite(kp[..., NECK, 0]),
                                shoulders[..., 2].mean(axis=-1), 0.0)
    return kp


def coco_wholebody_to_dwpose(
    keypoints: np.ndarray, scores: np.ndarray, width: int, height: int
) -> np.ndarray:
    """(N, 133, 2) pixels + (N, 133) scores in COCO-WholeBody order -> (N, 134, 3)."""
    raw = np.concatenate([keypoints, scores[..., None]], axis=-1)[:, _FROM_COCO]
    return _finish(raw, width, height)


def _is_person(pose: np.ndarray) -> bool:
    return bool((pose[BODY, 2] >= VISIBLE).any())


def keypoint_box(pose: np.ndarray, threshold: float = VISIBLE) -> np.ndarray | None:
    """xyxy box around the points scored >= threshold, None with fewer than two."""
    xy = pose[pose[:, 2] >= threshold, :2]
    if len(xy) < 2:
        return None
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


def box_iou(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _check_frame(frame: np.ndarray, index: int, width: int, height: int) -> np.ndarray:
    frame = _as_rgb(frame)
    if frame.shape[:2] != (height, width):
        raise InputError(
            f"video frame {index} is {frame.shape[1]}x{frame.shape[0]}, expected "
            f"{width}x{height}; decode all frames at one size"
        )
    return frame



def check_person_index(person) -> int:
    """The person index as an int >= 0, or a clear InputError."""
    if isinstance(person, bool) or not isinstance(person, (int, np.integer)) or person < 0:
        raise InputError(f"person must be a whole number from 0 (the largest person), got "
                         f"{person!r}")
    return int(person)


def _chosen(person: int, count: int, where: str) -> int:
    if person >= count:
        raise InputError(
            f"Person {person} was asked for, but {where} shows {count} "
            f"{'person' if count == 1 else 'people'} (numbered 0 to {count - 1}, largest "
            "first); choose one of those numbers.")
    return person


def person_size(pose: np.ndarray) -> float:
    """Sort key of a person: keypoint-box area x mean body score."""
    box = keypoint_box(pose)
    if box is None:
        return 0.0
    return float((box[2] - box[0]) * (box[3] - box[1]) * np.nan_to_num(pose[BODY, 2]).mean())


def _overlaps(a: np.ndarray | None, b: np.ndarray | None, share: float = 0.5) -> bool:
    """Intersection over the smaller box above `share`: one person seen twice."""
    if a is None or b is None:
        return False
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return bool(w > 0 and h > 0 and w * h > share * max(smaller, 1e-6))


def _no_people() -> np.ndarray:
    return np.zeros((0, NUM_KEYPOINTS, 3), dtype=np.float32)


def _frames_with_size(frames: Iterable[np.ndarray], width: int, height: int):
    for index, frame in enumerate(frames):
        yield _check_frame(frame, index, width, height)
