"""The 3D ResNet-50 behind FID-VID (Hara et al. 2018, Kinetics-400, "resnet-50-kinetics").

DisCo's evaluation code computes FID-VID ("FVD-3DRN50" in its `tool/metrics`) as a Fréchet
distance of this network's 2048-d pooled features of 16-frame, 112x112 clips. The layout
and key names are those of Hara's 3D-ResNets-PyTorch (`conv1`, `bn1`, `layer1`..`layer4`
of bottleneck blocks, 1x1x1 projection shortcuts: shortcut type B), so the public
`resnet-50-kinetics.pth` (a checkpoint with a `state_dict` whose keys start with
`module.`) loads with `torch.load(weights_only=True)`. Widths scale with the first layer's
(64 in the real network), so tests can write tiny weights.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from animator.errors import InputError
from animator.evaluate.fold import fold

LAYERS = (3, 4, 6, 3)  # bottleneck blocks per stage (ResNet-50)


class _Bottleneck(nn.Module):
    def __init__(self, c_in: int, planes: int, stride: int, project: bool):
        super().__init__()
        self.conv1 = nn.Conv3d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = nn.Conv3d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(planes * 4)
        self.downsample = nn.Sequential(
            nn.Conv3d(c_in, planes * 4, 1, stride=stride, bias=False),
            nn.BatchNorm3d(planes * 4)) if project else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = F.relu(self.bn2(self.conv2(out)), inplace=True)
        out = self.bn3(self.conv3(out))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x),
                      inplace=True)

    def fold(self) -> None:
        """Batch norm into the convolutions (`fold.py`), once the weights are loaded."""
        for i in (1, 2, 3):
            conv, bn = getattr(self, f"conv{i}"), getattr(self, f"bn{i}")
            if not isinstance(bn, nn.Identity):
                setattr(self, f"conv{i}", fold(conv, bn))
                setattr(self, f"bn{i}", nn.Identity())
        if self.downsample is not None and not isinstance(self.downsample[1], nn.Identity):
            self.downsample = nn.Sequential(fold(*self.downsample), nn.Identity())


class ResNet3D50(nn.Module):
    """Features (N, 2048 x scale) of (N, 3, 16, 112, 112) clips, mean-subtracted 0-255 RGB."""

    def __init__(self, scale: float = 1.0, sample_size: int = 112, duration: int = 16):
        super().__init__()
        width = max(1, round(64 * scale))
        self.conv1 = nn.Conv3d(3, width, 7, stride=(1, 2, 2), padding=3, bias=False)
        self.bn1 = nn.BatchNorm3d(width)
        c = width
        for i, blocks in enumerate(LAYERS):
            planes = width * 2 ** i
            layer = []
            for j in range(blocks):
                stride = 2 if (i > 0 and j == 0) else 1
                layer.append(_Bottleneck(c, planes, stride, project=j == 0))
                c = planes * 4
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
        self.features = c
        # Hara's average pool: what is left of a 16-frame, 112-px clip, i.e. all of it.
        self.pool = (math.ceil(duration / 16), math.ceil(sample_size / 32),
                     math.ceil(sample_size / 32))
        self.eval().requires_grad_(False)

    def fold_batch_norm(self) -> ResNet3D50:
        if not isinstance(self.bn1, nn.Identity):
            self.conv1, self.bn1 = fold(self.conv1, self.bn1), nn.Identity()
        for module in self.modules():
            if isinstance(module, _Bottleneck):
                module.fold()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool3d(F.relu(self.bn1(self.conv1(x)), inplace=True), 3, stride=2, padding=1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return F.avg_pool3d(x, self.pool, stride=1).flatten(1)


def load_resnet3d(path: Path, fetch: str) -> ResNet3D50:
    """The network from Hara's checkpoint (or a bare state dict), tensors only."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # truncated, not a checkpoint, or pickled objects refused
        raise InputError(f"Could not read {path} ({e}): download it again. {fetch}.") from e
    try:
        state = data.get("state_dict", data)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        model = ResNet3D50(state["conv1.weight"].shape[0] / 64)
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")})
    except (KeyError, AttributeError, TypeError, RuntimeError) as e:
        raise InputError(f"{path} does not hold the 3D ResNet-50 (Kinetics) weights ({e}): "
                         f"download it again. {fetch}.") from e
    return model.eval().fold_batch_norm()


__all__ = ["ResNet3D50", "load_resnet3d"]
