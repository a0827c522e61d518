"""animator.video.probe against real files made by the bundled ffmpeg."""

from __future__ import annotations

import pytest

from animator.errors import InputError
from animator.video import iter_video, probe_video, read_video


def test_probe_reports_what_the_file_holds(media):
    info = probe_video(media["clip.mp4"])
    assert (info.width, info.height, info.fps, info.num_frames) == (80, 64, 25.0, 50)
    assert info.duration == pytest.approx(2.0, abs=0.05)
    assert info.has_audio
    assert not probe_video(media["silent.mp4"]).has_audio


@pytest.mark.parametrize(
    "name, words",
    [
        ("text.mp4", "not a video"),
        ("empty.mp4", "empty"),
        ("tone.m4a", "no video"),
        ("cut_clip.mp4", "damaged"),
        ("missing.mp4", "not found"),
    ],
)
def test_unusable_uploads_are_refused_with_a_fix(media, name, words):
    path = media.get(name, media["clip.mp4"].parent / name)
    for call in (probe_video, read_video, iter_video):
        with pytest.raises(InputError, match=words) as err:
            call(path)
        assert "upload" in str(err.value)
