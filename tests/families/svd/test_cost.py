"""The time estimate the app shows before generating."""

from __future__ import annotations

from dataclasses import replace

from animator.estimate import describe_seconds
from animator.families.svd.config import GenerationConfig
from animator.families.svd.cost import estimate_cpu_seconds, generation_flops


def test_flops_scale_with_frames_steps_size_and_guidance():
    base = GenerationConfig(height=1024, width=576, num_inference_steps=25, window=16, overlap=4)
    one = generation_flops(16, base)
    assert one == 2.62e12 * 16 * 25 * 2  # one window, guidance on: two UNet passes
    assert generation_flops(16, replace(base, num_inference_steps=5)) == one / 5
    assert generation_flops(16, replace(base, height=512, width=288)) == one / 4
    assert generation_flops(16, replace(base, min_guidance_scale=1, max_guidance_scale=1)) \
        == one / 2
    assert generation_flops(60, base) > 60 / 16 * one  # overlapping windows cost extra


def test_cpu_estimate_is_positive_and_readable():
    seconds = estimate_cpu_seconds(60, GenerationConfig())
    assert seconds > 60  # a real SVD model on a CPU is slow
    assert describe_seconds(59) == "about 59 seconds"
    assert describe_seconds(3 * 3600 + 100) == "about 3 hours"
    assert describe_seconds(90) == "about 2 minutes"
