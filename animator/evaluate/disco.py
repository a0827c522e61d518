"""DisCo's pixel scores: the conventions behind the TikTok tables of DisCo (Wang et al.,
CVPR 2024), Animate Anyone, MagicAnimate, MimicMotion and UniAnimate.

Those tables come from DisCo's public evaluation code (github.com/Wangt-CN/DisCo,
`tool/metrics/ssim_l1_lpips_psnr.py`, run by `gen_eval.sh` on folders of PNG frames). Its
conventions differ from the textbook ones (`pixels.py`), and the numbers are only
comparable when they are kept:

- L1: mean |generated - truth| over pixels and channels in 0-255 levels, divided by H * W
  (so a 256x256 frame that is off by 25 levels scores 3.8e-4, as the tables print);
- PSNR: the squared error is computed on the uint8 arrays as read, so the difference and
  its square wrap around modulo 256 (a frame 16 levels off everywhere has "no error");
  identical frames (MSE 0) score 100 dB. DisCo fixed the overflow in April 2024 (commit
  6190108, float64 difference); later papers print that value as PSNR*, kept here as
  `psnr_star`;
- SSIM: on grayscale (OpenCV's BGR->gray of the frames) with scikit-image's defaults:
  a 7x7 uniform window, sample covariances, data range 255;
- a generated frame of another size is first resized to the truth's (cv2.resize, bilinear).

Per-clip scores are means over frames; DisCo's table numbers are means over every frame of
the test set (`report.py` pools them so when several clips are evaluated).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from animator.evaluate.pixels import check_side
from animator.evaluate.ssim import ssim, window

MIN_SIDE = window(gaussian=False)  # scikit-image's default SSIM window
IDENTICAL_DB = 100.0  # DisCo's score for an MSE of 0


def disco_l1(frame: np.ndarray, truth: np.ndarray) -> float:
    diff = np.abs(frame.astype(np.float64) - truth.astype(np.float64))
    return float(diff.mean() / (truth.shape[0] * truth.shape[1]))


def _psnr(mse: float) -> float:
    return IDENTICAL_DB if mse == 0 else 20 * math.log10(255.0 / math.sqrt(mse))


def disco_psnr(frame: np.ndarray, truth: np.ndarray) -> float:
    """PSNR as DisCo's tables computed it: (truth - frame) ** 2 in uint8 arithmetic."""
    wrapped = (frame.astype(np.uint8) - truth.astype(np.uint8)) ** 2  # stays uint8: wraps
    return _psnr(float(np.mean(wrapped)))


def disco_psnr_star(frame: np.ndarray, truth: np.ndarray) -> float:
    """DisCo's corrected PSNR (float64 difference), 100 dB for identical frames."""
    return _psnr(float(np.mean((truth.astype(np.float64) - frame.astype(np.float64)) ** 2)))


def disco_ssim(frame: np.ndarray, truth: np.ndarray) -> float:
    """SSIM of the grayscale frames with scikit-image's defaults (7x7 uniform window)."""
    gray = [cv2.cvtColor(np.ascontiguousarray(x), cv2.COLOR_RGB2GRAY) for x in (frame, truth)]
    return ssim(gray[1], gray[0], gaussian=False)


def to_truth_size(frame: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """DisCo resizes the generated frame to the truth's size (OpenCV's default, bilinear)."""
    if frame.shape == truth.shape:
        return frame
    return cv2.resize(frame, (truth.shape[1], truth.shape[0]))


class DiscoPixelScores:
    """`PixelScores` with DisCo's conventions (module docstring); same interface."""

    protocol = "disco"
    min_side = MIN_SIDE
    keys = ("l1", "psnr", "psnr_star", "ssim")

    def __init__(self):
        self.l1: list[float] = []
        self.psnr: list[float] = []
        self.psnr_star: list[float] = []
        self.ssim: list[float] = []

    def add(self, frame: np.ndarray, truth: np.ndarray) -> None:
        check_side(truth.shape, self.min_side, self.protocol)
        frame = to_truth_size(frame, truth)
        self.l1.append(disco_l1(frame, truth))
        self.psnr.append(disco_psnr(frame, truth))
        self.psnr_star.append(disco_psnr_star(frame, truth))
        self.ssim.append(disco_ssim(frame, truth))

    def summary(self) -> dict[str, float | None]:
        if not self.l1:
            return {**dict.fromkeys(self.keys), "frames": 0}
        return {**{k: float(np.mean(getattr(self, k))) for k in self.keys},
                "frames": len(self.l1)}


__all__ = ["DiscoPixelScores", "disco_l1", "disco_psnr", "disco_psnr_star", "disco_ssim",
           "to_truth_size"]
