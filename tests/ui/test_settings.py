"""The generation settings section: controls drawn from the families, and what an API call
asks of Animator (a preset named in the call brings its own defaults)."""

from __future__ import annotations

import gradio as gr
import pytest

from animator.animate import Animator
from animator.errors import InputError
from animator.ui.settings import AUTO_SIZE, Settings, size


def section(preset: str) -> Settings:
    with gr.Blocks():
        return Settings(Animator(preset, device="cpu"))


def values(settings: Settings, **changed) -> dict:
    """The page's values (what an API call that names nothing sends), with changes."""
    return {**{name: c.value for name, c in settings.api.items()}, **changed}


@pytest.fixture(scope="module")
def tiny_page():
    return section("tiny")


def test_controls_are_the_families_declarations(tiny_page):
    controls = tiny_page.controls
    assert list(tiny_page.api)[:6] == ["preset", "resolution", "fps", "seed", "randomize_seed",
                                       "steps"]
    assert list(tiny_page.api)[-1] == "low_memory"
    assert controls["window"].visible and not controls["prompt"].visible
    assert controls["window"].value == 8 and controls["segment_length"].value == 77
    assert (controls["prompt"].elem_id, controls["mode"].elem_id) == ("prompt", "wan_mode")
    wan_page = section("wan-animate")
    assert not wan_page.controls["window"].visible and wan_page.controls["fast"].visible
    assert wan_page.controls["steps"].value == 20 and wan_page.fps.value == 30
    assert wan_page.controls["window"].value == 16  # stableanimator's, the first SVD preset


def test_the_page_preset_takes_the_values_as_given(tiny_page):
    asked = tiny_page.request(values(tiny_page, steps=2, resolution="64x64"))
    assert asked.generation["num_inference_steps"] == 2 and asked.fps == 15.0
    assert (asked.generation["width"], asked.generation["height"]) == (64, 64)
    assert asked.generation["window"] == 8 and asked.generation["seed"] == 42
    assert "prompt" not in asked.generation and asked.load_options == {}


def test_another_preset_brings_its_own_defaults(tiny_page):
    asked = tiny_page.request(values(tiny_page, preset="stableanimator"))
    following = {"num_inference_steps", "min_guidance_scale", "max_guidance_scale", "window",
                 "overlap", "decode_chunk_size", "window_noise", "generator_device"}
    assert not following & set(asked.generation)  # left at the page's: the preset's own
    assert asked.generation["pose_strength"] == 1.0 and asked.generation["cfg_mode"] == "batched"
    assert asked.fps == 15.0  # SVD has no rate of its own: the page's
    asked = tiny_page.request(values(tiny_page, preset="stableanimator", window=12))
    assert asked.generation["window"] == 12  # chosen: kept
    asked = tiny_page.request(values(tiny_page, preset="wan-animate", prompt="a dance"))
    assert asked.fps is None and "num_inference_steps" not in asked.generation
    assert asked.generation["prompt"] == "a dance" and asked.generation["resolution"] == "720p"
    assert asked.load_options == {"memory": "auto", "fp8": False, "fast": False}


def test_the_fast_lora_brings_its_steps_unless_others_are_chosen():
    wan_page = section("wan-animate")
    asked = wan_page.request(values(wan_page, fast=True))
    assert "num_inference_steps" not in asked.generation  # 20, the model's: the LoRA's 4
    asked = wan_page.request(values(wan_page, fast=True, steps=6))
    assert asked.generation["num_inference_steps"] == 6
    assert wan_page.request(values(wan_page)).generation["num_inference_steps"] == 20


def test_randomize_seed_and_sizes(tiny_page):
    seeds = {tiny_page.request(values(tiny_page, randomize_seed=True)).generation["seed"]
             for _ in range(3)}
    assert len(seeds) > 1
    assert size(AUTO_SIZE) == {} and size("1024X576") == {"width": 1024, "height": 576}
    with pytest.raises(InputError, match="576x1024"):
        size("big")


def test_choosing_a_preset_shows_its_family(tiny_page):
    names = ["fps", *tiny_page.controls]
    to_wan = dict(zip(names, tiny_page.preset_updates("wan-animate"), strict=True))
    assert to_wan["fps"]["value"] == 30 and to_wan["steps"]["value"] == 20
    assert not to_wan["window"]["visible"] and to_wan["prompt"]["visible"]
    assert to_wan["fast"]["value"] is False and "value" not in to_wan["memory"]
    to_svd = dict(zip(names, tiny_page.preset_updates("stableanimator"), strict=True))
    assert to_svd["window"]["value"] == 16 and to_svd["fps"]["value"] == 15
    assert not to_svd["prompt"]["visible"] and "value" not in to_svd["pose_strength"]
