from __future__ import annotations

import pytest
import torch
from diffusers import UNetSpatioTemporalConditionModel
from diffusers.models.attention_processor import AttnProcessor2_0

from animator.families.svd.models.identity import IdentityAttnProcessor, TrimContextProcessor
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.tiny import tiny_components
from animator.families.svd.models.unet import (
    identity_processors,
    identity_state_dict,
    install_identity,
    install_pose,
    load_identity_state_dict,
    pose_injector,
    remove_identity,
    remove_pose,
    set_identity,
)

FRAMES = 3


@pytest.fixture
def unet() -> UNetSpatioTemporalConditionModel:
    return tiny_components(0)["unet"]


def _inputs(batch: int = 2, tokens: int = 1, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    sample = torch.randn(batch, FRAMES, 8, 8, 8, generator=gen)
    context = torch.randn(batch, tokens, 32, generator=gen)
    time_ids = torch.tensor([[6.0, 127.0, 0.02]]).repeat(batch, 1)
    return sample, torch.tensor(5.0), context, time_ids


def _run(unet, sample, t, context, time_ids) -> torch.Tensor:
    with torch.no_grad():
        return unet(sample, t, context, time_ids, return_dict=False)[0]


def _svd_layout_unet() -> UNetSpatioTemporalConditionModel:
    """SVD's block structure (3 cross-attention levels + 1 plain) at toy widths."""
    torch.manual_seed(0)
    return UNetSpatioTemporalConditionModel(
        block_out_channels=(32, 64, 128, 128),
        num_attention_heads=(2, 4, 8, 8),
        cross_attention_dim=48,
        layers_per_block=2,
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=24,
    )


def test_identity_keys_follow_stable_animator_names():
    unet = _svd_layout_unet()
    install_identity(unet, num_tokens=4)
    keys = {k: tuple(v.shape) for k, v in unet.state_dict().items() if ".processor." in k}
    width = {"down_blocks.0": 32, "down_blocks.1": 64, "down_blocks.2": 128, "mid_block": 128,
             "up_blocks.1": 128, "up_blocks.2": 64, "up_blocks.3": 32}
    expected = {}
    for block, c in width.items():
        count = 1 if block == "mid_block" else 2 if block.startswith("down") else 3
        for j in range(count):
            for name in ("id_to_k", "id_to_v"):
                key = f"{block}.attentions.{j}.transformer_blocks.0.attn2.processor.{name}.weight"
                expected[key] = (c, 48)
    assert len(expected) == 32  # 16 processors, as in StableAnimator's unet.pth
    assert keys == expected
    assert set(identity_state_dict(unet)) == set(expected)


def test_install_and_remove_restore_everything(unet):
    sample, t, context, ids = _inputs()
    before = _run(unet, sample, t, context, ids)
    originals = dict(unet.attn_processors)
    keys = set(unet.state_dict())
    procs = install_identity(unet, num_tokens=4, init="zeros")
    assert len(procs) == 6  # down_blocks.0: 2, mid_block: 1, up_blocks.1: 3
    assert install_identity(unet, num_tokens=4, mode="normalized") == procs  # idempotent
    assert all(p.mode == "normalized" for p in procs.values())
    with pytest.raises(ValueError):
        install_identity(unet, num_tokens=2)
    temporal = [n for n, p in unet.attn_processors.items() if isinstance(p, TrimContextProcessor)]
    assert len(temporal) == 6 and all("temporal_transformer_blocks" in n for n in temporal)
    install_pose(unet)
    remove_identity(unet)
    remove_pose(unet)
    assert pose_injector(unet) is None
    assert set(unet.state_dict()) == keys
    assert all(unet.attn_processors[n] is p for n, p in originals.items())
    assert torch.equal(_run(unet, sample, t, context, ids), before)


def test_temporal_attention_never_sees_face_tokens(unet):
    seen = []

    class Spy(AttnProcessor2_0):
        def __call__(self, attn, hidden_states, encoder_hidden_states=None, **kwargs):
            seen.append(encoder_hidden_states.shape[1])
            return super().__call__(attn, hidden_states, encoder_hidden_states, **kwargs)

    for name, module in unet.named_modules():
        if name.endswith("temporal_transformer_blocks.0"):
            module.attn2.set_processor(Spy())
    install_identity(unet, num_tokens=4)
    sample, t, context, ids = _inputs(tokens=5)
    _run(unet, sample, t, context, ids)
    assert seen and set(seen) == {1}


def test_zero_strength_or_zero_weights_equal_the_plain_unet(unet):
    sample, t, context, ids = _inputs(tokens=5)
    plain = _run(unet, sample, t, context[:, :1], ids)
    install_identity(unet, num_tokens=4, init="zeros")  # sum mode, id_to_v = 0
    torch.testing.assert_close(_run(unet, sample, t, context, ids), plain, atol=1e-6, rtol=0)
    for proc in identity_processors(unet).values():
        torch.nn.init.normal_(proc.id_to_k.weight, std=0.5)
        torch.nn.init.normal_(proc.id_to_v.weight, std=0.5)
    assert not torch.allclose(_run(unet, sample, t, context, ids), plain, atol=1e-4)
    set_identity(unet, strength=0.0)
    assert torch.equal(_run(unet, sample, t, context, ids), plain)


def test_identity_state_dict_round_trip(unet):
    install_identity(unet, num_tokens=4)
    state = {k: torch.randn_like(v) for k, v in identity_state_dict(unet).items()}
    load_identity_state_dict(unet, state)
    assert all(torch.equal(unet.state_dict()[k], v) for k, v in state.items())
    state.pop(next(iter(state)))
    with pytest.raises(ValueError, match="missing"):
        load_identity_state_dict(unet, state)


def test_pose_features_follow_the_cfg_batch_layout(unet):
    captured = []
    injector = install_pose(unet)
    assert install_pose(unet) is injector
    unet.conv_in.register_forward_hook(lambda m, a, out: captured.append(out))
    sample, t, context, ids = _inputs(batch=2)
    base = _run(unet, sample, t, context, ids)
    features = torch.randn(FRAMES, 32, 8, 8)  # one map per frame, conditional sample only
    with injector.use(features):
        posed = _run(unet, sample, t, context, ids)
    assert injector.features is None
    delta = (captured[1] - captured[0]).unflatten(0, (2, FRAMES))
    assert torch.count_nonzero(delta[0]) == 0  # unconditional half: no pose
    torch.testing.assert_close(delta[1], features, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(posed[0], base[0], atol=1e-6, rtol=0)
    assert not torch.allclose(posed[1], base[1])
    # A batch of b feature maps goes to the last b samples.
    with injector.use(torch.stack([features, -features])):
        _run(unet, sample, t, context, ids)
    delta = (captured[2] - captured[0]).unflatten(0, (2, FRAMES))
    torch.testing.assert_close(delta, torch.stack([features, -features]), atol=1e-5, rtol=1e-5)


def test_bf16_forward_with_controls(unet):
    encoder = FusedPoseEncoder(out_channels=32, attention_blocks=1, attention_heads=4)
    for p in encoder.parameters():
        torch.nn.init.normal_(p, std=0.05)
    injector = install_pose(unet)
    procs = install_identity(unet, num_tokens=4)
    sample, t, context, ids = _inputs(tokens=5)
    images = torch.rand(FRAMES, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        with injector.use(encoder(images)):
            ref = _run(unet, sample, t, context, ids)
        unet.to(torch.bfloat16)
        encoder.to(torch.bfloat16)
        assert all(p.id_to_k.weight.dtype == torch.bfloat16 for p in procs.values())
        with injector.use(encoder(images)):
            out = _run(unet, sample.bfloat16(), t, context.bfloat16(), ids.bfloat16())
    assert out.dtype == torch.bfloat16 and torch.isfinite(out).all()
    err = (out.float() - ref).abs().mean() / ref.abs().mean()
    assert err < 0.05


@pytest.mark.slow
def test_torch_compile_with_controls(unet):
    injector = install_pose(unet)
    install_identity(unet, num_tokens=4)
    for proc in identity_processors(unet).values():
        torch.nn.init.normal_(proc.id_to_v.weight, std=0.5)
    sample, t, context, ids = _inputs(tokens=5)
    features = torch.randn(FRAMES, 32, 8, 8)
    with injector.use(features):
        eager = _run(unet, sample, t, context, ids)
    compiled = torch.compile(unet)
    with injector.use(features):
        out = _run(compiled, sample, t, context, ids)
    torch.testing.assert_close(out, eager, atol=1e-4, rtol=1e-4)
    assert isinstance(unet.mid_block.attentions[0].transformer_blocks[0].attn2.processor,
                      IdentityAttnProcessor)
