"""FID (Heusel et al., 2017) between a clip's frames and the ground truth's, as papers do.

The features are the 2048-d pool features of the Inception-v3 that pytorch-fid ports from
TensorFlow's FID graph (its `FIDInception*` block variants: average pools that leave the
padding out, and a max pool in the last block). The network is defined here with
torchvision's layer names, so the public weight file loads as it is; no torchvision.
Frames are resized to 299x299 (bilinear) and scaled to [-1, 1], as pytorch-fid does.

Weights: `pt_inception-2015-12-05-6726825d.pth` from
https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
into `<weights dir>/fid/`, read with `torch.load(weights_only=True)`. Channel widths are
scaled by the first layer's width (32 in the real network), so tests can write tiny random
weights with the same key names.

FID over one clip's few hundred frames is a noisy, biased estimate (the covariance of
2048-d features needs thousands of samples); compare clips of the same length with it, and
prefer FID over a whole test set for reporting.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from animator.errors import InputError
from animator.evaluate.fold import fold
from animator.evaluate.frechet import frechet_distance, frechet_from_features

WEIGHTS = "pt_inception-2015-12-05-6726825d.pth"
FETCH = (
    "FID needs the Inception-v3 FID weights: download "
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + WEIGHTS
    + " into {folder}, or leave out --fid"
)
SIZE = 299


class _Conv(nn.Module):
    """Conv (no bias) + batch norm (eps 1e-3) + ReLU: torchvision's BasicConv2d."""

    def __init__(self, c_in: int, c_out: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x):
        x = self.conv(x)
        return F.relu(self.bn(x) if self.bn is not None else x, inplace=True)

    def fold(self) -> None:
        """Batch norm into the convolution (`fold.py`), once the weights are loaded."""
        if self.bn is not None:
            self.conv, self.bn = fold(self.conv, self.bn), None


def _avg(x):
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _A(nn.Module):
    def __init__(self, c_in, pool, w):
        super().__init__()
        self.branch1x1 = _Conv(c_in, w(64), 1)
        self.branch5x5_1 = _Conv(c_in, w(48), 1)
        self.branch5x5_2 = _Conv(w(48), w(64), 5, padding=2)
        self.branch3x3dbl_1 = _Conv(c_in, w(64), 1)
        self.branch3x3dbl_2 = _Conv(w(64), w(96), 3, padding=1)
        self.branch3x3dbl_3 = _Conv(w(96), w(96), 3, padding=1)
        self.branch_pool = _Conv(c_in, w(pool), 1)
        self.out = w(64) + w(64) + w(96) + w(pool)

    def forward(self, x):
        return torch.cat([
            self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            self.branch_pool(_avg(x))], 1)


class _B(nn.Module):
    def __init__(self, c_in, w):
        super().__init__()
        self.branch3x3 = _Conv(c_in, w(384), 3, stride=2)
        self.branch3x3dbl_1 = _Conv(c_in, w(64), 1)
        self.branch3x3dbl_2 = _Conv(w(64), w(96), 3, padding=1)
        self.branch3x3dbl_3 = _Conv(w(96), w(96), 3, stride=2)
        self.out = w(384) + w(96) + c_in

    def forward(self, x):
        return torch.cat([
            self.branch3x3(x),
            self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
            F.max_pool2d(x, 3, stride=2)], 1)


class _C(nn.Module):
    def __init__(self, c_in, c7, w):
        super().__init__()
        c7 = w(c7)
        self.branch1x1 = _Conv(c_in, w(192), 1)
        self.branch7x7_1 = _Conv(c_in, c7, 1)
        self.branch7x7_2 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _Conv(c7, w(192), (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _Conv(c_in, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _Conv(c7, w(192), (1, 7), padding=(0, 3))
        self.branch_pool = _Conv(c_in, w(192), 1)
        self.out = 4 * w(192)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3,
                      self.branch7x7dbl_4, self.branch7x7dbl_5):
            d = layer(d)
        return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg(x))], 1)


class _D(nn.Module):
    def __init__(self, c_in, w):
        super().__init__()
        self.branch3x3_1 = _Conv(c_in, w(192), 1)
        self.branch3x3_2 = _Conv(w(192), w(320), 3, stride=2)
        self.branch7x7x3_1 = _Conv(c_in, w(192), 1)
        self.branch7x7x3_2 = _Conv(w(192), w(192), (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(w(192), w(192), (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(w(192), w(192), 3, stride=2)
        self.out = w(320) + w(192) + c_in

    def forward(self, x):
        b7 = x
        for layer in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3,
                      self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7,
                          F.max_pool2d(x, 3, stride=2)], 1)


class _E(nn.Module):
    def __init__(self, c_in, w, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool  # pytorch-fid's FIDInceptionE_2 (the last block)
        self.branch1x1 = _Conv(c_in, w(320), 1)
        self.branch3x3_1 = _Conv(c_in, w(384), 1)
        self.branch3x3_2a = _Conv(w(384), w(384), (1, 3), padding=(0, 1))
        self.branch3x3_2b = _Conv(w(384), w(384), (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _Conv(c_in, w(448), 1)
        self.branch3x3dbl_2 = _Conv(w(448), w(384), 3, padding=1)
        self.branch3x3dbl_3a = _Conv(w(384), w(384), (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _Conv(w(384), w(384), (3, 1), padding=(1, 0))
        self.branch_pool = _Conv(c_in, w(192), 1)
        self.out = w(320) + 4 * w(384) + w(192)

    def forward(self, x):
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        pool = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg(x)
        return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pool)], 1)


class FIDInception(nn.Module):
    """Inception-v3 up to its 2048-d pool features; `scale` shrinks every width (tests)."""

    def __init__(self, scale: float = 1.0):
        super().__init__()

        def w(n: int) -> int:
            return max(1, round(n * scale))

        self.Conv2d_1a_3x3 = _Conv(3, w(32), 3, stride=2)
        self.Conv2d_2a_3x3 = _Conv(w(32), w(32), 3)
        self.Conv2d_2b_3x3 = _Conv(w(32), w(64), 3, padding=1)
        self.Conv2d_3b_1x1 = _Conv(w(64), w(80), 1)
        self.Conv2d_4a_3x3 = _Conv(w(80), w(192), 3)
        c = w(192)
        blocks = {}
        makers = (
            ("Mixed_5b", lambda c: _A(c, 32, w)), ("Mixed_5c", lambda c: _A(c, 64, w)),
            ("Mixed_5d", lambda c: _A(c, 64, w)), ("Mixed_6a", lambda c: _B(c, w)),
            ("Mixed_6b", lambda c: _C(c, 128, w)), ("Mixed_6c", lambda c: _C(c, 160, w)),
            ("Mixed_6d", lambda c: _C(c, 160, w)), ("Mixed_6e", lambda c: _C(c, 192, w)),
            ("Mixed_7a", lambda c: _D(c, w)), ("Mixed_7b", lambda c: _E(c, w, max_pool=False)),
            ("Mixed_7c", lambda c: _E(c, w, max_pool=True)),
        )
        for name, make in makers:
            blocks[name] = make(c)
            c = blocks[name].out
        for name, block in blocks.items():
            setattr(self, name, block)
        self.blocks = list(blocks)
        self.features = c
        self.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) RGB in [0, 1] -> (N, features)."""
        x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in self.blocks:
            x = getattr(self, name)(x)
        return F.adaptive_avg_pool2d(x, 1).flatten(1)

    def fold_batch_norm(self) -> FIDInception:
        for module in self.modules():
            if isinstance(module, _Conv):
                module.fold()
        return self

    @torch.inference_mode()
    def embed_many(self, frames: np.ndarray) -> np.ndarray:
        """(N, features) pool features (float64) of (N, H, W, 3) RGB uint8 frames."""
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255
        return self(x.contiguous(memory_format=torch.channels_last)).double().numpy()

    def embed(self, frame: np.ndarray) -> np.ndarray:
        """Pool features (float64) of one RGB uint8 frame."""
        return self.embed_many(frame[None])[0]


def fid(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """FID of two (N, D) feature sets (N >= 2 each): `frechet.frechet_from_features`, the
    exact fast form of pytorch-fid's formula (covariances over N - 1)."""
    return frechet_from_features(features_a, features_b)


def load_fid(weights_dir: str | Path | None = None) -> FIDInception:
    """The FID Inception network from `<weights_dir>/fid/` (else `~/.cache/animator/fid`)."""
    folder = (Path(weights_dir).expanduser() if weights_dir is not None
              else Path.home() / ".cache" / "animator") / "fid"
    path = folder / WEIGHTS
    if not path.is_file():
        raise InputError(FETCH.format(folder=folder) + ".")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a weights file, or pickled objects refused
        raise InputError(f"Could not read {path} ({e}): download it again. "
                         f"{FETCH.format(folder=folder)}.") from e
    try:
        scale = state["Conv2d_1a_3x3.conv.weight"].shape[0] / 32
        model = FIDInception(scale)
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith(
            ("fc.", "AuxLogits."))})
    except (KeyError, AttributeError, TypeError, RuntimeError) as e:
        raise InputError(f"{path} does not hold the Inception-v3 FID weights ({e}): download "
                         f"it again. {FETCH.format(folder=folder)}.") from e
    return model.eval().fold_batch_norm().to(memory_format=torch.channels_last)


__all__ = ["FIDInception", "fid", "frechet_distance", "load_fid"]
