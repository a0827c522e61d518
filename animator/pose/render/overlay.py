"""`overlay_pose`: a skeleton over the image it was detected on, for previews.
"""

from __future__ import annotations

import cv2
import numpy as np

from animator.errors import InputError
from animator.pose.render.dwpose import draw_pose

_OVERLAY_DIM = 0.75  # image brightness under an overlay, so the skeleton reads clearly


def overlay_pose(
    image: np.ndarray, pose: np.ndarray, *, alpha: float = 0.7, **draw_kw
) -> np.ndarray:
    """The skeleton of `pose` (pixels of `image`) over an RGB uint8 image, for previews.

    The image is dimmed a little and skeleton pixels are blended over it with `alpha`,
    so the skeleton reads clearly on bright and busy images alike.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise InputError(
            f"overlay needs an RGB uint8 image of shape (H, W, 3), got {image.dtype} "
            f"{image.shape}; convert the image to 8-bit RGB first."
        )
    height, width = image.shape[:2]
    skeleton = draw_pose(pose, width, height, **draw_kw)
    out = cv2.convertScaleAbs(image, alpha=_OVERLAY_DIM)
    # where any channel is drawn; OR-ing the channels is ~10x faster than any(axis=2)
    drawn = np.flatnonzero((skeleton[..., 0] | skeleton[..., 1] | skeleton[..., 2]) != 0)
    pixels, skeleton = out.reshape(-1, 3), skeleton.reshape(-1, 3)
    blended = alpha * skeleton[drawn].astype(np.float32) + (1 - alpha) * pixels[drawn]
    pixels[drawn] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out
