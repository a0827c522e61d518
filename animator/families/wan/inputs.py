"""Wan-Animate's inputs, made by our front end instead of Wan2.2's preprocessing script.

Facts of Wan2.2's `wan/modules/animate/preprocess/` (read, not copied): the generation size
is the portrait's (animate) or the footage's (replace) aspect at the model's area, sides
floored to multiples of 16; images go to that size by `padding_resize` (fit inside, keep
the aspect, centre, pad black), the footage by `resize_by_area` (area interpolation when
shrinking), the portrait linearly from the file as given (`prepare_source` reads the
original `src_ref.png`); the face video is a per-frame box around the 68 face
points whose area is scaled by 1.3 (the extra height going 3/4 up, 1/4 down), cropped and
resized to 512x512; the replace-mode mask is the person's mask dilated by a 7x7 kernel 3
times and then filled on a `w_len` x `h_len` grid of its bounding box (1 x 1 by default: the
whole box), and the background video is the footage with that mask blacked out.

What we add: the box is smoothed over time (their per-frame boxes jitter), frames without a
face keep the nearest face, lead-in frames use the first driving face (through
`driver_index`), and the mask comes from MediaPipe's bundled selfie segmentation or from
the pose hull, never from a second model download.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from animator.pose.skeleton import FACE, PoseSequence

FACE_SIZE = 512  # their face crops' side
FACE_SCALE = 1.3  # their face box's area factor
MIN_FACE_POINTS = 10  # fewer detected face points than this: no face in that frame
MASK_KERNEL, MASK_ITERATIONS = 7, 3  # their mask growth
MASK_SOURCES = ("segmentation", "hull")


def model_size(width: int, height: int, area: int, divisor: int = 16) -> tuple[int, int]:
    """(width, height) of a width x height picture at `area` pixels, sides floored to
    multiples of `divisor`, as their `resize_by_area` ends up computing it."""
    aspect = width / height
    new_h = math.sqrt(area / aspect)
    new_w = area / new_h
    return int(new_w // divisor) * divisor, int(new_h // divisor) * divisor


@dataclass(frozen=True)
class Padding:
    """Fit-inside resize then centred black padding (their `padding_resize`), as a map."""

    inner: tuple[int, int]  # (width, height) of the resized picture inside the canvas
    offset: tuple[int, int]  # its top-left corner on the canvas
    source: tuple[int, int]  # (width, height) of the picture
    size: tuple[int, int]  # (width, height) of the canvas

    @classmethod
    def fit(cls, source: tuple[int, int], size: tuple[int, int]) -> Padding:
        (w0, h0), (w, h) = source, size
        if h0 / w0 > h / w:
            inner = (int(h / h0 * w0), h)
            return cls(inner, (int((w - inner[0]) / 2), 0), source, size)
        inner = (w, int(w / w0 * h0))
        return cls(inner, (0, int((h - inner[1]) / 2)), source, size)

    def image(self, image: np.ndarray, interpolation: int | None = None) -> np.ndarray:
        """An (H, W) or (H, W, 3) picture of the source's size, fitted onto the canvas.
        By default as their `resize_by_area` does it (the footage in replace mode): area
        interpolation when shrinking, linear otherwise."""
        if interpolation is None:
            (w0, h0), (w, h) = self.source, self.inner
            interpolation = cv2.INTER_AREA if w * h < w0 * h0 else cv2.INTER_LINEAR
        resized = cv2.resize(image, self.inner, interpolation=interpolation)
        out = np.zeros((self.size[1], self.size[0], *image.shape[2:]), image.dtype)
        (dx, dy), (w, h) = self.offset, self.inner
        out[dy:dy + h, dx:dx + w] = resized
        return out

    def keypoints(self, keypoints: np.ndarray) -> np.ndarray:
        """(..., 134, 3) keypoints of the source mapped onto the canvas (scores kept)."""
        kp = np.array(keypoints, dtype=np.float64, copy=True)
        for axis in (0, 1):
            kp[..., axis] = kp[..., axis] * self.inner[axis] / self.source[axis] \
                + self.offset[axis]
        return kp

    def poses(self, poses: PoseSequence) -> PoseSequence:
        return PoseSequence(self.keypoints(poses.keypoints).astype(np.float32), self.size[0],
                            self.size[1], poses.fps)


# --- the face video ------------------------------------------------------------------------


def face_box(face_xy: np.ndarray, scale: float = FACE_SCALE) -> np.ndarray | None:
    """(x1, y1, x2, y2), unclipped floats, around one frame's face points as their
    `get_face_bboxes` expands it; None when too few points were detected."""
    pts = face_xy[np.isfinite(face_xy).all(axis=1)]
    if len(pts) < MIN_FACE_POINTS:
        return None
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    area = w * h * scale
    new_w, new_h = math.sqrt(area * w / h), math.sqrt(area * h / w)
    dw, dh = (new_w - w) / 2, (new_h - h) / 4
    return np.array([x0 - dw, y0 - 3 * dh, x1 + dw, y1 + dh])


def face_boxes(poses: PoseSequence, smoothing: int = 5) -> np.ndarray | None:
    """One box per frame of `poses`: frames without a face take the nearest frame's box,
    then each coordinate is averaged over `smoothing` frames centred on the frame (the
    ends use the frames they have). None when no frame shows a face."""
    boxes = [face_box(kp[FACE, :2]) for kp in poses.keypoints]
    found = np.array([b is not None for b in boxes])
    if not found.any():
        return None
    have = np.flatnonzero(found)
    nearest = have[np.abs(np.arange(len(boxes))[:, None] - have[None]).argmin(axis=1)]
    raw = np.stack([boxes[i] for i in nearest])
    if smoothing <= 1:
        return raw
    half = smoothing // 2
    csum = np.concatenate([np.zeros((1, 4)), np.cumsum(raw, axis=0)])
    lo = np.clip(np.arange(len(raw)) - half, 0, len(raw))
    hi = np.clip(np.arange(len(raw)) + half + 1, 0, len(raw))
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]


def crop_face(frame: np.ndarray, box: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """The box (clipped to the frame, truncated to pixels as theirs is) resized to size^2."""
    h, w = frame.shape[:2]
    x1, x2 = int(max(box[0], 0)), int(min(box[2], w))
    y1, y2 = int(max(box[1], 0)), int(min(box[3], h))
    if x2 - x1 < 2 or y2 - y1 < 2:  # a face off the picture: the nearest strip of it
        x1, y1 = min(max(x1, 0), w - 2), min(max(y1, 0), h - 2)
        x2, y2 = max(x2, x1 + 2), max(y2, y1 + 2)
    return cv2.resize(frame[y1:y2, x1:x2], (size, size))


def face_video(frames: Sequence[np.ndarray], poses: PoseSequence, driver_index: Sequence[int],
               smoothing: int = 5, size: int = FACE_SIZE) -> list[np.ndarray] | None:
    """The face video: for each output frame, the driver's face crop from the driving frame
    behind it. None when the driver never shows a face."""
    boxes = face_boxes(poses, smoothing)
    if boxes is None:
        return None
    return [crop_face(frames[j], boxes[j], size) for j in driver_index]


# --- replace mode: the person's mask and the background ----------------------------------------


class _Segmenter:
    """MediaPipe's selfie segmentation (its model ships in the wheel), one per run."""

    def __init__(self):
        import mediapipe as mp

        self._model = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        result = self._model.process(np.ascontiguousarray(frame))
        return (result.segmentation_mask > 0.5).astype(np.uint8)

    def close(self) -> None:
        self._model.close()


def hull_mask(keypoints: np.ndarray, width: int, height: int) -> np.ndarray:
    """The convex hull of one frame's detected points, widened by a tenth of the person's
    height (keypoints sit inside the body: limbs have width, hair is above the eyes)."""
    mask = np.zeros((height, width), np.uint8)
    pts = keypoints[:, :2][np.isfinite(keypoints[:, :2]).all(axis=1) & (keypoints[:, 2] > 0)]
    if len(pts) < 3:
        return mask
    hull = cv2.convexHull(np.round(pts).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1)
    margin = max(int(0.1 * np.ptp(pts[:, 1])), 1)
    return cv2.dilate(mask, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))


def grow_mask(mask: np.ndarray, w_len: int = 1, h_len: int = 1,
              kernel: int = MASK_KERNEL, iterations: int = MASK_ITERATIONS) -> np.ndarray:
    """Their growth: dilate, then fill every cell of a w_len x h_len grid over the mask's
    bounding box that the mask touches (1 x 1: the whole box)."""
    grown = cv2.dilate(mask.astype(np.uint8), np.ones((kernel, kernel), np.uint8),
                       iterations=iterations)
    ys, xs = np.nonzero(grown)
    if not len(xs):
        return grown
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    step_x, step_y = max(int((x1 - x0) / w_len), 1), max(int((y1 - y0) / h_len), 1)
    for xa in range(x0, x1, step_x):
        for ya in range(y0, y1, step_y):
            xb, yb = min(xa + step_x, x1), min(ya + step_y, y1)
            if grown[ya:yb, xa:xb].any():
                grown[ya:yb, xa:xb] = 1
    return grown


def person_masks(frames: Sequence[np.ndarray], poses: PoseSequence, source: str = "segmentation",
                 w_len: int = 1, h_len: int = 1, grow: bool = True) -> list[np.ndarray]:
    """One 0/1 uint8 mask per driving frame (1 = the person, to be generated), grown as
    theirs unless `grow` is False (to grow it after resizing to the generation size)."""
    if source not in MASK_SOURCES:
        raise ValueError(f"mask source must be one of {MASK_SOURCES}, got {source!r}")
    masks = []
    segmenter = _Segmenter() if source == "segmentation" else None
    try:
        for frame, kp in zip(frames, poses.keypoints, strict=True):
            h, w = frame.shape[:2]
            raw = segmenter(frame) if segmenter is not None else hull_mask(kp, w, h)
            masks.append(grow_mask(raw, w_len, h_len) if grow else raw)
    finally:
        if segmenter is not None:
            segmenter.close()
    return masks
