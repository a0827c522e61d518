"""Our SSIM is scikit-image's, to rounding: both windows, colour and gray, the smallest
frame each window allows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from animator.evaluate.ssim import ssim


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    a = cv2.GaussianBlur(rng.integers(0, 256, (96, 80, 3), dtype=np.uint8), (0, 0), 2)
    b = np.clip(a.astype(int) + rng.integers(-30, 30, a.shape), 0, 255).astype(np.uint8)
    return a, b


@pytest.mark.parametrize("crop", [None, (11, 13)])
def test_gaussian_window_on_rgb_is_scikit_images(pair, crop):
    a, b = (x[: crop[0], : crop[1]] for x in pair) if crop else pair
    expected = structural_similarity(a, b, channel_axis=2, data_range=255,
                                     gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)
    assert ssim(a, b) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("crop", [None, (7, 9)])
def test_uniform_window_on_gray_is_scikit_images_default(pair, crop):
    a, b = (x[..., 1] for x in pair)
    if crop:
        a, b = a[: crop[0], : crop[1]], b[: crop[0], : crop[1]]
    expected = structural_similarity(a, b, data_range=255)
    assert ssim(a, b, gaussian=False) == pytest.approx(expected, abs=1e-12)
    assert ssim(a, a, gaussian=False) == 1.0
