from __future__ import annotations

import pytest
import torch

from animator.families.svd.models.pose_encoder import FusedPoseEncoder

# The public skeleton-encoder layout (shared/reference/checkpoints.md), MimicMotion's and
# StableAnimator's `pose_net`.
PUBLIC_POSE_NET = {
    "conv_layers.0.weight": (3, 3, 3, 3), "conv_layers.0.bias": (3,),
    "conv_layers.2.weight": (16, 3, 4, 4), "conv_layers.2.bias": (16,),
    "conv_layers.4.weight": (16, 16, 3, 3), "conv_layers.4.bias": (16,),
    "conv_layers.6.weight": (32, 16, 4, 4), "conv_layers.6.bias": (32,),
    "conv_layers.8.weight": (32, 32, 3, 3), "conv_layers.8.bias": (32,),
    "conv_layers.10.weight": (64, 32, 4, 4), "conv_layers.10.bias": (64,),
    "conv_layers.12.weight": (64, 64, 3, 3), "conv_layers.12.bias": (64,),
    "conv_layers.14.weight": (128, 64, 3, 3), "conv_layers.14.bias": (128,),
    "final_proj.weight": (320, 128, 1, 1), "final_proj.bias": (320,),
    "scale": (1,),
}


def _randomize(module: torch.nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)


def _images(frames: int = 2, h: int = 64, w: int = 48, seed: int = 0) -> torch.Tensor:
    return torch.rand(frames, 3, h, w, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_public_pose_net_loads_into_skeleton_branch():
    encoder = FusedPoseEncoder(out_channels=320)
    state = {k: torch.randn(shape) for k, shape in PUBLIC_POSE_NET.items()}
    result = encoder.skeleton.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert {k: tuple(v.shape) for k, v in encoder.skeleton.state_dict().items()} == PUBLIC_POSE_NET
    assert sum(p.numel() for p in encoder.skeleton.parameters()) == 205_557
    assert torch.equal(encoder.skeleton.final_proj.weight, state["final_proj.weight"])


def test_fresh_encoder_adds_zero_and_scale_starts_at_two():
    encoder = FusedPoseEncoder(out_channels=32, attention_blocks=1, attention_heads=4)
    out = encoder(_images(), _images(seed=1))
    assert out.shape == (2, 32, 8, 6)
    assert torch.count_nonzero(out) == 0
    assert encoder.skeleton.scale.item() == 2.0 and encoder.dense.scale.item() == 2.0


@pytest.mark.parametrize("width", [32, 320])
def test_output_is_unet_width_at_one_eighth(width):
    encoder = FusedPoseEncoder(out_channels=width, with_dense=False)
    _randomize(encoder)
    out = encoder(_images(3, 32, 72))
    assert out.shape == (3, width, 4, 9)
    assert out.abs().sum() > 0


def test_attention_blocks_start_as_identity():
    plain = FusedPoseEncoder(out_channels=32, with_dense=False)
    _randomize(plain)
    attn = FusedPoseEncoder(out_channels=32, with_dense=False, attention_blocks=2,
                            attention_heads=4)
    missing = attn.skeleton.load_state_dict(plain.skeleton.state_dict(), strict=False)
    assert missing.unexpected_keys == []
    assert all(k.startswith("attention.") for k in missing.missing_keys)
    x = _images()
    torch.testing.assert_close(attn(x), plain(x))
    # Once trained (non-zero output projection), the attention changes the features.
    _randomize(attn.skeleton.attention)
    assert not torch.allclose(attn(x), plain(x))


def test_branches_sum_and_absent_ones_contribute_zero():
    encoder = FusedPoseEncoder(out_channels=32)
    _randomize(encoder)
    skel, dense = _images(seed=0), _images(seed=1)
    both, only_skel, only_dense = encoder(skel, dense), encoder(skel), encoder(None, dense)
    torch.testing.assert_close(both, only_skel + only_dense)
    assert not torch.allclose(only_skel, only_dense)
    assert encoder(None, None) is None

    no_dense = FusedPoseEncoder(out_channels=32, with_dense=False)
    no_dense.skeleton.load_state_dict(encoder.skeleton.state_dict())
    torch.testing.assert_close(no_dense(skel, dense), only_skel)
    assert no_dense(None, dense) is None
    with pytest.raises(ValueError):
        FusedPoseEncoder(with_skeleton=False, with_dense=False)


def test_save_load_round_trip(tmp_path):
    encoder = FusedPoseEncoder(out_channels=32, attention_blocks=1, attention_heads=4)
    _randomize(encoder)
    encoder.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    loaded = FusedPoseEncoder.from_pretrained(tmp_path)
    x, d = _images(), _images(seed=3)
    assert torch.equal(loaded(x, d), encoder(x, d))
    assert loaded.config.attention_blocks == 1


def test_bf16_forward():
    encoder = FusedPoseEncoder(out_channels=32, attention_blocks=1, attention_heads=4)
    _randomize(encoder)
    ref = encoder(_images())
    out = encoder.to(torch.bfloat16)(_images())
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=0.1 * ref.abs().max().item(), rtol=0.05)
