from __future__ import annotations

import math

import pytest
import torch
from diffusers.models.attention_processor import Attention, AttnProcessor2_0

from animator.families.svd.models.identity import (
    FaceProjector,
    IdentityAttnProcessor,
    PerceiverAttention,
    TrimContextProcessor,
)


def stable_animator_face_encoder_keys() -> dict[str, tuple[int, ...]]:
    """StableAnimator's face_encoder.pth layout (shared/reference/checkpoints.md)."""
    keys = {
        "proj.0.weight": (1024, 512), "proj.0.bias": (1024,),
        "proj.2.weight": (4096, 1024), "proj.2.bias": (4096,),
        "norm.weight": (1024,), "norm.bias": (1024,),
        "fusion_model.proj_in.weight": (1024, 1024), "fusion_model.proj_in.bias": (1024,),
        "fusion_model.proj_out.weight": (1024, 1024), "fusion_model.proj_out.bias": (1024,),
        "fusion_model.norm_out.weight": (1024,), "fusion_model.norm_out.bias": (1024,),
    }
    for i in range(4):
        p = f"fusion_model.layers.{i}"
        for norm in ("norm1", "norm2"):
            keys[f"{p}.0.{norm}.weight"] = (1024,)
            keys[f"{p}.0.{norm}.bias"] = (1024,)
        keys[f"{p}.0.to_q.weight"] = (1024, 1024)
        keys[f"{p}.0.to_kv.weight"] = (2048, 1024)
        keys[f"{p}.0.to_out.weight"] = (1024, 1024)
        keys[f"{p}.1.0.weight"] = (1024,)
        keys[f"{p}.1.0.bias"] = (1024,)
        keys[f"{p}.1.1.weight"] = (4096, 1024)
        keys[f"{p}.1.3.weight"] = (1024, 4096)
    return keys


def _randomize(module: torch.nn.Module, seed: int = 0, std: float = 0.2) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)


def tiny_projector() -> FaceProjector:
    return FaceProjector(cross_attention_dim=32, clip_embeddings_dim=32, heads=4, dim_head=8)


def test_stable_animator_face_encoder_loads():
    projector = FaceProjector()
    expected = stable_animator_face_encoder_keys()
    assert {k: tuple(v.shape) for k, v in projector.state_dict().items()} == expected
    state = {k: torch.randn(shape) * 0.02 for k, shape in expected.items()}
    result = projector.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert sum(p.numel() for p in projector.parameters()) == 57_183_232
    tokens = projector(torch.randn(2, 512), torch.randn(2, 1, 1024))
    assert tokens.shape == (2, 4, 1024)


def test_projector_sizes_follow_config_and_start_at_zero():
    projector = tiny_projector()
    assert isinstance(projector.proj[1], torch.nn.GELU) and projector.proj[1].approximate == "none"
    tokens = projector(torch.randn(3, 512), torch.randn(3, 32))
    assert tokens.shape == (3, 4, 32)
    assert torch.count_nonzero(tokens) == 0  # zero-init proj_out, LayerNorm bias 0


def test_projector_attends_to_clip_token():
    projector = tiny_projector()
    _randomize(projector)
    face = torch.randn(1, 512)
    a = projector(face, torch.randn(1, 1, 32))
    b = projector(face, torch.randn(1, 1, 32))
    assert not torch.allclose(a, b)


def test_perceiver_attention_matches_formula():
    torch.manual_seed(0)
    attn = PerceiverAttention(dim=16, heads=2, dim_head=8)
    _randomize(attn, std=0.3)
    context, latents = torch.randn(2, 1, 16), torch.randn(2, 4, 16)
    c, x = attn.norm1(context), attn.norm2(latents)
    q = attn.to_q(x).view(2, 4, 2, 8).transpose(1, 2)
    k, v = (t.view(2, 5, 2, 8).transpose(1, 2)
            for t in attn.to_kv(torch.cat([c, x], 1)).chunk(2, dim=-1))
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(8), dim=-1)
    ref = attn.to_out((w @ v).transpose(1, 2).reshape(2, 4, 16))
    torch.testing.assert_close(attn(context, latents), ref, atol=1e-6, rtol=1e-5)


def _attention() -> Attention:
    torch.manual_seed(1)
    attn = Attention(query_dim=32, cross_attention_dim=16, heads=4, dim_head=8)
    attn.set_processor(AttnProcessor2_0())
    return attn


def _manual_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int
                      ) -> torch.Tensor:
    b, n, c = q.shape
    q, k, v = (t.view(b, -1, heads, c // heads).transpose(1, 2) for t in (q, k, v))
    w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(c // heads), dim=-1)
    return (w @ v).transpose(1, 2).reshape(b, n, c)


def _reference(attn, proc, hidden, context, mode, strength):
    """The decoupled cross-attention written out by hand (shared/reference/checkpoints.md)."""
    main_ctx, face_ctx = context[:, :-4], context[:, -4:]
    q = attn.to_q(hidden)
    main = _manual_attention(q, attn.to_k(main_ctx), attn.to_v(main_ctx), attn.heads)
    face = _manual_attention(q, proc.id_to_k(face_ctx), proc.id_to_v(face_ctx), attn.heads)
    if mode == "normalized":
        mean_f = face.mean(dim=(1, 2), keepdim=True)
        std_f = face.std(dim=(1, 2), keepdim=True)
        mean_m = main.mean(dim=(1, 2), keepdim=True)
        std_m = main.std(dim=(1, 2), keepdim=True)
        face = (face - mean_f) * (std_m / (std_f + 1e-5)) + mean_m
    return attn.to_out[0](main + strength * face)


@pytest.mark.parametrize("mode", ["sum", "normalized"])
def test_identity_processor_matches_reference(mode):
    attn = _attention()
    proc = IdentityAttnProcessor(32, 16, num_tokens=4, mode=mode, strength=0.7)
    _randomize(proc, seed=2)
    hidden, context = torch.randn(3, 10, 32), torch.randn(3, 5, 16)
    attn.set_processor(proc)
    with torch.no_grad():
        out = attn(hidden, encoder_hidden_states=context)
        ref = _reference(attn, proc, hidden, context, mode, 0.7)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    # Normalized and sum really differ, so the test can tell the modes apart.
    other = _reference(attn, proc, hidden, context, "sum" if mode == "normalized" else
                       "normalized", 0.7)
    assert not torch.allclose(out, other, atol=1e-3)


def test_normalized_mode_with_zero_face_tokens_adds_main_mean():
    # StableAnimator's unconditional pass: zero face tokens -> face output 0 -> + mean_main.
    attn = _attention()
    proc = IdentityAttnProcessor(32, 16, mode="normalized")
    _randomize(proc, seed=3)
    hidden = torch.randn(2, 6, 32)
    context = torch.cat([torch.randn(2, 1, 16), torch.zeros(2, 4, 16)], dim=1)
    attn.set_processor(proc)
    with torch.no_grad():
        out = attn(hidden, encoder_hidden_states=context)
        main = _manual_attention(attn.to_q(hidden), attn.to_k(context[:, :1]),
                                 attn.to_v(context[:, :1]), attn.heads)
        ref = attn.to_out[0](main + main.mean(dim=(1, 2), keepdim=True))
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_strength_zero_is_plain_attention_on_main_tokens():
    attn = _attention()
    hidden, context = torch.randn(2, 7, 32), torch.randn(2, 5, 16)
    with torch.no_grad():
        plain = attn(hidden, encoder_hidden_states=context[:, :1])
        proc = IdentityAttnProcessor(32, 16, mode="normalized", strength=0.0)
        _randomize(proc)
        attn.set_processor(proc)
        assert torch.equal(attn(hidden, encoder_hidden_states=context), plain)
        proc.strength = 1.0
        assert not torch.allclose(attn(hidden, encoder_hidden_states=context), plain)


def test_processor_parameters_have_no_bias():
    proc = IdentityAttnProcessor(320, 1024)
    assert {k: tuple(v.shape) for k, v in proc.state_dict().items()} == {
        "id_to_k.weight": (320, 1024), "id_to_v.weight": (320, 1024)}
    with pytest.raises(ValueError):
        IdentityAttnProcessor(32, 16, mode="other")


def test_trim_context_drops_face_tokens():
    attn = _attention()
    hidden, context = torch.randn(2, 7, 32), torch.randn(2, 5, 16)
    with torch.no_grad():
        plain = attn(hidden, encoder_hidden_states=context[:, :1])
        attn.set_processor(TrimContextProcessor(AttnProcessor2_0(), 4))
        assert torch.equal(attn(hidden, encoder_hidden_states=context), plain)
