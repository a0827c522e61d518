"""`--protocol disco`: DisCo's evaluation conventions, on inputs whose answers are known.

DisCo's code (tool/metrics/ssim_l1_lpips_psnr.py) computes PSNR on uint8 arrays, so the
error wraps modulo 256; L1 is divided by H * W; SSIM is scikit-image's default 7x7 uniform
window on grayscale; LPIPS is VGG fed [0, 1]. Each test below has an answer that only those
conventions give (the standard protocol's answer is checked to differ).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch
from scipy.ndimage import uniform_filter
from torch.nn import functional as F

from animator.errors import InputError
from animator.evaluate.disco import DiscoPixelScores, disco_l1, disco_psnr, disco_ssim
from animator.evaluate.lpips import load_lpips
from animator.evaluate.pixels import PixelScores
from animator.evaluate.truth import TruthComparison


def flat(value: int, shape=(256, 256, 3)) -> np.ndarray:
    return np.full(shape, value, np.uint8)


def test_psnr_wraps_around_as_in_the_tables():
    truth = flat(100)
    # 20 levels off: 400 wraps to 144 in uint8, so the "error" is 12 levels.
    assert disco_psnr(flat(120), truth) == pytest.approx(20 * math.log10(255 / 12))
    # 16 levels off: 256 wraps to 0, and no error at all scores DisCo's 100 dB.
    assert disco_psnr(flat(116), truth) == 100.0
    assert disco_psnr(truth, truth) == 100.0
    scores = DiscoPixelScores()
    scores.add(flat(120), truth)
    assert scores.summary()["psnr_star"] == pytest.approx(20 * math.log10(255 / 20))
    standard = PixelScores()
    standard.add(truth, truth)
    assert standard.summary()["psnr"] == math.inf


def test_l1_is_divided_by_the_pixel_count():
    assert disco_l1(flat(125), flat(100)) == pytest.approx(25 / (256 * 256))
    assert disco_l1(flat(125, (64, 32, 3)), flat(100, (64, 32, 3))) == pytest.approx(25 / 2048)


def _ssim_by_hand(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al.'s SSIM with scikit-image's defaults: 7x7 uniform window, sample
    covariances (N / (N - 1)), K1 0.01, K2 0.03, L 255, border of 3 px left out."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    n = 49
    mean = [uniform_filter(x, 7) for x in (a, b)]
    va = (uniform_filter(a * a, 7) - mean[0] ** 2) * n / (n - 1)
    vb = (uniform_filter(b * b, 7) - mean[1] ** 2) * n / (n - 1)
    cov = (uniform_filter(a * b, 7) - mean[0] * mean[1]) * n / (n - 1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = ((2 * mean[0] * mean[1] + c1) * (2 * cov + c2)
         / ((mean[0] ** 2 + mean[1] ** 2 + c1) * (va + vb + c2)))
    return float(s[3:-3, 3:-3].mean())


def test_ssim_is_grayscale_with_a_7x7_window():
    """Noise on the red channel only: a third of it reaches the gray image."""
    rng = np.random.default_rng(0)
    truth = cv2.GaussianBlur(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8), (0, 0), 2)
    frame = truth.astype(int)
    frame[..., 0] += rng.integers(-40, 40, truth.shape[:2])
    frame = np.clip(frame, 0, 255).astype(np.uint8)
    gray = [cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (frame, truth)]
    expected = _ssim_by_hand(*gray)
    assert disco_ssim(frame, truth) == pytest.approx(expected, rel=1e-9)
    standard = PixelScores()
    standard.add(frame, truth)
    assert abs(standard.summary()["ssim"] - expected) > 0.01


def test_a_generated_frame_of_another_size_is_resized_to_the_truth():
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 256, (64, 48, 3), dtype=np.uint8)
    small = rng.integers(0, 256, (32, 24, 3), dtype=np.uint8)
    scores = DiscoPixelScores()
    scores.add(small, truth)
    resized = cv2.resize(small, (48, 64))
    assert scores.l1[0] == disco_l1(resized, truth)
    assert scores.ssim[0] == disco_ssim(resized, truth)


def test_frames_too_small_for_the_ssim_window_are_refused():
    with pytest.raises(InputError, match="at least 11 px"):
        PixelScores().add(flat(1, (10, 30, 3)), flat(2, (10, 30, 3)))
    DiscoPixelScores().add(flat(1, (10, 30, 3)), flat(2, (10, 30, 3)))  # 7x7 fits
    with pytest.raises(InputError, match="at least 7 px"):
        DiscoPixelScores().add(flat(1, (6, 30, 3)), flat(2, (6, 30, 3)))


VGG_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
VGG_TAPS = (2, 7, 14, 21, 28)


def tiny_vgg(folder, widths=(3, 4, 5, 6, 6)) -> dict:
    """Random VGG-16 + LPIPS weights with torchvision's and LPIPS's key names."""
    torch.manual_seed(0)
    state, c_in, stage = {}, 3, 0
    for index in VGG_CONVS:
        c_out = widths[stage]
        state[f"features.{index}.weight"] = torch.randn(c_out, c_in, 3, 3) * 0.3
        state[f"features.{index}.bias"] = torch.randn(c_out) * 0.1
        c_in = c_out
        stage += index in VGG_TAPS
    lins = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) for i, c in enumerate(widths)}
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(state, folder / "vgg16-397923af.pth")
    torch.save(lins, folder / "vgg.pth")
    return {**state, **lins}


def _vgg_lpips_by_hand(state, a: torch.Tensor, b: torch.Tensor) -> float:
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def feats(x):
        x, out = (x - shift) / scale, []
        for index in VGG_CONVS:
            x = F.relu(F.conv2d(x, state[f"features.{index}.weight"],
                                state[f"features.{index}.bias"], padding=1))
            if index in VGG_TAPS:
                out.append(x)
                x = F.max_pool2d(x, 2, 2)
        return out

    total = 0.0
    for i, (fa, fb) in enumerate(zip(feats(a), feats(b), strict=True)):
        na, nb = (f / (f.norm(dim=1, keepdim=True) + 1e-10) for f in (fa, fb))
        total += float(((na - nb) ** 2 * state[f"lin{i}.model.1.weight"]).sum(1).mean())
    return total


def test_lpips_is_vgg_fed_unit_range_images(tmp_path):
    state = tiny_vgg(tmp_path / "lpips")
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (48, 40, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-50, 50, a.shape), 0, 255).astype(np.uint8)
    model = load_lpips(tmp_path, net="vgg", unit_input=True)

    def tensor(x, scale):
        return torch.from_numpy(x).permute(2, 0, 1)[None].float() / scale

    fed_unit = _vgg_lpips_by_hand(state, tensor(a, 255), tensor(b, 255))
    fed_signed = _vgg_lpips_by_hand(state, tensor(a, 127.5) - 1, tensor(b, 127.5) - 1)
    assert model.distance(a, b) == pytest.approx(fed_unit, rel=1e-4)
    assert abs(fed_unit - fed_signed) > 1e-3 * fed_unit
    assert model.distance(a, a) == 0
    with pytest.raises(InputError, match="vgg16-397923af.pth"):
        load_lpips(tmp_path / "elsewhere", net="vgg")


def test_comparison_reports_both_psnrs_and_lpips_in_disco_terms(tmp_path):
    from animator.evaluate.truth import Networks

    tiny_vgg(tmp_path / "lpips")
    networks = Networks(lpips=load_lpips(tmp_path, net="vgg", unit_input=True))
    comparison = TruthComparison("disco", networks)
    for offset in (0, 20, 16, 0, 20):
        comparison.add(flat(100 + offset, (32, 32, 3)), flat(100, (32, 32, 3)))
    result = comparison.finish()
    wrapped = 20 * math.log10(255 / 12)
    assert result.summary["psnr"] == pytest.approx((100 + wrapped + 100 + 100 + wrapped) / 5)
    assert result.summary["psnr_star"] == pytest.approx(
        (100 + 2 * 20 * math.log10(255 / 20) + 20 * math.log10(255 / 16) + 100) / 5)
    assert result.per_frame["lpips"][0] == 0 and len(result.per_frame["lpips"]) == 5
