"""The full-size cost model of wan-animate (meta-device models): sizes match the published
ones, FLOPs grow faster than the pixel count (attention), and the clip count follows the
library's segment rounding."""

from __future__ import annotations

import pytest

from animator.families.wan import cost


def test_parameter_counts_match_the_published_sizes():
    n = cost.parameter_counts()
    assert 30e9 <= 2 * n["transformer"] <= 35e9  # "about 33-35 GB of bf16 transformer"
    assert 11.0e9 <= 2 * n["text_encoder"] <= 11.8e9  # umT5-XXL, "about 11 GB in bf16"
    assert n["image_encoder"] < 1e9 and n["vae"] < 0.2e9  # "small"


def test_weight_memory_per_mode():
    none, model, group = (cost.weight_memory(m) for m in ("none", "model", "group"))
    assert none > model > group
    assert cost.weight_memory("model", fp8=True) < 0.6 * model
    assert group < 24e9  # fits a 24 GB card, activations aside
    with pytest.raises(ValueError):
        cost.weight_memory("disk")


def test_flops_and_segments():
    small, large = cost.transformer_flops(480, 832), cost.transformer_flops(720, 1280)
    assert large / small > (720 * 1280) / (480 * 832)  # attention grows with tokens squared
    # the third-party H100 figure (19.4 s per step at 720p) means 200-600 TFLOP/s: plausible
    assert 200e12 < large / 19.4 < 600e12
    assert cost.num_segments(77) == 1 and cost.num_segments(78) == 2 and cost.num_segments(1) == 1
    one = cost.generation_flops(77, 480, 832, steps=4)
    assert cost.generation_flops(78, 480, 832, steps=4) == 2 * one
    assert cost.generation_flops(77, 480, 832, steps=4, guidance=True) == 2 * one


def test_cpu_estimate_knows_both_families(monkeypatch):
    import animator.estimate
    from animator.families import estimate_cpu_seconds

    monkeypatch.setattr(animator.estimate, "cpu_flops", lambda: 1e12)  # a 1 TFLOP/s CPU
    wan = estimate_cpu_seconds("wan-animate", 77, 832, 480)
    assert wan == pytest.approx(20 * cost.transformer_flops(480, 832) / 1e12)
    fast = estimate_cpu_seconds("wan-animate", 77, 832, 480, {"num_inference_steps": 4})
    assert fast == pytest.approx(wan / 5)
    svd = estimate_cpu_seconds("mimicmotion", 77, 576, 1024)
    from animator.families.svd.cost import estimate_cpu_seconds as svd_seconds
    from animator.families.svd.presets import PRESETS

    assert svd == pytest.approx(svd_seconds(77, PRESETS["mimicmotion"].defaults, anchor=True))
    assert wan > 2 * svd  # even without guidance, the 14B transformer costs more
