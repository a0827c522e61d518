"""I3D (Carreira & Zisserman 2017, Kinetics-400): the video network behind FVD.

Two public forms of it are used by the papers' FVD numbers, and both are read here:

- StyleGAN-V's `i3d_torchscript.pt` (Skorokhodov et al. 2022; MCVD and many video papers
  use it): the TF-Hub I3D of the original FVD, ported to TorchScript. It is called as
  `model(x, rescale=..., resize=..., return_features=True)` on (N, 3, T, H, W) clips and
  returns the 400 pre-softmax features. `--protocol standard` uses it.
- `i3d_pretrained_400.pt`, the state dict of pytorch-i3d's `InceptionI3d` that DisCo's
  evaluation code loads (`tool/metrics/features.py`, mode "FVD-3DInception"): its logits,
  averaged over time, are the features. `InceptionI3d` below has that module's layout and
  key names, so the file loads with `torch.load(weights_only=True)`; widths scale with the
  first layer's (64 in the real network), so tests can write tiny weights.

Why loading TorchScript is acceptable: a TorchScript file is code, but code in TorchScript's
restricted language, run by torch's interpreter, not Python: it cannot import modules or
call arbitrary Python functions, as unpickling can. It is still code from a third party, so
it is only read from the folder the user names with --weights-dir (or the user's cache),
a file they fetched themselves; never from an upload, a model folder or anything the app
downloads.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from animator.errors import InputError
from animator.evaluate.fold import fold


def _same_pad(x: torch.Tensor, kernel, stride) -> torch.Tensor:
    """TensorFlow's "SAME" padding, as pytorch-i3d computes it (zeros; inputs are >= 0)."""
    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride),
                          strict=True):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


def _static(kernel, stride) -> bool:
    """SAME padding that is the same on both sides whatever the size (stride 1, odd
    kernel): the convolution or pool can pad by itself, without a padded copy."""
    return all(s == 1 and k % 2 == 1 for k, s in zip(kernel, stride, strict=True))


class _Unit(nn.Module):
    """Conv3d (SAME padding) + batch norm (eps 1e-3) + ReLU: pytorch-i3d's Unit3D."""

    def __init__(self, c_in, c_out, kernel=(1, 1, 1), stride=(1, 1, 1), *, norm=True,
                 relu=True, bias=False):
        super().__init__()
        self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
        self.static = _static(self.kernel, self.stride)
        self.conv3d = nn.Conv3d(c_in, c_out, kernel, stride=stride, bias=bias)
        self.bn = nn.BatchNorm3d(c_out, eps=0.001, momentum=0.01) if norm else None

    def forward(self, x):
        if self.static:
            x = F.conv3d(x, self.conv3d.weight, self.conv3d.bias,
                         padding=tuple(k // 2 for k in self.kernel))
        else:
            x = self.conv3d(_same_pad(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x, inplace=True) if self.relu else x

    def fold(self) -> None:
        """Batch norm into the convolution (`fold.py`), once the weights are loaded."""
        if self.bn is not None:
            self.conv3d, self.bn = fold(self.conv3d, self.bn), None


def _pool(x, kernel, stride):
    if _static(kernel, stride):  # inputs are ReLU outputs (>= 0): max ignores a zero pad
        return F.max_pool3d(x, kernel, stride, padding=tuple(k // 2 for k in kernel))
    return F.max_pool3d(_same_pad(x, kernel, stride), kernel, stride)


class _Mixed(nn.Module):
    """An Inception block: 1x1 | 1x1-3x3 | 1x1-3x3 | 3x3 pool-1x1."""

    def __init__(self, c_in, widths):
        super().__init__()
        self.b0 = _Unit(c_in, widths[0])
        self.b1a, self.b1b = _Unit(c_in, widths[1]), _Unit(widths[1], widths[2], (3, 3, 3))
        self.b2a, self.b2b = _Unit(c_in, widths[3]), _Unit(widths[3], widths[4], (3, 3, 3))
        self.b3b = _Unit(c_in, widths[5])
        self.out = widths[0] + widths[2] + widths[4] + widths[5]

    def forward(self, x):
        pooled = _pool(x, (3, 3, 3), (1, 1, 1))
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)),
                          self.b3b(pooled)], 1)


# (name, widths) of the Inception blocks; max pools come before Mixed_4b and Mixed_5b.
_MIXED = (
    ("Mixed_3b", (64, 96, 128, 16, 32, 32)), ("Mixed_3c", (128, 128, 192, 32, 96, 64)),
    ("Mixed_4b", (192, 96, 208, 16, 48, 64)), ("Mixed_4c", (160, 112, 224, 24, 64, 64)),
    ("Mixed_4d", (128, 128, 256, 24, 64, 64)), ("Mixed_4e", (112, 144, 288, 32, 64, 64)),
    ("Mixed_4f", (256, 160, 320, 32, 128, 128)), ("Mixed_5b", (256, 160, 320, 32, 128, 128)),
    ("Mixed_5c", (384, 192, 384, 48, 128, 128)),
)
_POOL_BEFORE = {"Mixed_3b": ((1, 3, 3), (1, 2, 2)), "Mixed_4b": ((3, 3, 3), (2, 2, 2)),
                "Mixed_5b": ((2, 2, 2), (2, 2, 2))}


class InceptionI3d(nn.Module):
    """pytorch-i3d's InceptionI3d (400 classes) in eval mode; `scale` shrinks every width."""

    def __init__(self, scale: float = 1.0, classes: int = 400):
        super().__init__()

        def w(n: int) -> int:
            return max(1, round(n * scale))

        self.Conv3d_1a_7x7 = _Unit(3, w(64), (7, 7, 7), (2, 2, 2))
        self.Conv3d_2b_1x1 = _Unit(w(64), w(64))
        self.Conv3d_2c_3x3 = _Unit(w(64), w(192), (3, 3, 3))
        c, self.blocks = w(192), []
        for name, widths in _MIXED:
            block = _Mixed(c, [w(n) for n in widths])
            setattr(self, name, block)
            self.blocks.append(name)
            c = block.out
        self.logits = _Unit(c, classes, norm=False, relu=False, bias=True)
        self.eval().requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, T, 224, 224) in [-1, 1] -> (N, classes) logits averaged over time."""
        x = self.Conv3d_1a_7x7(x)
        x = _pool(x, (1, 3, 3), (1, 2, 2))
        x = self.Conv3d_2c_3x3(self.Conv3d_2b_1x1(x))
        for name in self.blocks:
            if name in _POOL_BEFORE:
                x = _pool(x, *_POOL_BEFORE[name])
            x = getattr(self, name)(x)
        x = F.avg_pool3d(x, (1, 7, 7), stride=1)  # dropout: identity in eval mode
        return self.logits(x).squeeze(4).squeeze(3).mean(2)

    def fold_batch_norm(self) -> InceptionI3d:
        for module in self.modules():
            if isinstance(module, _Unit):
                module.fold()
        return self


def load_i3d_state(path: Path, fetch: str) -> InceptionI3d:
    """DisCo's I3D from its state dict (`torch.load(weights_only=True)`)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a weights file, or pickled objects refused
        raise InputError(f"Could not read {path} ({e}): download it again. {fetch}.") from e
    try:
        model = InceptionI3d(state["Conv3d_1a_7x7.conv3d.weight"].shape[0] / 64,
                             state["logits.conv3d.bias"].shape[0])
        model.load_state_dict(state)
    except (KeyError, AttributeError, TypeError, RuntimeError) as e:
        raise InputError(f"{path} does not hold pytorch-i3d's InceptionI3d weights ({e}): "
                         f"download it again. {fetch}.") from e
    return model.eval().fold_batch_norm()


def load_i3d_torchscript(path: Path, fetch: str) -> torch.jit.ScriptModule:
    """StyleGAN-V's TorchScript I3D (see the module docstring on why TorchScript is read)."""
    try:
        model = torch.jit.load(str(path), map_location="cpu")
    except Exception as e:  # not a TorchScript archive, truncated
        raise InputError(f"Could not read {path} as TorchScript ({e}): download it "
                         f"again. {fetch}.") from e
    return model.eval()


__all__ = ["InceptionI3d", "load_i3d_state", "load_i3d_torchscript"]
