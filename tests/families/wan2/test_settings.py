"""The Wan-Animate-2 family without generating: its presets in the registry, the settings
the page, the API and the CLI draw (no mask or replace controls), the prompt defaults, the
cost estimate and the refusal with the figures when a size cannot fit the GPU, memory
modes, downloads (sizes, offline) and `local:` folders through the shared checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from animator import families
from animator.errors import InputError
from animator.families import wan2
from animator.families.wan2 import cost
from animator.families.wan2.settings import DEFAULT_PROMPT
from animator.families.wan2.tiny import tiny_wan2_pipeline


def test_the_presets_are_in_the_registry_with_their_defaults():
    assert families.family_of("wan-animate-2") == families.family_of(
        "wan-animate-2-distilled") == "wan2"
    base = {s.name: s.default for s in families.settings_of("wan-animate-2")}
    distilled = {s.name: s.default for s in families.settings_of("wan-animate-2-distilled")}
    assert (base["num_inference_steps"], base["guidance_scale"]) == (40, 3.0)
    assert (distilled["num_inference_steps"], distilled["guidance_scale"]) == (10, 1.0)
    assert base["segment_frame_length"] == 81 and base["prev_segment_conditioning_frames"] == 1
    assert base["area"] == "800x640" and families.output_fps("wan-animate-2") == 24
    assert base["prompt"] == DEFAULT_PROMPT and base["prompt_ref"] == "人物动作的参考视频"
    names = {s.name for s in families.settings_of("wan-animate-2")}
    assert not names & {"mode", "mask_source", "keep_background"}  # no replace mode
    assert {s.name for s in families.load_options_of("wan-animate-2")} == {"memory", "fp8"}
    assert families.check_settings("wan-animate-2", {"driver_crop": "off", "steps": None}) \
        == {"driver_crop": "off"}
    with pytest.raises(InputError, match="4N\\+1"):
        families.check_settings("wan-animate-2", {"segment_frame_length": 80})


def test_the_page_shows_its_controls_and_hides_the_replace_mode_ones():
    import gradio as gr

    from animator.animate import Animator
    from animator.ui.settings import Settings

    with gr.Blocks():
        section = Settings(Animator("wan-animate-2", device="cpu"))
    shown = {name for name, c in section.controls.items() if c.visible}
    assert {"prompt", "steps", "guidance", "segment_length", "driver_crop"} <= shown
    assert not shown & {"wan_mode", "mode", "mask_source"}
    assert section.controls["prompt"].value == DEFAULT_PROMPT
    updates = dict(zip(section.controls, section.preset_updates("wan-animate")[1:],
                       strict=True))
    assert updates["driver_crop"]["visible"] is False  # not Wan2.2-Animate's


def test_cli_flags_reach_the_settings():
    from animator.cli import build_parser, generation_of

    args = build_parser().parse_args([
        "animate", "--image", "a.jpg", "--video", "b.mp4", "--preset", "wan-animate-2",
        "--area", "1280x720", "--driver-crop", "off", "--reference-prompt", "motion",
        "--steps", "20", "--memory", "group", "--fp8"])
    generation = {k: v for k, v in generation_of(args).items() if v is not None}
    assert generation == {"area": "1280x720", "driver_crop": "off", "prompt_ref": "motion",
                          "num_inference_steps": 20}


def test_cost_estimate_and_the_refusal_with_the_figures():
    n = cost.parameter_counts()
    assert 16e9 < n["transformer"] < 17e9 and n["layers"] == 40
    # the KV cache of an 81-frame segment at 800x640: 40 layers x K,V x 42000 tokens x 5120
    assert cost.run_memory(800, 640) > 34e9
    values = {"height": None, "width": None, "area": "800x640", "segment_frame_length": 81}
    cost.check_fits("cuda", values, total=80e9)  # one 80 GB card: fits block by block
    with pytest.raises(InputError, match=r"needs about \d+ GB.*this GPU has 24 GB"):
        cost.check_fits("cuda", values, total=24e9)
    with pytest.raises(InputError, match="1280x720.*this GPU has 80 GB"):
        cost.check_fits("cuda", {**values, "area": "1280x720"}, total=80e9)
    cost.check_fits("cuda", {**values, "area": "1280x720", "segment_frame_length": 41},
                    total=80e9)
    base = families.estimate_cpu_seconds("wan-animate-2", 96, 640, 800)
    fast = families.estimate_cpu_seconds("wan-animate-2-distilled", 96, 640, 800)
    assert 6 < base / fast < 9  # 40 guided steps against 10 unguided ("roughly 8x")
    preset, text = families.cpu_estimate("wan-animate-2")
    assert preset == "wan-animate-2" and "4-second clip at 24 fps (640x800)" in text


def test_fp8_storage_and_the_memory_mode_on_the_cpu():
    pipe = tiny_wan2_pipeline(True)
    generator = wan2.build(pipe, wan2.get_preset("wan-animate-2-distilled"), fp8=True)
    assert generator.load_options == {"memory": "none", "fp8": True}
    dtypes = {p.dtype for name, p in pipe.transformer.named_parameters()
              if name.startswith("blocks.") and name.endswith("to_q.weight")}
    assert dtypes == {torch.float8_e4m3fn}
    with pytest.raises(InputError, match="memory mode"):
        wan2.build(tiny_wan2_pipeline(True), wan2.get_preset("wan-animate-2"), memory="lots")


def test_downloads_say_what_and_how_big_and_refuse_offline(tmp_path):
    summary = wan2.download_summary(wan2.get_preset("wan-animate-2"))
    assert "Wan-AI/Wan2.2-Animate-2-14B-Diffusers" in summary and "Apache-2.0" in summary
    assert "transformer 32.8 GB" in summary and "about 46 GB" in summary
    with pytest.raises(InputError, match="not on this machine.*download --preset "
                                         "wan-animate-2-distilled"):
        wan2.load("wan-animate-2-distilled", allow_download=False)  # HF_HUB_OFFLINE=1 here
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(InputError, match="lacks files.*download --preset wan-animate-2 "):
        wan2.load("wan-animate-2", weights_dir=tmp_path)


def test_local_folders_go_through_the_shared_checks(tmp_path):
    folder = wan2.save_local(tiny_wan2_pipeline(True), tmp_path / "saved")
    assert families.family_of(f"local:{folder}") == "wan2"
    generator = wan2.load(f"local:{folder}", allow_download=False)
    assert generator.preset.distilled and generator.pipe.text_encoder is None
    assert {s.name: s.default for s in generator.settings}["num_inference_steps"] == 10
    index = json.loads((folder / "model_index.json").read_text())
    (folder / "model_index.json").write_text(json.dumps({**index, "vae": ["os", "system"]}))
    with pytest.raises(InputError, match="never run here"):
        wan2.load(f"local:{folder}")


def test_the_prompt_has_a_default_and_the_reference_prompt_is_its_own():
    from tests.families.wan.people import inputs

    generator = wan2.build(tiny_wan2_pipeline(False), wan2.get_preset("wan-animate-2"))
    clip = inputs(3, settings={"prompt": "  ", "height": 32, "width": 32})
    made = generator.prepare(clip, generator.resolve(clip))
    assert made["prompts"] == (DEFAULT_PROMPT, "", "人物动作的参考视频")  # guided: a negative
    assert any("default one" in n for n in made["notices"])
    clip.settings.update(prompt="a person waves", prompt_ref="a reference video",
                         guidance_scale=1.0)
    made = generator.prepare(clip, generator.resolve(clip))
    assert made["prompts"] == ("a person waves", None, "a reference video")
    assert not any("default one" in n for n in made["notices"])


def test_a_portrait_framed_tighter_than_the_driver_is_said():
    from animator.families.wan2.inputs import framing_notice
    from tests.families.wan.people import inputs

    clip = inputs(4)
    assert framing_notice(clip.reference, clip.driving_poses) is None  # both full body
    half = clip.reference.keypoints.copy()
    half[:, [9, 10, 12, 13, 18, 19, 20, 21, 22, 23], :] = np.nan  # no knees, no feet
    notice = framing_notice(type(clip.reference)(half, 48, 40), clip.driving_poses)
    assert "shows the person's feet, the portrait does not" in notice
    assert framing_notice(clip.reference, None) is None  # a motion: nothing to compare


def test_an_api_call_naming_the_preset_gets_its_defaults():
    import gradio as gr

    from animator.animate import Animator
    from animator.ui.settings import Settings

    with gr.Blocks():
        page = Settings(Animator("tiny", device="cpu"))
    sent = {name: c.value for name, c in page.api.items()}
    asked = page.request({**sent, "preset": "wan-animate-2-distilled"})
    assert "prompt" not in asked.generation  # left alone: the family's default prompt
    assert "num_inference_steps" not in asked.generation and asked.fps is None  # 10, 24 fps
    assert asked.generation["driver_crop"] == "person" and "mode" not in asked.generation
    assert asked.load_options == {"memory": "auto", "fp8": False}
    asked = page.request({**sent, "preset": "wan-animate-2", "driver_crop": "off",
                          "prompt": "a person waves", "resolution": "640x800"})
    assert (asked.generation["driver_crop"], asked.generation["prompt"]) == ("off",
                                                                            "a person waves")
    assert (asked.generation["width"], asked.generation["height"]) == (640, 800)
    assert families.check_settings("wan-animate-2", asked.generation)["driver_crop"] == "off"


def test_a_heavier_memory_mode_than_the_size_allows_says_which_fits():
    values = {"height": None, "width": None, "area": "800x640", "segment_frame_length": 81}
    with pytest.raises(InputError, match="in memory mode none .*--memory group --fp8"):
        cost.check_fits("cuda", values, mode="none", fp8=False, total=80e9)
    cost.check_fits("cuda", values, mode="group", fp8=False, total=80e9)


def test_a_scheduler_the_segment_loop_cannot_drive_is_refused(tmp_path):
    from diffusers import UniPCMultistepScheduler

    folder = wan2.save_local(tiny_wan2_pipeline(True), tmp_path / "saved")
    UniPCMultistepScheduler().save_pretrained(folder / "scheduler")
    with pytest.raises(InputError, match="UniPCMultistepScheduler.*cannot drive"):
        wan2.load(f"local:{folder}")
