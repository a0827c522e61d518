"""Replace mode's relighting LoRA (issue 18): Wan2.2 builds it with get_loraconfig (rank
128, alpha 128, every nn.Linear under "blocks" whose name has neither "face" nor
"modulation") and loads relighting_lora.ckpt's "state_dict" with set_peft_model_state_dict,
in the original module names (blocks.N.self_attn.q, cross_attn.k_img, ffn.0, ...). Checked
on a tiny real WanAnimateTransformer3DModel with a tiny state dict crafted in those names."""

from __future__ import annotations

import pytest
import torch

from animator.errors import InputError
from animator.families.wan import relight
from animator.families.wan.tiny import tiny_wan_pipeline

RANK = 4
ORIGINAL = ("self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o", "cross_attn.q",
            "cross_attn.k", "cross_attn.v", "cross_attn.o", "ffn.0", "ffn.2")


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_wan_pipeline()
    pipe.set_progress_bar_config(disable=True)
    return pipe


def crafted(pipe) -> dict[str, torch.Tensor]:
    """A PEFT state dict in Wan's original names for the tiny transformer's shapes."""
    by_name = dict(pipe.transformer.named_modules())
    gen = torch.Generator().manual_seed(0)
    state = {}
    for block in range(len(pipe.transformer.blocks)):
        for name in ORIGINAL:
            target = by_name[f"blocks.{block}.{relight._MODULES[name]}"]
            state[f"blocks.{block}.{name}.lora_A.weight"] = torch.randn(
                RANK, target.in_features, generator=gen)
            state[f"blocks.{block}.{name}.lora_B.weight"] = torch.randn(
                target.out_features, RANK, generator=gen)
    return state


def test_the_public_lora_reaches_every_block_linear_once(pipe, tmp_path):
    state = crafted(pipe)
    ckpt = tmp_path / relight.RELIGHT_FILE
    torch.save({"state_dict": state}, ckpt)
    cached = relight.cached(ckpt)
    assert cached.name == "relighting_lora.diffusers.safetensors" and cached.is_file()
    assert relight.cached(ckpt) == cached  # made once
    relight.attach(pipe, ckpt)
    # the public targets in diffusers' model: the blocks' linears, none of the face adapter's
    targets = {n for n, m in pipe.transformer.named_modules()
               if n.startswith("blocks.") and hasattr(m, "lora_A")}
    assert len(targets) == 2 * len(ORIGINAL)
    q = pipe.transformer.blocks[1].attn1.to_q
    torch.testing.assert_close(q.lora_A[relight.ADAPTER].weight,
                               state["blocks.1.self_attn.q.lora_A.weight"])
    x = torch.randn(3, q.in_features)
    base = q.base_layer(x)
    assert torch.equal(q(x), base)  # attached switched off
    pipe.enable_lora()
    try:  # alpha = rank: the update is B @ A, as set_peft_model_state_dict gives
        update = x @ state["blocks.1.self_attn.q.lora_A.weight"].T \
            @ state["blocks.1.self_attn.q.lora_B.weight"].T
        torch.testing.assert_close(q(x), base + update, rtol=1e-4, atol=1e-4)
    finally:
        pipe.disable_lora()


def test_names_and_refusals():
    a, b = torch.ones(2, 3), torch.ones(5, 2)
    mapped = relight.to_diffusers({"blocks.7.cross_attn.k_img.lora_A.weight": a,
                                   "blocks.7.cross_attn.k_img.lora_B.weight": b,
                                   "blocks.7.ffn.2.lora_A.weight": a,
                                   "blocks.7.ffn.2.lora_B.weight": b}, alpha=4)
    assert sorted(mapped) == ["transformer.blocks.7.attn2.add_k_proj.lora_A.weight",
                              "transformer.blocks.7.attn2.add_k_proj.lora_B.weight",
                              "transformer.blocks.7.ffn.net.2.lora_A.weight",
                              "transformer.blocks.7.ffn.net.2.lora_B.weight"]
    assert torch.equal(mapped["transformer.blocks.7.ffn.net.2.lora_B.weight"], 2 * b)
    with pytest.raises(InputError, match="not Wan block layers"):
        relight.to_diffusers({"face_adapter.fuser_blocks.0.linear1_kv.lora_A.weight": a})


def test_relighting_is_for_replace_mode_only():
    from animator import families

    with pytest.raises(InputError, match="replace mode only"):
        families.check_settings("wan-animate", {"relighting_lora": True})
    assert families.check_settings("wan-animate", {"relighting_lora": True,
                                                   "mode": "replace"})["relighting_lora"]


def test_replace_mode_runs_with_the_relighting_lora_and_only_then(tmp_path):
    """The generator switches the adapter on for a replace-mode call that asks for it (the
    frames change), off again afterwards; without the file it refuses before any work."""
    from animator.families import wan
    from tests.families.wan.people import inputs

    pipe = tiny_wan_pipeline()
    pipe.set_progress_bar_config(disable=True)
    ckpt = tmp_path / relight.RELIGHT_FILE
    torch.save({"state_dict": {k: v * 10 for k, v in crafted(pipe).items()}}, ckpt)
    generator = wan.build(pipe, wan.get_preset("wan-animate"), device="cpu", memory="none",
                          relight_lora=ckpt)
    small = {"height": 16, "width": 16, "segment_frame_length": 5, "num_inference_steps": 1,
             "mode": "replace", "mask_source": "hull", "seed": 1, "keep_background": False}
    plain, lit = [], []
    generator(inputs(2, settings=small), plain.append)
    made = generator(inputs(2, settings={**small, "relighting_lora": True}), lit.append)
    assert made.settings["relighting_lora"]
    assert any((a != b).any() for a, b in zip(plain, lit, strict=True))
    again = []
    generator(inputs(2, settings=small), again.append)
    assert all((a == b).all() for a, b in zip(plain, again, strict=True))  # switched off again
    generator.relight_lora = None
    with pytest.raises(InputError, match="download --preset wan-animate"):
        generator(inputs(2, settings={**small, "relighting_lora": True}), lit.append)
