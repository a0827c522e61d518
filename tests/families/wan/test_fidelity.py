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


def test_footage_shrinks_by_area_and_the_portrait_linearly():
    """Wan2.2's resize_by_area (the replace-mode footage) switches to cv2.INTER_AREA when
    the picture gets smaller and keeps INTER_LINEAR when it grows; the portrait goes from
    its file to the canvas by padding_resize, which is linear. On fine stripes the two
    differ (linear aliases them)."""
    import cv2
    import numpy as np

    from animator.families.wan.inputs import Padding

    stripes = np.zeros((1080, 1920, 3), np.uint8)
    stripes[:, ::2] = 255
    shrink = Padding.fit((1920, 1080), (832, 480))
    assert shrink.inner == (832, 468)
    area = cv2.resize(stripes, (832, 468), interpolation=cv2.INTER_AREA)
    linear = cv2.resize(stripes, (832, 468), interpolation=cv2.INTER_LINEAR)
    assert np.abs(area.astype(int) - linear).max() > 50
    out = shrink.image(stripes)
    np.testing.assert_array_equal(out[6:474], area)
    np.testing.assert_array_equal(shrink.image(stripes, cv2.INTER_LINEAR)[6:474], linear)
    grow = Padding.fit((192, 108), (832, 480))
    small = stripes[:108, :192]
    (w, h), (_, dy) = grow.inner, grow.offset
    np.testing.assert_array_equal(grow.image(small)[dy:dy + h], cv2.resize(small, (w, h)))
