"""LPIPS (Zhang et al., CVPR 2018), AlexNet variant: the perceptual distance papers report.

The network is defined here (no torchvision): AlexNet's five conv layers, each ReLU's
output unit-normalised over channels, squared differences weighted by LPIPS's learned
1x1 layers, averaged over space and summed over layers. Inputs are RGB in [-1, 1],
shifted and scaled by LPIPS's fixed constants.

Weights are read from files only, never downloaded, and never unpickled beyond tensors
(`torch.load(weights_only=True)` or safetensors). Put in `<weights dir>/lpips/` either
- `alexnet-owt-7be5be79.pth` (torchvision's AlexNet: https://download.pytorch.org/models/
  alexnet-owt-7be5be79.pth) and `alex.pth` (LPIPS v0.1 linear layers:
  https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth),
- or one `lpips_alex.safetensors` holding both sets of keys (`features.N.*`, `linN.model.1.weight`).
Layer widths are read from the weights, so a tiny file with the same keys gives a tiny net.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from animator.errors import InputError

CONVS = (0, 3, 6, 8, 10)  # torchvision's indices of AlexNet's conv layers in `features`
KERNELS = ((11, 4, 2), (5, 1, 2), (3, 1, 1), (3, 1, 1), (3, 1, 1))  # (size, stride, pad)
POOL_AFTER = (0, 1)  # a 3x3 stride-2 max pool follows these conv layers' ReLUs
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
FILES = ("alexnet-owt-7be5be79.pth", "alex.pth")
SINGLE = "lpips_alex.safetensors"
FETCH = (
    "LPIPS needs its AlexNet weights: download "
    "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth and "
    "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth "
    "into {folder}, or leave out --lpips"
)


class LPIPS(nn.Module):
    """LPIPS-Alex with widths taken from `state` (torchvision + LPIPS key names)."""

    def __init__(self, state: dict[str, torch.Tensor]):
        super().__init__()
        convs = []
        for index, (size, stride, pad) in zip(CONVS, KERNELS, strict=True):
            weight = state[f"features.{index}.weight"]
            conv = nn.Conv2d(weight.shape[1], weight.shape[0], size, stride=stride, padding=pad)
            conv.weight.data.copy_(weight)
            conv.bias.data.copy_(state[f"features.{index}.bias"])
            convs.append(conv)
        self.convs = nn.ModuleList(convs)
        self.lins = nn.ParameterList(
            [nn.Parameter(state[f"lin{i}.model.1.weight"].float(), requires_grad=False)
             for i in range(len(CONVS))])
        for lin, conv in zip(self.lins, self.convs, strict=True):
            if lin.shape != (1, conv.out_channels, 1, 1):
                raise ValueError(f"LPIPS linear layer of shape {tuple(lin.shape)} does not fit "
                                 f"a {conv.out_channels}-channel AlexNet layer")
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.shift) / self.scale
        out = []
        for i, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            out.append(x)
            if i in POOL_AFTER:
                x = F.max_pool2d(x, 3, 2)
        return out

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(N,) distances of RGB batches in [-1, 1], (N, 3, H, W)."""
        total = 0
        for fa, fb, lin in zip(self.features(a), self.features(b), self.lins, strict=True):
            na = fa / (fa.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            nb = fb / (fb.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + F.conv2d((na - nb) ** 2, lin).mean(dim=(2, 3))
        return total.view(-1)

    @torch.inference_mode()
    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        """LPIPS of two RGB uint8 frames of the same size."""
        pair = torch.from_numpy(np.stack([a, b])).permute(0, 3, 1, 2).float() / 127.5 - 1
        return float(self(pair[:1], pair[1:])[0])


def _read(path: Path) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a weights file, or pickled objects refused
        raise InputError(f"Could not read the LPIPS weights {path} ({e}): download it again. "
                         f"{FETCH.format(folder=path.parent)}.") from e
    if not isinstance(state, dict):
        raise InputError(f"{path} is not a weights file (a dict of tensors): download it again.")
    return state


def lpips_folder(weights_dir: str | Path | None) -> Path:
    """Where LPIPS weights are looked for: `<weights_dir>/lpips`, else `~/.cache/animator/lpips`."""
    if weights_dir is not None:
        return Path(weights_dir).expanduser() / "lpips"
    return Path.home() / ".cache" / "animator" / "lpips"


def load_lpips(weights_dir: str | Path | None = None) -> LPIPS:
    """The LPIPS network from local files; a clear refusal (what to fetch) when missing."""
    folder = lpips_folder(weights_dir)
    if (folder / SINGLE).is_file():
        state = _read(folder / SINGLE)
    elif all((folder / name).is_file() for name in FILES):
        state = {**_read(folder / FILES[0]), **_read(folder / FILES[1])}
    else:
        raise InputError(FETCH.format(folder=folder) + ".")
    try:
        return LPIPS(state)
    except (KeyError, ValueError, RuntimeError) as e:
        raise InputError(f"The LPIPS weights in {folder} do not fit AlexNet ({e}): download "
                         f"them again. {FETCH.format(folder=folder)}.") from e


__all__ = ["LPIPS", "load_lpips", "lpips_folder"]
