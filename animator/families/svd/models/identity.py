"""Identity control: ArcFace embedding -> face tokens, and the decoupled cross-attention that
reads them.

`FaceProjector` has the parameter layout and semantics of StableAnimator's `face_encoder`
(shared/reference/checkpoints.md): an MLP turns the 512-d ArcFace embedding into N tokens,
LayerNorm, then a perceiver whose queries are the face tokens and whose keys/values are the
projected CLIP image token plus the face tokens. Sizes follow the UNet (cross_attention_dim)
so the same class builds the full model and the tiny test one.

`IdentityAttnProcessor` replaces the processor of a spatial cross-attention: the context is
split into the main tokens and the last N face tokens; the face tokens get their own key/value
projections (`id_to_k`, `id_to_v`, no bias) and their attention output is added to the main
one, either plainly (`sum`) or after rescaling to the main output's statistics
(`normalized`, what the public StableAnimator weights were trained with).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.attention_processor import Attention
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

MODES = ("sum", "normalized")


class PerceiverAttention(nn.Module):
    """Face tokens attend to [context tokens, face tokens]; logits scaled as q d^-1/4 . k d^-1/4
    with the softmax in float32 (as the public weights were trained)."""

    def __init__(self, dim: int, heads: int, dim_head: int):
        super().__init__()
        self.heads = heads
        self.scale = dim_head**-0.25
        inner = heads * dim_head
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, 2 * inner, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, context: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
        context, latents = self.norm1(context), self.norm2(latents)
        q = self.to_q(latents)
        k, v = self.to_kv(torch.cat([context, latents], dim=1)).chunk(2, dim=-1)
        q, k, v = (t.unflatten(-1, (self.heads, -1)).transpose(1, 2) for t in (q, k, v))
        logits = (q * self.scale) @ (k * self.scale).transpose(-1, -2)
        weights = torch.softmax(logits.float(), dim=-1).to(logits.dtype)
        return self.to_out((weights @ v).transpose(1, 2).flatten(2))


def _feed_forward(dim: int, mult: int) -> nn.Sequential:
    return nn.Sequential(
        nn.LayerNorm(dim),
        nn.Linear(dim, dim * mult, bias=False),
        nn.GELU(),
        nn.Linear(dim * mult, dim, bias=False),
    )


class FacePerceiver(nn.Module):
    """Refines the face tokens with the CLIP image token; zero-init output projection."""

    def __init__(self, dim: int, context_dim: int, depth: int, heads: int, dim_head: int,
                 ff_mult: int):
        super().__init__()
        self.proj_in = nn.Linear(context_dim, dim)
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(dim, heads, dim_head), _feed_forward(dim, ff_mult)])
            for _ in range(depth)
        )
        self.proj_out = nn.Linear(dim, dim)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)
        self.norm_out = nn.LayerNorm(dim)

    def forward(self, latents: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        context = self.proj_in(context)
        for attn, ff in self.layers:
            latents = attn(context, latents) + latents
            latents = ff(latents) + latents
        return self.norm_out(self.proj_out(latents))


class FaceProjector(ModelMixin, ConfigMixin):
    """ArcFace embedding (B, 512) + CLIP image embedding (B, 1, clip_dim) -> (B, N, dim) tokens.

    Defaults are StableAnimator's (57.2 M parameters); the tiny preset passes the tiny UNet's
    cross_attention_dim and fewer heads.
    """

    @register_to_config
    def __init__(
        self,
        cross_attention_dim: int = 1024,
        id_embeddings_dim: int = 512,
        clip_embeddings_dim: int = 1024,
        num_tokens: int = 4,
        depth: int = 4,
        heads: int = 16,
        dim_head: int = 64,
        ff_mult: int = 4,
    ):
        super().__init__()
        dim = cross_attention_dim
        self.proj = nn.Sequential(
            nn.Linear(id_embeddings_dim, 2 * id_embeddings_dim),
            nn.GELU(),
            nn.Linear(2 * id_embeddings_dim, dim * num_tokens),
        )
        self.norm = nn.LayerNorm(dim)
        self.fusion_model = FacePerceiver(dim, clip_embeddings_dim, depth, heads, dim_head,
                                          ff_mult)

    def forward(self, face_embeds: torch.Tensor, clip_embeds: torch.Tensor) -> torch.Tensor:
        face_embeds = face_embeds.to(self.dtype)
        clip_embeds = clip_embeds.to(self.dtype)
        if clip_embeds.ndim == 2:
            clip_embeds = clip_embeds[:, None]
        tokens = self.proj(face_embeds).unflatten(-1, (self.config.num_tokens, -1))
        return self.fusion_model(self.norm(tokens), clip_embeds)


def normalize_to(face_out: torch.Tensor, main_out: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Rescale `face_out` to the mean/std of `main_out`, per sample over (tokens, channels);
    std is torch's default (unbiased) one."""
    dims = tuple(range(1, face_out.ndim))
    mean_f, std_f = face_out.mean(dims, keepdim=True), face_out.std(dims, keepdim=True)
    mean_m, std_m = main_out.mean(dims, keepdim=True), main_out.std(dims, keepdim=True)
    return (face_out - mean_f) * (std_m / (std_f + eps)) + mean_m


class IdentityAttnProcessor(nn.Module):
    """Cross-attention over [main tokens, N face tokens] with separate face key/value weights.

    out = to_out(attn(q, main) + strength * face), face = attn(q, id_to_k(f), id_to_v(f)),
    rescaled to attn(q, main)'s statistics first in `normalized` mode. With strength 0 the face
    branch is skipped, which makes the result identical to plain attention over the main tokens.
    In `normalized` mode even all-zero face tokens add the main output's mean (StableAnimator's
    unconditional pass does exactly that), so "zero-init changes nothing" holds in `sum` mode.
    Registered as `attn.processor`, its weights appear in the UNet's state dict as
    `...attn2.processor.id_to_k.weight` / `.id_to_v.weight`.
    """

    def __init__(self, hidden_size: int, cross_attention_dim: int, num_tokens: int = 4,
                 mode: str = "sum", strength: float = 1.0):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"identity mode must be one of {MODES}, got {mode!r}")
        self.num_tokens = num_tokens
        self.mode = mode
        self.strength = strength
        self.id_to_k = nn.Linear(cross_attention_dim, hidden_size, bias=False)
        self.id_to_v = nn.Linear(cross_attention_dim, hidden_size, bias=False)

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if encoder_hidden_states is None or attention_mask is not None:
            raise ValueError("IdentityAttnProcessor is for unmasked cross-attention only")
        if encoder_hidden_states.shape[1] <= self.num_tokens:
            raise ValueError(
                f"context has {encoder_hidden_states.shape[1]} tokens; the identity processors "
                f"expect the main tokens followed by {self.num_tokens} face tokens"
            )
        context = encoder_hidden_states[:, : -self.num_tokens]
        face = encoder_hidden_states[:, -self.num_tokens :]
        if attn.norm_cross:
            context = attn.norm_encoder_hidden_states(context)

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.unflatten(-1, (attn.heads, -1)).transpose(1, 2)

        query = heads(attn.to_q(hidden_states))
        out = F.scaled_dot_product_attention(query, heads(attn.to_k(context)),
                                             heads(attn.to_v(context)))
        out = out.transpose(1, 2).flatten(2).to(query.dtype)
        if self.strength != 0:
            face_out = F.scaled_dot_product_attention(query, heads(self.id_to_k(face)),
                                                      heads(self.id_to_v(face)))
            face_out = face_out.transpose(1, 2).flatten(2).to(query.dtype)
            if self.mode == "normalized":
                face_out = normalize_to(face_out, out)
            out = out + self.strength * face_out
        out = attn.to_out[0](out)
        out = attn.to_out[1](out)
        if attn.residual_connection:
            out = out + hidden_states
        return out / attn.rescale_output_factor


class TrimContextProcessor:
    """Wraps a processor and drops the last `num_tokens` context tokens, so temporal
    cross-attention never sees the face tokens."""

    def __init__(self, processor, num_tokens: int):
        self.processor = processor
        self.num_tokens = num_tokens

    def __call__(
        self,
        attn: Attention,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.processor(attn, hidden_states, encoder_hidden_states[:, : -self.num_tokens],
                              attention_mask=attention_mask)
