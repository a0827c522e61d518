"""animator.video.audio: audio muxed into written videos, and extracted."""

from __future__ import annotations

import numpy as np

from animator.video import extract_audio, probe_video, write_video
from tests.video.media import audio_samples, rms


def test_audio_start_and_delay(media, tmp_path):
    frames = [np.zeros((64, 80, 3), np.uint8)] * 25
    plain = write_video(frames, tmp_path / "a.mp4", 25, audio=media["tone.m4a"])
    assert rms(audio_samples(plain)[:7000]) < 0.01  # the tone only starts at 1 s
    started = write_video(frames, tmp_path / "b.mp4", 25, audio=media["tone.m4a"], audio_start=1.0)
    assert rms(audio_samples(started)[400:7000]) > 0.2
    delayed = write_video(
        frames, tmp_path / "c.mp4", 25, audio=media["tone.m4a"], audio_start=1.0, audio_delay=0.5
    )
    samples = audio_samples(delayed)
    assert rms(samples[:3600]) < 0.01 and rms(samples[4400:7600]) > 0.2
    assert abs(len(samples) / 8000 - 1.0) < 0.06


def test_audio_from_a_silent_source_is_skipped(media, tmp_path):
    frames = [np.zeros((64, 80, 3), np.uint8)] * 5
    out = write_video(frames, tmp_path / "out.mp4", 25, audio=media["silent.mp4"])
    assert not probe_video(out).has_audio


def test_extract_audio(media, tmp_path):
    out = extract_audio(media["clip.mp4"], tmp_path / "a.m4a", start=0.5, duration=1.0)
    assert out == tmp_path / "a.m4a"
    assert abs(len(audio_samples(out)) / 8000 - 1.0) < 0.06
    assert extract_audio(media["silent.mp4"], tmp_path / "b.m4a") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.m4a"]
