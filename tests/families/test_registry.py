"""The registry: a family is its folder's `FAMILY` plus one line in `FAMILY_PACKAGES`.

A third family, declared here and added by that one line, shows up everywhere the page,
the API, the CLI and batch jobs offer families, with no code of theirs changed."""

from __future__ import annotations

import json
import sys
import tempfile
import types
from dataclasses import replace
from pathlib import Path

import gradio as gr
import pytest

from animator import families
from animator.errors import InputError
from animator.families.base import Command, Family, Setting, resolve_settings

STEPS = Setting("num_inference_steps", int, 8, "denoising steps", minimum=1, widget="slider",
                label="Steps", span=(1, 50), step=1, page_name="steps", follows_preset=True,
                flag="--steps")
STYLE = Setting("style", str, "calm", "how it moves", choices=("calm", "wild"), widget="radio",
                label="Style", elem_id="third_style", flag="--style")
TURBO = Setting("turbo", bool, False, "distilled weights: 2 steps", widget="checkbox",
                label="Turbo", follows_preset=True, flag="--turbo")


class ThirdFamily:
    """A family with a preset, a choice of its own, steps shared with the others, a load
    option that changes a default, a download option and a subcommand."""

    name = "third"
    title = "Third"
    cli_group = "third (with --preset third)"
    smoke_tests = ()
    download_options = (Setting("extra", bool, False, "also fetch the extra files",
                                flag="--extra"),)
    local_classes = ("ThirdPipeline",)
    commands = (Command("third-tool", "the third family's own tool", lambda argv: len(argv)),)

    def __init__(self):
        self.downloads = []

    def presets(self):
        return {"third": "A third family's model."}

    def describe(self, preset):
        return "A third family's model."

    def settings(self, preset, load_options=None):
        steps = 2 if (load_options or {}).get("turbo") else STEPS.default
        return (replace(STEPS, default=steps), STYLE,
                Setting("seed", int, 42, "random seed", flag="--seed"),
                Setting("width", int, None, "output width", flag="--width"),
                Setting("height", int, None, "output height", flag="--height"))

    def load_options(self, preset):
        return (TURBO,)

    def check_settings(self, preset, overrides, device=None):
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        values = resolve_settings(self.settings(preset), given)
        return {k: values[k] for k in given}

    def estimate_cpu_seconds(self, preset, num_frames, width, height, overrides=None):
        return 0.5 * num_frames

    def cpu_estimate(self, preset):
        return preset, "a 4-second clip at 16 fps would take about half a minute"

    def output_fps(self, preset):
        return 16.0

    def gpu_offer(self, device):
        return "This GPU is big enough for `third`."

    def download(self, preset, *, weights_dir=None, progress=None, notify=print, extra=False):
        notify("third: its terms")
        self.downloads.append(extra)
        return [Path(weights_dir or "third")]

    def load(self, preset, **options):
        raise InputError(f"no weights for {preset} here ({options})")


@pytest.fixture
def third(monkeypatch):
    """The third family registered by its one line (its package stands in a module)."""
    package = types.ModuleType("third_family")
    package.FAMILY = ThirdFamily()
    monkeypatch.setitem(sys.modules, "third_family", package)
    monkeypatch.setattr(families, "FAMILY_PACKAGES", (*families.FAMILY_PACKAGES, "third_family"))
    families.registered.cache_clear()
    yield package.FAMILY
    monkeypatch.undo()
    families.registered.cache_clear()


def test_every_registered_family_is_a_family():
    assert all(isinstance(f, Family) for f in families.registered())
    assert families.FAMILIES == tuple(f.name for f in families.registered())
    assert families.default_preset(gpu=True) == families.preset_names()[0]
    assert families.default_preset(gpu=False) in families.smoke_tests()


def test_a_local_folder_goes_to_the_family_that_claims_its_class(third, tmp_path):
    for class_name, family in (("ThirdPipeline", "third"), ("WanAnimatePipeline", "wan"),
                               ("AnimationPipeline", "svd"), ("SomethingElse", None)):
        folder = tmp_path / class_name
        folder.mkdir()
        (folder / "model_index.json").write_text(json.dumps({"_class_name": class_name}))
        if family is None:  # no family claims it: refused, naming what loads
            with pytest.raises(InputError, match="ThirdPipeline"):
                families.family_of(f"local:{folder}")
        else:
            assert families.family_of(f"local:{folder}") == family


def test_the_registry_offers_the_third_family(third, monkeypatch):
    import torch

    class Card:  # too small for wan-animate: only the third family offers itself
        total_memory = 8e9

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: Card())
    assert isinstance(third, Family)
    assert families.preset_names()[-1] == "third" and families.family_of("third") == "third"
    assert families.describe("third") == "A third family's model."
    assert families.output_fps("third") == 16.0
    assert families.check_settings("third", {"style": "wild", "steps": None}) == {"style": "wild"}
    with pytest.raises(InputError, match="one of calm, wild"):
        families.check_settings("third", {"style": "sleepy"})
    assert {"style", "segment_frame_length", "window"} <= families.setting_names()
    assert "turbo" in families.all_load_options()
    assert families.gpu_offers("cuda", "tiny") == ["This GPU is big enough for `third`."]
    assert families.gpu_offers("cuda", "third") == []  # not its own while it runs
    assert families.commands()["third-tool"].main(["a", "b"]) == 2
    # options of other families: dropped while unset, refused when set
    with pytest.raises(InputError, match="no weights for third"):
        families.load_generator("third", memory="auto", fp8=False, fast=None)
    with pytest.raises(InputError, match="The Third presets take no load option"):
        families.load_generator("third", memory="group")
    with pytest.raises(InputError, match="The SVD presets take no load option"):
        families.load_generator("tiny", turbo=True)
    said = []
    assert families.download("third", extra=True, notify=said.append) == [Path("third")]
    assert said == ["third: its terms"] and third.downloads == [True]


def test_the_cli_draws_its_flags(third, capsys, tmp_path):
    from animator.cli import build_parser, generation_of, main, make_animator

    parser = build_parser()
    args = parser.parse_args(["animate", "--image", "a.jpg", "--motion", "wave", "--preset",
                              "third", "--style", "wild", "--turbo", "--steps", "3",
                              "--device", "cpu"])
    generation = {k: v for k, v in generation_of(args).items() if v is not None}
    assert generation == {"style": "wild", "num_inference_steps": 3}
    assert make_animator(args).load_options == {"turbo": True}
    with pytest.raises(SystemExit):
        parser.parse_args(["animate", "--help"])
    shown = capsys.readouterr().out
    assert "third (with --preset third):\n  --style {calm,wild}" in shown
    flat = " ".join(shown.split()).replace("- ", "-")  # argparse wraps at hyphens
    assert ("(default: its own; 30 with wan-animate; 24 with wan-animate-2; 24 with "
            "wan-animate-2-distilled; 16 with third)") in flat
    assert shown.count("\n  --steps ") == 1  # one flag for the steps of every family
    assert main(["third-tool", "x"]) == 1  # the family's own subcommand gets the rest
    assert main(["download", "--preset", "tiny", "--extra"]) == 2
    assert "--extra is for third (also fetch the extra files); the tiny preset has none" in \
        capsys.readouterr().err
    assert main(["download", "--preset", "third", "--extra", "--weights-dir",
                 str(tmp_path)]) == 0
    assert third.downloads == [True]


def test_a_flag_two_families_set_differently_is_a_mistake(third, monkeypatch):
    from animator.cli import build_parser

    clash = Setting("style", str, "calm", "how it moves", flag="--window")
    monkeypatch.setattr(ThirdFamily, "settings", lambda self, preset, options=None: (clash,))
    with pytest.raises(ValueError, match="--window sets window in one family and style"):
        build_parser()


def test_batch_jobs_take_its_settings(third, tmp_path):
    from animator.batch import load_jobs

    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"image": "a.jpg", "motion": "wave", "style": "wild"}\n')
    assert load_jobs(jobs)[0].generation == {"style": "wild"}


def test_the_page_draws_its_controls(third):
    from animator.animate import Animator
    from animator.ui.notice import device_notice
    from animator.ui.settings import Settings

    with gr.Blocks():
        section = Settings(Animator("tiny", device="cpu"))
    style = section.controls["style"]
    assert "third" in section.presets and not style.visible and style.elem_id == "third_style"
    assert section.controls["turbo"].label == "Turbo"
    by_name = dict(zip(["fps", *section.controls], section.preset_updates("third"),
                       strict=True))
    assert by_name["fps"]["value"] == 16 and by_name["steps"]["value"] == 8
    assert by_name["style"]["visible"] and not by_name["window"]["visible"]
    values = {name: c.value for name, c in section.api.items()}
    asked = section.request({**values, "preset": "third", "style": "wild", "seed": 5})
    # steps and fps left at the tiny page's: the third preset's own
    assert asked.generation == {"style": "wild", "seed": 5} and asked.fps is None
    assert asked.load_options == {"turbo": False}
    asked = section.request({**values, "preset": "third", "steps": 8, "turbo": True})
    assert "num_inference_steps" not in asked.generation  # the turbo weights' own 2 steps
    assert section.option_triggers() == (["fast", "turbo"], ["steps"])
    assert "half a minute" in device_notice(Animator("tiny", device="cpu"), "third")


def test_the_registry_and_the_command_line_start_without_torch():
    """Presets and settings are read without importing the generators (torch, diffusers):
    `--help`, a pose preview or a refused preset start in about a second, not five."""
    import subprocess

    code = ("import sys; from animator.cli import build_parser, main; "
            "from animator import families; build_parser(); families.settings_of('wan-animate'); "
            "assert main(sys.argv[1:]) == 0; print('torch' in sys.modules)")
    portrait = Path(__file__).resolve().parents[2] / "assets" / "portraits" / "astronaut.jpg"
    with tempfile.TemporaryDirectory() as folder:  # a pose preview: no torch either
        done = subprocess.run([sys.executable, "-c", code, "pose", "--image", str(portrait),
                               "--motion", "wave", "--end", "0.4", "--out",
                               str(Path(folder) / "p.mp4")], capture_output=True, text=True,
                              timeout=120)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr[-2000:]
    from animator.families.wan import WanGenerator  # the lazy names still import

    assert WanGenerator.__name__ == "WanGenerator"
