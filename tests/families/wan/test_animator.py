"""`Animator` with the wan-animate preset, end to end on a tiny real WanAnimatePipeline
(the loader is swapped for one that builds it in code; nothing is downloaded): one output
frame per driving frame at the family's 30 fps, the driving audio in sync, replace mode
without a lead-in, the settings checked before any work, and the CLI flags reaching the
settings and the load options."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from animator import families
from animator.animate import Animator
from animator.config import RetargetConfig
from animator.errors import InputError
from animator.families import wan
from animator.families.wan.tiny import tiny_wan_pipeline
from animator.video import probe_video

SMALL = {"height": 16, "width": 16, "segment_frame_length": 9, "num_inference_steps": 1,
         "prompt": "a person dances", "seed": 3}
NO_LEAD_IN = RetargetConfig(transition=0.0)


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_wan_pipeline()
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture
def loads(pipe, monkeypatch):
    """wan.load replaced by the tiny pipeline; records the options each load got."""
    calls = []

    def load(name, *, device="cpu", memory="auto", fp8=False, fast=False, **common):
        calls.append({"name": name, "memory": memory, "fp8": fp8, "fast": fast, **common})
        return wan.build(pipe, wan.get_preset(name), device=device, memory="none")

    monkeypatch.setattr(wan, "load", load)
    return calls


def audio_samples(path, rate: int = 8000) -> np.ndarray:
    from imageio_ffmpeg import get_ffmpeg_exe

    out = subprocess.run([get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0",
                          "-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.int16) / 32768.0


def test_wan_animate_one_frame_per_driving_frame_with_the_audio_in_sync(
        loads, portrait_path, driving_path, tmp_path):
    animator = Animator("wan-animate", device="cpu", pose_backend="mediapipe")
    seen = []
    result = animator.animate(portrait_path, driving_path, generation=SMALL, start=1.0,
                              end=1.5, retarget_config=NO_LEAD_IN, out_dir=tmp_path,
                              progress=lambda f, desc: seen.append(desc))
    video = probe_video(result.video)
    assert video.fps == 30  # the family's rate, the driving video resampled to it
    driving = animator.driving_poses(driving_path, fps=30, start=1.0, end=1.5,
                                     resampling="nearest")
    assert video.num_frames == result.settings["frames"] == len(driving.poses) >= 15
    assert (video.width, video.height) == (16, 16) and result.settings["segments"] == 2
    assert result.settings["preset"] == "wan-animate" and result.seed == 3
    assert probe_video(result.comparison).num_frames == video.num_frames
    # the audio is the driving clip's from 1.0 s, as long as the video
    ours, theirs = audio_samples(result.video), audio_samples(driving_path)
    assert abs(len(ours) / 8000 - video.duration) < 0.06
    part = theirs[8000:8000 + len(ours)]
    assert np.corrcoef(ours[:len(part)], part)[0, 1] > 0.9
    steps = [d for d in seen if d.startswith("Generating")]
    assert steps[0].startswith("Generating: segment 1/2, step 1/1") and len(steps) == 2
    assert loads[0]["memory"] == "auto" and not loads[0]["fast"]


def test_replace_mode_has_no_lead_in_and_says_it_follows_the_driver(loads, portrait_path,
                                                                      driving_path, tmp_path):
    animator = Animator("wan-animate", device="cpu", pose_backend="mediapipe")
    result = animator.animate(portrait_path, driving_path, out_dir=tmp_path, start=0.0,
                              end=0.3, comparison=False,
                              generation={**SMALL, "mode": "replace",
                                          "mask_source": "hull"})
    driving = animator.driving_poses(driving_path, fps=30, start=0.0, end=0.3,
                                     resampling="nearest")
    assert probe_video(result.video).num_frames == len(driving.poses) >= 9  # no lead-in
    assert any("driver's own body" in n for n in result.notices)
    assert result.settings["mode"] == "replace"


def test_bad_wan_settings_are_refused_before_loading_or_detection(loads, portrait_path,
                                                                   monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the settings were checked")

    monkeypatch.setattr(Animator, "prepare", no_work)
    animator = Animator("wan-animate", device="cpu", pose_backend="mediapipe")
    for settings, words in (({"segment_frame_length": 10}, r"4N\+1"),
                            ({"prev_segment_conditioning_frames": 3}, "one of 1, 5"),
                            ({"mode": "swap"}, "one of animate, replace"),
                            ({"window": 8}, "Unknown generation setting"),
                            ({"height": 24, "width": 24}, "multiples of 16")):
        with pytest.raises(InputError, match=words):
            animator.animate(portrait_path, "wave", generation=settings)
    svd = Animator("tiny", device="cpu")
    with pytest.raises(InputError, match="Unknown generation setting.*prompt"):
        svd.animate(portrait_path, "wave", generation={"prompt": "a person dances"})
    assert loads == []


def test_load_options_reach_the_loader_and_reload_when_changed(loads, portrait_path,
                                                               tmp_path):
    animator = Animator("wan-animate", device="cpu", pose_backend="mediapipe",
                        load_options={"memory": "group", "fp8": True, "fast": None})
    first = animator.load()
    assert (loads[-1]["memory"], loads[-1]["fp8"], loads[-1]["fast"]) == ("group", True, False)
    animator.set_load_options(memory="group", fp8=True)
    assert animator.load() is first  # unchanged: no reload
    animator.set_load_options(memory="model", fast=True)
    animator.load()
    assert (loads[-1]["memory"], loads[-1]["fast"]) == ("model", True) and len(loads) == 2
    # the SVD presets ignore unset Wan options and refuse set ones
    svd = Animator("tiny", device="cpu", load_options={"memory": "auto", "fp8": False})
    assert svd.load().family == "svd"
    with pytest.raises(InputError, match="no load option"):
        families.load_generator("tiny", fast=True)


def test_cli_flags_reach_the_settings_and_the_load_options(loads, portrait_path, tmp_path):
    from animator.cli import build_parser, generation_of, main, make_animator

    args = build_parser().parse_args([
        "animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
        "wan-animate", "--device", "cpu", "--mode", "replace", "--prompt", "a person waves",
        "--negative-prompt", "blurry", "--resolution", "480p", "--segment-length", "13",
        "--carry-frames", "5", "--guidance", "1.5", "--mask-source", "hull",
        "--memory", "group", "--fp8", "--fast", "--steps", "2"])
    generation = {k: v for k, v in generation_of(args).items() if v is not None}
    assert generation == {"mode": "replace", "prompt": "a person waves",
                          "negative_prompt": "blurry", "resolution": "480p",
                          "segment_frame_length": 13, "prev_segment_conditioning_frames": 5,
                          "guidance_scale": 1.5, "mask_source": "hull",
                          "num_inference_steps": 2}
    animator = make_animator(args)
    assert animator.preset == "wan-animate"
    assert animator.load_options == {"memory": "group", "fp8": True, "fast": True}
    out = tmp_path / "wan.mp4"
    code = main(["animate", "--image", str(portrait_path), "--motion", "wave", "--end", "0.2",
                 "--preset", "wan-animate", "--device", "cpu", "--width", "16", "--height",
                 "16", "--segment-length", "9", "--steps", "1", "--transition", "0",
                 "--out", str(out)])
    assert code == 0 and probe_video(out).num_frames == 6  # 0.2 s at the family's 30 fps
    assert main(["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                 "wan-animate", "--device", "cpu", "--carry-frames", "5", "--segment-length",
                 "9", "--out", str(out)]) == 2  # 9 <= 2 x 5: refused with a message


def test_batch_jobs_take_the_wan_settings(tmp_path):
    from animator.batch import load_jobs

    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"image": "a.jpg", "motion": "wave", "prompt": "a person waves", '
                    '"mode": "animate", "segment_frame_length": 81}\n')
    assert load_jobs(jobs)[0].generation == {"prompt": "a person waves", "mode": "animate",
                                             "segment_frame_length": 81}
    jobs.write_text('{"image": "a.jpg", "motion": "wave", "promt": "x"}\n')
    with pytest.raises(InputError, match="unknown key.*promt"):
        load_jobs(jobs)
