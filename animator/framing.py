"""Fitting the portrait, and the poses drawn in its pixels, to the generator's canvas.

The generator works at a few fixed sizes (576x1024 and the like) while portraits come in
any shape. We crop the largest window of the canvas's aspect that keeps the person in
view, then scale it: the same crop and scale go to every pose, so skeletons stay on the
body they were retargeted to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from animator.pose.skeleton import PoseSequence


def choose_size(width: int, height: int,
                sizes: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """(width, height) for a width x height portrait: of the model's trained sizes
    ((height, width) pairs), each also turned on its side, the one closest in aspect."""
    candidates = [(w, h) for h, w in sizes] + [(h, w) for h, w in sizes]
    aspect = math.log(width / height)
    return min(candidates, key=lambda wh: abs(math.log(wh[0] / wh[1]) - aspect))


@dataclass(frozen=True)
class Framing:
    """Crop box (x0, y0, crop_w, crop_h) in portrait pixels, scaled to width x height."""

    x0: float
    y0: float
    crop_w: float
    crop_h: float
    width: int
    height: int

    @classmethod
    def around(cls, image_size: tuple[int, int], canvas: tuple[int, int],
               center_x: float | None = None) -> Framing:
        """The largest crop of the canvas's aspect, centred on `center_x` (the person)
        horizontally and kept at the top vertically (heads are at the top of portraits)."""
        img_w, img_h = image_size
        width, height = canvas
        scale = min(img_w / width, img_h / height)
        crop_w, crop_h = width * scale, height * scale
        cx = img_w / 2 if center_x is None else center_x
        x0 = float(np.clip(cx - crop_w / 2, 0, img_w - crop_w))
        return cls(x0, 0.0, crop_w, crop_h, width, height)

    @property
    def scale(self) -> float:
        return self.width / self.crop_w

    def image(self, image: np.ndarray) -> np.ndarray:
        """Crop and resize an RGB image to the canvas."""
        m = np.array([[self.scale, 0, -self.x0 * self.scale],
                      [0, self.scale, -self.y0 * self.scale]], dtype=np.float64)
        interp = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_CUBIC
        return cv2.warpAffine(image, m, (self.width, self.height), flags=interp,
                              borderMode=cv2.BORDER_REPLICATE)

    def poses(self, poses: PoseSequence) -> PoseSequence:
        """The same crop and scale applied to keypoints (scores kept)."""
        kp = poses.keypoints.copy()
        kp[..., 0] = (kp[..., 0] - self.x0) * self.scale
        kp[..., 1] = (kp[..., 1] - self.y0) * self.scale
        return PoseSequence(kp, self.width, self.height, poses.fps)
