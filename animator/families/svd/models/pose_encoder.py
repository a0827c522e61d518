"""FusedPoseEncoder: skeleton maps and dense maps -> features added after the UNet's conv_in.

Each branch is a small conv stack that brings a (frames, 3, H, W) image in [-1, 1] down to the
latent grid (H/8, W/8), optional self-attention blocks, then a zero-initialised 1x1 projection
to the UNet's first block width times a learned scalar. A fresh encoder therefore adds exactly
zero, so installing it never disturbs a pretrained backbone. The skeleton branch has the public
PoseNet parameter layout (MimicMotion / StableAnimator `pose_net`), so their weights load into
`encoder.skeleton` unchanged when attention is off.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

# (out_channels, kernel, stride) of the public layout; a SiLU follows every conv, so the convs
# sit at the even indices of `conv_layers` (0, 2, ..., 14).
_CONVS = ((3, 3, 1), (16, 4, 2), (16, 3, 1), (32, 4, 2), (32, 3, 1), (64, 4, 2), (64, 3, 1),
          (128, 3, 1))
FEATURE_CHANNELS = 128


class SelfAttentionBlock(nn.Module):
    """Pre-norm multi-head self-attention over the h*w positions of each frame, residual.

    The output projection starts at zero so a new block is an identity map.
    """

    def __init__(self, channels: int, heads: int):
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels {channels} must be divisible by heads {heads}")
        self.heads = heads
        self.norm = nn.LayerNorm(channels)
        self.to_qkv = nn.Linear(channels, 3 * channels)
        self.to_out = nn.Linear(channels, channels)
        nn.init.zeros_(self.to_out.weight)
        nn.init.zeros_(self.to_out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        q, k, v = self.to_qkv(self.norm(tokens)).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).flatten(2)
        tokens = tokens + self.to_out(out)
        return tokens.transpose(1, 2).reshape(b, c, h, w)


class PoseBranch(nn.Module):
    """conv stack (/8) -> optional self-attention -> zero-init 1x1 projection -> * scale."""

    def __init__(self, out_channels: int, in_channels: int = 3, attention_blocks: int = 0,
                 attention_heads: int = 8):
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for out, kernel, stride in _CONVS:
            layers += [nn.Conv2d(channels, out, kernel, stride=stride, padding=1), nn.SiLU()]
            channels = out
        self.conv_layers = nn.Sequential(*layers)
        self.attention = nn.ModuleList(
            SelfAttentionBlock(FEATURE_CHANNELS, attention_heads) for _ in range(attention_blocks)
        )
        self.final_proj = nn.Conv2d(FEATURE_CHANNELS, out_channels, kernel_size=1)
        nn.init.zeros_(self.final_proj.weight)
        nn.init.zeros_(self.final_proj.bias)
        self.scale = nn.Parameter(torch.full((1,), 2.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_layers(x)
        for block in self.attention:
            x = block(x)
        return self.final_proj(x) * self.scale


class FusedPoseEncoder(ModelMixin, ConfigMixin):
    """Skeleton branch + dense branch, summed; either may be configured off or left out per call.

    Args:
        out_channels: the UNet's first block width (`unet.config.block_out_channels[0]`).
        with_skeleton: build the skeleton-map branch `skeleton` (public PoseNet layout).
        with_dense: build the dense-map branch `dense` (same shape, its own weights).
        in_channels: channels of the skeleton maps.
        dense_in_channels: channels of the dense maps.
        attention_blocks: self-attention blocks after each conv stack (0 = public layout).
        attention_heads: heads of those blocks (128 feature channels must divide by it).
    """

    @register_to_config
    def __init__(
        self,
        out_channels: int = 320,
        with_skeleton: bool = True,
        with_dense: bool = True,
        in_channels: int = 3,
        dense_in_channels: int = 3,
        attention_blocks: int = 0,
        attention_heads: int = 8,
    ):
        super().__init__()
        if not (with_skeleton or with_dense):
            raise ValueError("FusedPoseEncoder needs with_skeleton or with_dense")
        self.skeleton = (
            PoseBranch(out_channels, in_channels, attention_blocks, attention_heads)
            if with_skeleton else None
        )
        self.dense = (
            PoseBranch(out_channels, dense_in_channels, attention_blocks, attention_heads)
            if with_dense else None
        )

    def forward(
        self, skeleton: torch.Tensor | None = None, dense: torch.Tensor | None = None
    ) -> torch.Tensor | None:
        """Map images in [-1, 1], (frames, C, H, W) with H, W multiples of 8, to
        (frames, out_channels, H/8, W/8) features; None when no configured branch has input."""
        out = None
        for branch, x in ((self.skeleton, skeleton), (self.dense, dense)):
            if branch is None or x is None:
                continue
            y = branch(x.to(self.dtype))
            out = y if out is None else out + y
        return out
