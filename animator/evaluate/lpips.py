"""LPIPS (Zhang et al., CVPR 2018): the perceptual distance papers report, AlexNet or VGG.

The network is defined here (no torchvision): the backbone's conv layers (AlexNet's five,
or VGG-16's thirteen), each tapped ReLU output unit-normalised over channels, squared
differences weighted by LPIPS's learned 1x1 layers, averaged over space and summed over
taps, exactly as the `lpips` package computes it. The input is shifted and scaled by
LPIPS's fixed constants; the package expects RGB in [-1, 1]. DisCo's evaluation code feeds
its VGG-LPIPS [0, 1] images instead (`transforms.ToTensor()` without `normalize=True`), so
`unit_input=True` reproduces that convention for `--protocol disco`.

Weights are read from files only, never downloaded, and never unpickled beyond tensors
(`torch.load(weights_only=True)` or safetensors). Put in `<weights dir>/lpips/` either
- AlexNet: `alexnet-owt-7be5be79.pth` (https://download.pytorch.org/models/
  alexnet-owt-7be5be79.pth) and `alex.pth` (LPIPS v0.1 linear layers:
  https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/alex.pth),
- VGG: `vgg16-397923af.pth` (https://download.pytorch.org/models/vgg16-397923af.pth) and
  `vgg.pth` (same LPIPS folder as alex.pth),
- or one `lpips_alex.safetensors` / `lpips_vgg.safetensors` holding both sets of keys
  (`features.N.*`, `linN.model.1.weight`).
Layer widths are read from the weights, so a tiny file with the same keys gives a tiny net.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from animator.errors import InputError

SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
LPIPS_URL = "https://github.com/richzhang/PerceptualSimilarity/raw/master/lpips/weights/v0.1/"


@dataclass(frozen=True)
class Backbone:
    """One backbone: its conv layers (torchvision `features` index, kernel, stride, pad),
    which of them are tapped, after which a max pool follows (size, stride), its files."""

    convs: tuple[tuple[int, int, int, int], ...]
    taps: tuple[int, ...]  # torchvision indices of the tapped convs (their ReLU outputs)
    pools: tuple[int, ...]  # torchvision indices of the convs followed by a max pool
    pool: tuple[int, int]
    files: tuple[str, str]  # (torchvision backbone, LPIPS linear layers)
    url: str


BACKBONES = {
    "alex": Backbone(
        convs=((0, 11, 4, 2), (3, 5, 1, 2), (6, 3, 1, 1), (8, 3, 1, 1), (10, 3, 1, 1)),
        taps=(0, 3, 6, 8, 10), pools=(0, 3), pool=(3, 2),
        files=("alexnet-owt-7be5be79.pth", "alex.pth"),
        url="https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"),
    "vgg": Backbone(
        convs=tuple((i, 3, 1, 1) for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)),
        taps=(2, 7, 14, 21, 28), pools=(2, 7, 14, 21), pool=(2, 2),
        files=("vgg16-397923af.pth", "vgg.pth"),
        url="https://download.pytorch.org/models/vgg16-397923af.pth"),
}


def _fetch(net: str, folder: Path) -> str:
    b = BACKBONES[net]
    return (f"LPIPS ({net}) needs its weights: download {b.url} and {LPIPS_URL}{b.files[1]} "
            f"into {folder}, or leave out --lpips")


class LPIPS(nn.Module):
    """LPIPS with widths taken from `state` (torchvision + LPIPS key names)."""

    def __init__(self, state: dict[str, torch.Tensor], net: str = "alex",
                 unit_input: bool = False):
        super().__init__()
        self.net, self.unit_input = net, unit_input
        self.backbone = backbone = BACKBONES[net]
        convs = []
        for index, size, stride, pad in backbone.convs:
            weight = state[f"features.{index}.weight"]
            conv = nn.Conv2d(weight.shape[1], weight.shape[0], size, stride=stride, padding=pad)
            conv.weight.data.copy_(weight)
            conv.bias.data.copy_(state[f"features.{index}.bias"])
            convs.append(conv)
        self.convs = nn.ModuleList(convs)
        self.lins = nn.ParameterList(
            [nn.Parameter(state[f"lin{i}.model.1.weight"].float(), requires_grad=False)
             for i in range(len(backbone.taps))])
        widths = [self.convs[[c[0] for c in backbone.convs].index(t)].out_channels
                  for t in backbone.taps]
        for lin, width in zip(self.lins, widths, strict=True):
            if lin.shape != (1, width, 1, 1):
                raise ValueError(f"LPIPS linear layer of shape {tuple(lin.shape)} does not fit "
                                 f"a {width}-channel {net} layer")
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        self.eval().requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.shift) / self.scale
        out = []
        size, stride = self.backbone.pool
        for (index, *_), conv in zip(self.backbone.convs, self.convs, strict=True):
            x = F.relu(conv(x))
            if index in self.backbone.taps:
                out.append(x)
            if index in self.backbone.pools:
                x = F.max_pool2d(x, size, stride)
        return out

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(N,) distances of RGB batches, (N, 3, H, W), in the range the network is fed."""
        total = 0
        both = self.features(torch.cat([a, b]))
        for f, lin in zip(both, self.lins, strict=True):
            f = f / (f.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            fa, fb = f[: len(a)], f[len(a):]
            total = total + F.conv2d((fa - fb) ** 2, lin).mean(dim=(2, 3))
        return total.view(-1)

    def _tensor(self, frames: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
        x = x / 255 if self.unit_input else x / 127.5 - 1
        return x.contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def distances(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """LPIPS of (N, H, W, 3) RGB uint8 frame pairs, one value per pair."""
        return self(self._tensor(a), self._tensor(b)).double().numpy()

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        """LPIPS of two RGB uint8 frames of the same size."""
        return float(self.distances(a[None], b[None])[0])


def _read(path: Path, net: str) -> dict[str, torch.Tensor]:
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a weights file, or pickled objects refused
        raise InputError(f"Could not read the LPIPS weights {path} ({e}): download it again. "
                         f"{_fetch(net, path.parent)}.") from e
    if not isinstance(state, dict):
        raise InputError(f"{path} is not a weights file (a dict of tensors): download it again.")
    return state


def lpips_folder(weights_dir: str | Path | None) -> Path:
    """Where LPIPS weights are looked for: `<weights_dir>/lpips`, else `~/.cache/animator/lpips`."""
    if weights_dir is not None:
        return Path(weights_dir).expanduser() / "lpips"
    return Path.home() / ".cache" / "animator" / "lpips"


def load_lpips(weights_dir: str | Path | None = None, net: str = "alex",
               unit_input: bool = False) -> LPIPS:
    """The LPIPS network from local files; a clear refusal (what to fetch) when missing."""
    folder = lpips_folder(weights_dir)
    single = folder / f"lpips_{net}.safetensors"
    files = BACKBONES[net].files
    if single.is_file():
        state = _read(single, net)
    elif all((folder / name).is_file() for name in files):
        state = {**_read(folder / files[0], net), **_read(folder / files[1], net)}
    else:
        raise InputError(_fetch(net, folder) + ".")
    try:
        model = LPIPS(state, net, unit_input)
    except (KeyError, ValueError, RuntimeError) as e:
        raise InputError(f"The LPIPS weights in {folder} do not fit {net} ({e}): download "
                         f"them again. {_fetch(net, folder)}.") from e
    return model.to(memory_format=torch.channels_last)


__all__ = ["BACKBONES", "LPIPS", "load_lpips", "lpips_folder"]
