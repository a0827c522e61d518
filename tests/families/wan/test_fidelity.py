"""Wan-Animate fed as the public code feeds it (issue 18): the facts of Wan2.2's
`wan/modules/animate/preprocess/` and `generate.py`, each stated here and checked on our
inputs, with the tiny real WanAnimatePipeline of test_animator.py."""

from __future__ import annotations

from animator.animate import Animator
from animator.video import probe_video
from tests.families.wan.test_animator import audio_samples, loads, pipe  # noqa: F401

SMALL = {"height": 16, "width": 16, "segment_frame_length": 77, "num_inference_steps": 1,
         "seed": 3}


def public_frame_count(path) -> int:
    """Wan2.2's preprocess_data: int(frame_num / video_fps * 30) frames at 30 fps, where
    frame_num is the decoder's frame count (their decord.VideoReader's len)."""
    info = probe_video(path)
    return int(info.num_frames / info.fps * 30)


def test_example_clip_gives_the_public_frame_count_and_audio_length(
        loads, portrait_path, driving_path, tmp_path):  # noqa: F811
    """With the preset's defaults: Wan2.2's scripts have no lead-in from the portrait's
    pose, so the output is exactly the resampled driving clip, and so is its audio."""
    animator = Animator("wan-animate", device="cpu", pose_backend="mediapipe")
    result = animator.animate(portrait_path, driving_path, generation=SMALL,
                              out_dir=tmp_path, comparison=False)
    expected = public_frame_count(driving_path)
    assert expected == 120  # 100 frames at 25 fps
    video = probe_video(result.video)
    assert video.fps == 30 and video.num_frames == expected == result.settings["frames"]
    assert result.settings["resampling"] == "nearest"
    assert result.settings["transition"] == 0 and result.settings["lead_in_frames"] == 0
    assert result.settings["prompt"] == "视频中的人在做动作"
    seconds = len(audio_samples(result.video)) / 8000
    assert abs(seconds - expected / 30) < 0.05


def test_default_prompts_are_the_public_ones():
    """Wan2.2's generate.py gives animate-14B the prompt 视频中的人在做动作 when none is
    given; wan/animate.py falls back to the shared config's negative prompt, which starts
    with 色调艳丽 ("garish colours")."""
    from animator import families

    settings = {s.name: s for s in families.settings_of("wan-animate")}
    assert settings["prompt"].default == "视频中的人在做动作"
    assert settings["negative_prompt"].default.startswith("色调艳丽，过曝，静态")
    assert settings["negative_prompt"].default.endswith("背景人很多，倒着走")
