"""Pixel agreement with a ground-truth video (self-driven reconstruction): L1, PSNR, SSIM.

Reconstruction benchmarks (TikTok, TED-talks) drive a portrait with the video it was taken
from, so the driving video is the ground truth. These are the numbers papers print:
L1 on [0, 1] intensities, PSNR in dB (peak 255; identical frames score infinity), SSIM on
RGB with scikit-image's Gaussian window (as Wang et al. 2004; `ssim.py` computes the same
value faster).
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio

from animator.errors import InputError
from animator.evaluate.ssim import ssim, window

MIN_SIDE = window()  # SSIM's Gaussian window is 11 x 11: smaller frames have no SSIM


def check_side(shape: tuple[int, ...], min_side: int, protocol: str) -> None:
    """Refuse frames too small for the SSIM window (scikit-image would raise mid-clip)."""
    if min(shape[:2]) < min_side:
        raise InputError(f"The frames are {shape[1]}x{shape[0]}: SSIM ({protocol} protocol) "
                         f"needs at least {min_side} px on each side. Evaluate the clip at "
                         "its rendered size, or leave out --ground-truth.")


class PixelScores:
    """Feed (generated, ground-truth) frame pairs of the same size."""

    protocol = "standard"
    min_side = MIN_SIDE
    keys = ("l1", "psnr", "ssim")

    def __init__(self):
        self.l1: list[float] = []
        self.psnr: list[float] = []
        self.ssim: list[float] = []

    def add(self, frame: np.ndarray, truth: np.ndarray) -> None:
        if frame.shape != truth.shape:
            raise ValueError(f"frame {frame.shape} and ground truth {truth.shape} differ in size")
        check_side(frame.shape, self.min_side, self.protocol)
        diff = np.abs(frame.astype(np.int16) - truth.astype(np.int16))
        self.l1.append(float(diff.mean() / 255.0))
        if diff.any():
            self.psnr.append(float(peak_signal_noise_ratio(truth, frame, data_range=255)))
            self.ssim.append(ssim(truth, frame))
        else:  # skimage divides by zero here; the answer is known
            self.psnr.append(float("inf"))
            self.ssim.append(1.0)

    def summary(self) -> dict[str, float | None]:
        if not self.l1:
            return {"l1": None, "psnr": None, "ssim": None, "frames": 0}
        psnr = np.asarray(self.psnr)
        finite = psnr[np.isfinite(psnr)]
        # The mean of per-frame PSNR, as papers report it; a clip that matches in every frame
        # scores infinity, one that matches in some frames averages the others.
        return {"l1": float(np.mean(self.l1)),
                "psnr": float(finite.mean()) if len(finite) else float("inf"),
                "ssim": float(np.mean(self.ssim)), "frames": len(self.l1)}


__all__ = ["PixelScores"]
