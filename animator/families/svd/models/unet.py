"""Installs pose and identity control on an unmodified diffusers `UNetSpatioTemporalConditionModel`.

Nothing here subclasses or copies the UNet: pose features enter through a forward hook on
`conv_in`, identity through attention processors. The UNet keeps its own weights, offloading,
dtype and compile paths, and both controls come off again with `remove_pose` /
`remove_identity`, which restore the original processors.

Batch layout: the UNet flattens (batch, frames) to batch*frames before `conv_in`, and with
classifier-free guidance the batch is [unconditional, conditional]. Pose features of shape
(b, frames, C, h, w) are therefore added to the *last* b samples: the conditional half of a
CFG batch, so the unconditional half sees no pose.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from diffusers import UNetSpatioTemporalConditionModel
from diffusers.models.attention_processor import Attention
from diffusers.models.transformers.transformer_temporal import TransformerSpatioTemporalModel

from animator.families.svd.models.identity import MODES, IdentityAttnProcessor, TrimContextProcessor


class PoseInjector:
    """Forward hook on `unet.conv_in` adding `features` (b, frames, C, h, w) or
    (frames, C, h, w) to the last b samples; a no-op while `features` is None."""

    def __init__(self) -> None:
        self.features: torch.Tensor | None = None
        self.handle: torch.utils.hooks.RemovableHandle | None = None

    def __call__(self, module: torch.nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        features = self.features
        if features is None:
            return output
        if features.ndim == 4:
            features = features[None]
        b, frames = features.shape[:2]
        out = output.unflatten(0, (-1, frames))
        features = features.to(out.dtype)
        if out.shape[0] == b:
            out = out + features
        else:
            out = torch.cat([out[:-b], out[-b:] + features])
        return out.flatten(0, 1)

    @contextmanager
    def use(self, features: torch.Tensor | None) -> Iterator[None]:
        """Add `features` during the UNet calls made inside the block."""
        self.features = features
        try:
            yield
        finally:
            self.features = None


def pose_injector(unet: UNetSpatioTemporalConditionModel) -> PoseInjector | None:
    """The installed injector, if any."""
    for hook in unet.conv_in._forward_hooks.values():
        if isinstance(hook, PoseInjector):
            return hook
    return None


def install_pose(unet: UNetSpatioTemporalConditionModel) -> PoseInjector:
    """Hook a PoseInjector onto `unet.conv_in` (once; returns the existing one if present)."""
    injector = pose_injector(unet)
    if injector is None:
        injector = PoseInjector()
        injector.handle = unet.conv_in.register_forward_hook(injector)
    return injector


def remove_pose(unet: UNetSpatioTemporalConditionModel) -> None:
    injector = pose_injector(unet)
    if injector is not None:
        injector.handle.remove()


def _spatio_temporal_blocks(
    unet: UNetSpatioTemporalConditionModel,
) -> Iterator[tuple[str, TransformerSpatioTemporalModel]]:
    unet = getattr(unet, "_orig_mod", unet)  # names as in the state dict, also under compile
    for name, module in unet.named_modules():
        if isinstance(module, TransformerSpatioTemporalModel):
            yield name, module


def identity_processors(unet: UNetSpatioTemporalConditionModel) -> dict[str, IdentityAttnProcessor]:
    """Installed identity processors by their state-dict prefix
    (`<block>.attentions.<j>.transformer_blocks.<k>.attn2.processor`)."""
    return {
        f"{name}.transformer_blocks.{k}.attn2.processor": block.attn2.processor
        for name, module in _spatio_temporal_blocks(unet)
        for k, block in enumerate(module.transformer_blocks)
        if isinstance(block.attn2.processor, IdentityAttnProcessor)
    }


@torch.no_grad()
def install_identity(
    unet: UNetSpatioTemporalConditionModel,
    num_tokens: int = 4,
    mode: str = "sum",
    strength: float = 1.0,
    init: str = "copy",
) -> dict[str, IdentityAttnProcessor]:
    """Give every spatial attn2 an IdentityAttnProcessor and every temporal attn2 a processor
    that drops the last `num_tokens` context tokens.

    From then on the UNet expects `encoder_hidden_states` = [main tokens, num_tokens face
    tokens]. `init` sets id_to_k/id_to_v: "copy" (from to_k/to_v, the usual decoupled
    cross-attention start) or "zeros". Calling it again only updates mode and strength.
    """
    installed = identity_processors(unet)
    if installed:
        for proc in installed.values():
            if proc.num_tokens != num_tokens:
                raise ValueError(f"identity processors with {proc.num_tokens} tokens are "
                                 f"installed; remove them before installing {num_tokens}")
        set_identity(unet, mode=mode, strength=strength)
        return installed
    if init not in ("copy", "zeros"):
        raise ValueError(f"init must be 'copy' or 'zeros', got {init!r}")
    for _, module in _spatio_temporal_blocks(unet):
        for block in module.transformer_blocks:
            attn: Attention = block.attn2
            proc = IdentityAttnProcessor(attn.to_k.out_features, attn.to_k.in_features,
                                         num_tokens, mode, strength).to(attn.to_k.weight)
            if init == "copy":
                proc.id_to_k.weight.copy_(attn.to_k.weight)
                proc.id_to_v.weight.copy_(attn.to_v.weight)
            else:
                proc.id_to_k.weight.zero_()
                proc.id_to_v.weight.zero_()
            # Kept outside nn.Module registration so it never shows up in the state dict.
            object.__setattr__(proc, "original", attn.processor)
            attn.set_processor(proc)
        for block in module.temporal_transformer_blocks:
            block.attn2.set_processor(TrimContextProcessor(block.attn2.processor, num_tokens))
    return identity_processors(unet)


def set_identity(unet: UNetSpatioTemporalConditionModel, mode: str | None = None,
                 strength: float | None = None) -> None:
    """Change the combination mode and/or strength of all installed identity processors."""
    for proc in identity_processors(unet).values():
        if mode is not None:
            if mode not in MODES:
                raise ValueError(f"identity mode must be one of {MODES}, got {mode!r}")
            proc.mode = mode
        if strength is not None:
            proc.strength = float(strength)


def identity_state_dict(unet: UNetSpatioTemporalConditionModel) -> dict[str, torch.Tensor]:
    """The identity processors' weights under their UNet state-dict names."""
    return {f"{prefix}.{key}": value for prefix, proc in identity_processors(unet).items()
            for key, value in proc.state_dict().items()}


def load_identity_state_dict(unet: UNetSpatioTemporalConditionModel,
                             state: dict[str, torch.Tensor]) -> None:
    """Load `identity_state_dict`-style weights; every key must match an installed processor."""
    expected = identity_state_dict(unet)
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(f"identity weights do not match the installed processors: "
                         f"missing {missing[:4]}{'...' if len(missing) > 4 else ''}, "
                         f"unexpected {unexpected[:4]}{'...' if len(unexpected) > 4 else ''}")
    for prefix, proc in identity_processors(unet).items():
        proc.load_state_dict({k: state[f"{prefix}.{k}"] for k in proc.state_dict()})


def remove_identity(unet: UNetSpatioTemporalConditionModel) -> None:
    """Put back the processors that `install_identity` replaced."""
    for _, module in _spatio_temporal_blocks(unet):
        for block in module.transformer_blocks:
            if isinstance(block.attn2.processor, IdentityAttnProcessor):
                block.attn2.set_processor(block.attn2.processor.original)
        for block in module.temporal_transformer_blocks:
            if isinstance(block.attn2.processor, TrimContextProcessor):
                block.attn2.set_processor(block.attn2.processor.processor)
