"""The page and its API with the wan-animate preset: its controls only for it, preset
changes that toggle them, its settings as API keyword arguments reaching the generation
(a tiny real WanAnimatePipeline stands in for the download), and the device notice."""

from __future__ import annotations

import json

import gradio as gr
import pytest
from gradio_client import Client, handle_file

import app
from animator import families
from animator.families import wan
from animator.families.wan.tiny import tiny_wan_pipeline
from animator.video import probe_video

WINDOW = "Window (frames denoised together)"


def visible(demo) -> dict[str, bool]:
    """elem_id (or label) -> shown, from the page's config."""
    return {c["props"].get("elem_id") or c["props"].get("label"): c["props"].get("visible", True)
            for c in demo.config["components"]
            if c["props"].get("elem_id") or c["props"].get("label")}


def handler(demo, name):
    return next(f.fn for f in demo.fns.values() if f.name == name)


def controls_of(preset) -> set[str]:
    """The page names of the controls a preset's family declares."""
    return {s.api_name for s in (*families.settings_of(preset),
                                 *families.load_options_of(preset)) if s.widget}


def page_controls(preset) -> dict:
    """The family controls of a page opened on `preset`, in its order."""
    from animator.ui.settings import Settings

    with gr.Blocks():
        return Settings(app.Animator(preset, device="cpu")).controls


def test_the_wan_controls_show_only_for_the_wan_preset():
    svd_page = app.build_demo(app.Animator("tiny", device="cpu"))
    shown = visible(svd_page)
    assert not shown["prompt"] and not shown["wan_mode"] and not shown["segment_length"]
    assert shown[WINDOW] and shown["Identity strength"]
    wan_page = app.build_demo(app.Animator("wan-animate", device="cpu"))
    shown = visible(wan_page)
    assert shown["prompt"] and shown["wan_mode"] and shown["segment_length"] and shown["fast"]
    assert not shown[WINDOW] and not shown["Identity strength"]
    # choosing a preset toggles them and sets its defaults
    change = handler(svd_page, "preset_defaults")
    names = list(page_controls("tiny"))  # the outputs after fps, in the page's order
    svd, wan = controls_of("tiny"), controls_of("wan-animate")
    svd_only, wan_only = svd - wan, wan - svd
    assert {"window", "identity_strength"} <= svd_only and {"prompt", "fast"} <= wan_only
    fps, *updates, notice = change("wan-animate")
    by_name = dict(zip(names, updates, strict=True))
    assert by_name["steps"]["value"] == 20 and fps["value"] == 30
    assert all(not by_name[n]["visible"] for n in svd_only)
    assert all(by_name[n]["visible"] for n in wan_only)
    assert "No GPU here" in notice and "`wan-animate`" in notice
    fps, *updates, notice = change("tiny")
    by_name = dict(zip(names, updates, strict=True))
    assert by_name["steps"]["value"] == 4 and by_name["window"]["visible"]
    assert by_name["window"]["value"]
    assert not any(by_name[n]["visible"] for n in wan_only)
    fast = handler(svd_page, "option_defaults")  # the fast LoRA's own steps, or the model's
    assert fast("wan-animate", True)["value"] == 4 and fast("wan-animate", False)["value"] == 20
    assert fast("tiny", True) == gr.update()  # no such option: steps unchanged


def test_cpu_notice_estimates_the_wan_model():
    text = app.device_notice(app.Animator(device="cpu"), "wan-animate")
    assert "No GPU here" in text and "would take about" in text and "30 fps" in text


@pytest.fixture
def tiny_wan(monkeypatch):
    pipe = tiny_wan_pipeline()
    pipe.set_progress_bar_config(disable=True)
    calls = []

    def load(name, *, device="cpu", memory="auto", fp8=False, fast=False, **common):
        calls.append({"memory": memory, "fp8": fp8, "fast": fast})
        return wan.build(pipe, wan.get_preset(name), device=device, memory="none")

    monkeypatch.setattr(wan, "load", load)
    return calls


def test_api_takes_the_wan_settings_as_keyword_arguments(tiny_wan, portrait_path):
    demo = app.build_demo(app.Animator("tiny", device="cpu"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        api = client.view_api(return_format="dict", print_info=False)
        described = api["named_endpoints"]["/animate"]["parameters"]
        assert all(p["parameter_has_default"] for p in described[2:])
        params = [p["parameter_name"] for p in described]
        assert params[:2] == ["portrait", "video"]
        assert {"prompt", "mode", "segment_length", "carry_frames", "memory", "fp8",
                "fast"} <= set(params)
        video, _, seed, settings, _, notes = client.predict(
            portrait=handle_file(str(portrait_path)), motion="wave", end=0.2, transition=0,
            preset="wan-animate", resolution="16x16", segment_length=9, steps=1, seed=5,
            prompt="a person waves", memory="model", fp8=True, api_name="/animate")
        used = json.loads(settings)
        info = probe_video(video)
        assert info.fps == 30 and info.num_frames == used["frames"] == 6  # the family's fps
        assert (used["preset"], used["prompt"], used["segment_frame_length"],
                used["num_inference_steps"], seed) == ("wan-animate", "a person waves", 9, 1,
                                                       "5")
        assert tiny_wan[-1] == {"memory": "model", "fp8": True, "fast": False}
        seeds = {client.predict(portrait=handle_file(str(portrait_path)), motion="wave",
                                end=0.1, preset="wan-animate", resolution="16x16",
                                segment_length=9, steps=1, randomize_seed=True,
                                api_name="/animate")[2] for _ in range(2)}
        assert len(seeds) == 2 and "42" not in seeds  # a new seed each run, not the default
        with pytest.raises(Exception, match="4N"):
            client.predict(portrait=handle_file(str(portrait_path)), motion="wave", end=0.2,
                           preset="wan-animate", segment_length=11, api_name="/animate")
        # back to an SVD preset: the Wan options are dropped, the SVD settings used again
        _, _, _, settings, _, _ = client.predict(
            portrait=handle_file(str(portrait_path)), motion="wave", end=1, fps=5, steps=1,
            transition=0, preset="tiny", api_name="/animate")
        assert json.loads(settings)["window"] == 8
    finally:
        demo.close()


def test_a_gpu_big_enough_for_wan_is_said_and_offered(monkeypatch):
    import torch

    class Card:
        def __init__(self, gb):
            self.total_memory = gb * 1e9

    gpu = app.Animator("tiny", device="cpu")
    gpu.device = "cuda"  # as if started on a GPU machine
    for gb, words in ((141, "memory mode none"), (24, "memory mode model with fp8"),
                      (8, None)):
        monkeypatch.setattr(torch.cuda, "get_device_properties", lambda d, gb=gb: Card(gb))
        text = app.device_notice(gpu, "stableanimator")
        if words is None:
            assert "wan-animate" not in text, text
        else:
            assert "big enough for `wan-animate`" in text and words in text, text
    assert "big enough" not in app.device_notice(gpu, "wan-animate")  # it is the one running
