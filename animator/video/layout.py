"""Frames placed side by side (input | pose | output), sized for H.264."""

from __future__ import annotations

import cv2
import numpy as np


def side_by_side(*frames: np.ndarray, height: int | None = None, gap: int = 0) -> np.ndarray:
    """Frames resized to one height (the first frame's unless given), aspect kept, placed left
    to right with `gap` black pixels between; width and height come out even for H.264."""
    if not frames:
        raise ValueError("side_by_side needs at least one frame")
    height = height or frames[0].shape[0]
    height += height % 2
    widths = [max(1, round(f.shape[1] * height / f.shape[0])) for f in frames]
    widths[-1] += (sum(widths) + gap * (len(frames) - 1)) % 2
    out = np.zeros((height, sum(widths) + gap * (len(frames) - 1), 3), np.uint8)
    x = 0
    for frame, width in zip(frames, widths, strict=True):
        shrink = width * height < frame.shape[0] * frame.shape[1]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out[:, x : x + width] = cv2.resize(frame, (width, height), interpolation=interp)
        x += width + gap
    return out
