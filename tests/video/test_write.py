"""animator.video.write: MP4s read back with the bundled ffmpeg."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from animator.video import VideoWriter, probe_video, read_video, write_video
from tests.video.media import FFMPEG, audio_samples


def test_write_round_trip_keeps_colour_and_cuts_audio_to_length(media, tmp_path):
    colour = (200, 40, 90)
    frames = [np.full((64, 80, 3), colour, np.uint8)] * 25
    out = write_video(frames, tmp_path / "out.mp4", 25.0, audio=media["clip.mp4"])
    info = probe_video(out)
    assert (info.width, info.height, info.num_frames, info.fps) == (80, 64, 25, 25.0)
    assert info.has_audio
    assert abs(len(audio_samples(out)) / 8000 - 1.0) < 0.06  # 2 s source cut to the 1 s video
    back = read_video(out).frames
    assert np.abs(back[10].astype(int) - colour).max() <= 6
    header = subprocess.run([FFMPEG, "-hide_banner", "-i", str(out)], capture_output=True).stderr
    assert b"h264" in header and b"yuv420p(tv, bt709" in header and b"aac" in header
    assert out.read_bytes().find(b"moov") < out.read_bytes().find(b"mdat")  # +faststart


def test_odd_frame_sizes_are_padded(tmp_path):
    frames = [np.full((65, 81, 3), 128, np.uint8)] * 3
    out = write_video(frames, tmp_path / "-odd:name.mp4", 10)  # not read as option/protocol
    assert probe_video(out).width == 82 and probe_video(out).height == 66


def test_writer_leaves_nothing_on_error_or_without_frames(tmp_path):
    with pytest.raises(ValueError, match="no frames"):
        write_video([], tmp_path / "none.mp4", 25)
    with pytest.raises(KeyError), VideoWriter(tmp_path / "broken.mp4", 25) as writer:
        writer.write(np.zeros((64, 80, 3), np.uint8))
        raise KeyError("the generator failed")
    with pytest.raises(ValueError, match="expected"), VideoWriter(tmp_path / "b.mp4", 25) as w:
        w.write(np.zeros((64, 80, 3), np.uint8))
        w.write(np.zeros((32, 80, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []
