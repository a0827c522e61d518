"""Flicker: the warping error between consecutive frames (Lai et al., ECCV 2018).

Frame t-1 is warped onto frame t along the optical flow between them (OpenCV's DIS flow,
on frames scaled down to `flow_side` for speed), and the mean absolute difference to frame
t over the pixels the flow explains is the frame's flicker. What moves smoothly warps onto
itself and scores near zero; a brightness pulse, texture that boils or a face that changes
from frame to frame does not. Pixels that the motion uncovers are left out: a pixel counts
only when the forward and backward flows agree (Sundaram et al.'s consistency test).
Scores are in 8-bit levels (0-255), on RGB.
"""

from __future__ import annotations

import cv2
import numpy as np


def _small(frame: np.ndarray, side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return frame
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


class WarpingError:
    """Feed frames in order; `scores` holds one flicker value per frame (NaN for the first)."""

    def __init__(self, flow_side: int = 256):
        self.flow_side = flow_side
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self._grid: np.ndarray | None = None
        self.scores: list[float] = []

    def _flow(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For each pixel of `a`, where it went in `b`."""
        return self._dis.calc(a, b, None)

    def add(self, frame: np.ndarray) -> float:
        color = _small(frame, self.flow_side).astype(np.float32)
        gray = cv2.cvtColor(color.astype(np.uint8), cv2.COLOR_RGB2GRAY)
        if self._prev is None or self._prev[0].shape != color.shape:
            self._prev = color, gray
            h, w = gray.shape
            self._grid = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32),
                                               np.arange(h, dtype=np.float32)))
            self.scores.append(float("nan"))
            return self.scores[-1]
        prev_color, prev_gray = self._prev
        back = self._flow(gray, prev_gray)  # frame t -> t-1
        fwd = self._flow(prev_gray, gray)  # frame t-1 -> t
        where = self._grid + back
        warped = cv2.remap(prev_color, where, None, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        # Consistency: going back then forward should land where we started.
        fwd_there = cv2.remap(fwd, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        loop = np.sum((back + fwd_there) ** 2, axis=-1)
        bound = 0.01 * (np.sum(back ** 2, axis=-1) + np.sum(fwd_there ** 2, axis=-1)) + 0.5
        inside = ((where[..., 0] >= 0) & (where[..., 0] <= gray.shape[1] - 1)
                  & (where[..., 1] >= 0) & (where[..., 1] <= gray.shape[0] - 1))
        mask = (loop < bound) & inside
        diff = np.abs(color - warped).mean(axis=-1)
        score = float(diff[mask].mean()) if mask.any() else float(diff.mean())
        self._prev = color, gray
        self.scores.append(score)
        return score

    @property
    def mean(self) -> float | None:
        values = np.asarray(self.scores[1:], dtype=np.float64)
        return float(values.mean()) if len(values) else None


def warping_error(frames) -> WarpingError:
    """Flicker of a sequence of RGB uint8 frames."""
    meter = WarpingError()
    for frame in frames:
        meter.add(frame)
    return meter


__all__ = ["WarpingError", "warping_error"]
