"""animator.video.layout."""

from __future__ import annotations

import numpy as np

from animator.video import side_by_side


def test_side_by_side_sizes():
    a, b = np.zeros((64, 80, 3), np.uint8), np.full((32, 20, 3), 255, np.uint8)
    grid = side_by_side(a, b, gap=3)
    assert grid.shape == (64, 124, 3)  # 80 + 3 + 40, widened by one to be even
    assert grid[:, 83:].min() == 255 and grid[:, 80:83].max() == 0
    assert side_by_side(a, b, height=33).shape == (34, 42 + 22, 3)  # 21 widened to 22
