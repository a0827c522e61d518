"""SSIM (Wang et al. 2004) exactly as scikit-image computes it, ten times faster.

`skimage.metrics.structural_similarity` filters in float64 with scipy's `ndimage`: about
80 ms for a 512x512 RGB frame here, 24 s for a 10 s clip. The same sums with OpenCV's
separable filters, in float64, take a tenth of that and agree to ~1e-12 (tests compare
with scikit-image). The conventions kept:

- Gaussian window (`gaussian=True`, the standard protocol): sigma 1.5, scipy's truncation
  at 3.5 sigma (an 11-tap kernel), population covariances;
- uniform window (DisCo's, scikit-image's default): 7x7, sample covariances (N / (N - 1));
- K1 = 0.01, K2 = 0.03, data range 255; the map is averaged after cropping (win - 1) / 2
  px from every side, so no pixel that depends on the border rule counts; several
  channels: the mean of the channels' SSIM.
"""

from __future__ import annotations

import cv2
import numpy as np

SIGMA, TRUNCATE = 1.5, 3.5
UNIFORM = 7
K1, K2, RANGE = 0.01, 0.03, 255.0


def _gaussian_kernel() -> np.ndarray:
    radius = int(TRUNCATE * SIGMA + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / SIGMA) ** 2)
    return k / k.sum()


_GAUSS = _gaussian_kernel()
_BOX = np.full(UNIFORM, 1.0 / UNIFORM)


def _ssim_channel(a: np.ndarray, b: np.ndarray, kernel: np.ndarray, norm: float) -> float:
    def blur(x):
        return cv2.sepFilter2D(x, cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_REFLECT)

    ua, ub = blur(a), blur(b)
    va = norm * (blur(a * a) - ua * ua)
    vb = norm * (blur(b * b) - ub * ub)
    cov = norm * (blur(a * b) - ua * ub)
    c1, c2 = (K1 * RANGE) ** 2, (K2 * RANGE) ** 2
    s = ((2 * ua * ub + c1) * (2 * cov + c2)) / ((ua * ua + ub * ub + c1) * (va + vb + c2))
    pad = (len(kernel) - 1) // 2
    return float(s[pad:-pad, pad:-pad].mean())


def ssim(a: np.ndarray, b: np.ndarray, gaussian: bool = True) -> float:
    """SSIM of two uint8 images (H, W) or (H, W, C) of one size (module docstring)."""
    kernel = _GAUSS if gaussian else _BOX
    n = len(kernel) ** 2
    norm = 1.0 if gaussian else n / (n - 1)
    a, b = a.astype(np.float64), b.astype(np.float64)
    if a.ndim == 2:
        return _ssim_channel(a, b, kernel, norm)
    return float(np.mean([_ssim_channel(np.ascontiguousarray(a[..., c]),
                                        np.ascontiguousarray(b[..., c]), kernel, norm)
                          for c in range(a.shape[2])]))


def window(gaussian: bool = True) -> int:
    """The window's side: frames must be at least this big."""
    return len(_GAUSS) if gaussian else UNIFORM


__all__ = ["ssim", "window"]
