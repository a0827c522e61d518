"""animator.video.read and .span: decoding real files made by the bundled ffmpeg."""

from __future__ import annotations

import numpy as np
import pytest

from animator.config import InputLimits
from animator.errors import InputError
from animator.video import iter_video, probe_video, read_video
from tests.video.media import BLUE, RED, ffmpeg


def test_read_video_keeps_the_source_rate(media):
    clip = read_video(media["clip.mp4"])
    assert len(clip.frames) == 50 and clip.fps == 25.0 and clip.start == 0.0
    assert clip.frames[0].shape == (64, 80, 3) and clip.frames[0].dtype == np.uint8
    assert clip.notices == [] and clip.source.num_frames == 50
    assert not np.array_equal(clip.frames[0], clip.frames[1])  # testsrc2 moves every frame


def test_fps_resampling_and_stride(media):
    assert len(read_video(media["clip.mp4"], fps=10).frames) == 20
    clip = read_video(media["clip.mp4"], fps=10, stride=3)
    assert len(clip.frames) == 7 and clip.fps == pytest.approx(10 / 3)
    assert len(read_video(media["clip.mp4"], stride=2).frames) == 25


def test_start_and_end_select_the_span(media):
    full = read_video(media["clip.mp4"]).frames
    clip = read_video(media["clip.mp4"], start=0.5, end=1.5)
    assert len(clip.frames) == 25 and clip.start == 0.5
    errors = [np.abs(clip.frames[0].astype(int) - f).mean() for f in full]
    assert int(np.argmin(errors)) in (12, 13)  # the frame shown at 0.5 s
    tail = read_video(media["clip.mp4"], start=1.5, end=9.0)  # end clamped to the video's
    assert len(tail.frames) in (12, 13)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"start": 1.0, "end": 1.0}, "after the start"),
        ({"start": 2.5}, "past the end"),
        ({"start": -1.0}, "0 s or later"),
        ({"stride": 0}, "stride"),
        ({"fps": 0}, "frame rate"),
    ],
)
def test_bad_spans_are_refused(media, kwargs, words):
    with pytest.raises(InputError, match=words):
        read_video(media["clip.mp4"], **kwargs)
    with pytest.raises(InputError, match=words):
        iter_video(media["clip.mp4"], **kwargs)  # refused on the call, before any frame


def test_max_duration_cuts_with_a_notice(media):
    clip = read_video(media["clip.mp4"], limits=InputLimits(max_duration=1.0))
    assert len(clip.frames) == 25
    assert clip.notices == ["Used the first 1.0 s of a 2.0 s video (max duration setting)."]
    clip = read_video(media["clip.mp4"], start=0.4, limits=InputLimits(max_duration=1.0))
    assert len(clip.frames) == 25 and "from 0.4 s" in clip.notices[0]


def test_fast_video_is_resampled_to_max_fps_with_a_notice(media, tmp_path):
    fast = tmp_path / "fast.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=80x64:rate=60:duration=1", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(fast))
    clip = read_video(fast)
    assert clip.fps == 30 and len(clip.frames) == 30
    assert clip.notices == ["Resampled the video from 60 to 30 frames per second "
                            "(max fps setting)."]
    assert read_video(fast, fps=60).fps == 60  # an asked-for rate wins
    assert read_video(media["clip.mp4"]).notices == []  # 25 fps stays as it is


def test_max_side_downscales_to_even_sizes(media):
    clip = read_video(media["clip.mp4"], limits=InputLimits(max_side=45, min_side=16))
    assert clip.frames[0].shape == (36, 44, 3)
    assert clip.notices == ["Downscaled the video from 80x64 to 44x36 (max side setting)."]
    assert read_video(media["clip.mp4"], limits=InputLimits(max_side=80)).notices == []


def test_max_frames_and_upload_size_and_min_side(media):
    clip = read_video(media["clip.mp4"], fps=10, limits=InputLimits(max_frames=8))
    assert len(clip.frames) == 8 and "max frames" in clip.notices[0]
    with pytest.raises(InputError, match="MB"):
        read_video(media["clip.mp4"], limits=InputLimits(max_upload_mb=0.001))
    with pytest.raises(InputError, match="at least 100 pixels"):
        read_video(media["clip.mp4"], limits=InputLimits(min_side=100))


def test_phone_rotation_is_applied(media):
    info = probe_video(media["rotated.mp4"])
    assert (info.width, info.height) == (64, 80)
    frame = read_video(media["rotated.mp4"]).frames[0]
    assert frame.shape == (80, 64, 3)
    # A 90-degree counter-clockwise display matrix puts the top (red) half on the left.
    assert np.allclose(frame[:, :28].mean((0, 1)), RED, atol=8)
    assert np.allclose(frame[:, 36:].mean((0, 1)), BLUE, atol=8)


def test_ntsc_rates_are_exact(tmp_path):
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=80x64:rate=30000/1001:duration=0.5",
           str(tmp_path / "ntsc.mp4"))  # fmt: skip
    assert probe_video(tmp_path / "ntsc.mp4").fps == 30000 / 1001  # ffmpeg prints "29.97"


def test_variable_frame_rate_becomes_constant(media):
    info = probe_video(media["vfr.mp4"])
    clip = read_video(media["vfr.mp4"])
    assert info.num_frames == 40 and clip.fps == info.fps
    assert abs(len(clip.frames) - info.duration * info.fps) <= 1


def test_hdr_phone_video_is_tone_mapped(tmp_path):
    hlg = "setparams=color_primaries=bt2020:color_trc=arib-std-b67:colorspace=bt2020nc"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=80x64:rate=25:duration=0.2", "-vf", hlg,
           "-c:v", "libx265", "-x265-params", "log-level=error", "-pix_fmt", "yuv420p10le",
           str(tmp_path / "hlg.mp4"))  # fmt: skip
    clip = read_video(tmp_path / "hlg.mp4")
    assert len(clip.frames) == 5 and clip.frames[0].shape == (64, 80, 3) and not clip.notices


def test_odd_sized_video_reads_and_downscales_even(media):
    limits = InputLimits(min_side=16)
    assert read_video(media["odd.mkv"], limits=limits).frames[0].shape == (65, 81, 3)
    limits.max_side = 60
    assert read_video(media["odd.mkv"], limits=limits).frames[0].shape == (48, 60, 3)


def test_truncated_video_returns_what_decoded_with_a_notice(media):
    clip = read_video(media["cut_faststart.mp4"])
    assert 5 <= len(clip.frames) < 50
    assert "damaged" in clip.notices[0]


def test_iter_video_streams_the_same_frames(media):
    frames = list(iter_video(media["clip.mp4"], fps=10, max_side=40))
    assert len(frames) == 20 and frames[0].shape == (32, 40, 3)
    full = read_video(media["clip.mp4"], fps=10, limits=InputLimits(max_side=40, min_side=16))
    assert np.array_equal(frames[5], full.frames[5])
    stream = iter_video(media["clip.mp4"])
    next(stream)
    stream.close()  # stopping early must not hang or leak ffmpeg


def test_nearest_resampling_gives_the_public_frames(tmp_path):
    """Wan2.2's preprocessing changes the rate by nearest source frame: int(n / fps * 30)
    target times (truncated), each the source frame at round(t * fps). 61 frames at 50 fps
    give 36 frames at 30 fps (ffmpeg's fps filter gives 37), frame k being source
    round(k * 5 / 3)."""
    path = tmp_path / "fifty.mkv"
    # Each frame has its own grey level, so the frame picked can be read back.
    ffmpeg("-f", "lavfi", "-i", "color=black:size=64x64:rate=50:d=1.22",
           "-vf", "geq=lum='16+3.5*N':cb=128:cr=128", "-frames:v", "61", "-c:v", "ffv1",
           "-pix_fmt", "yuv444p", str(path))  # fmt: skip
    source = read_video(path, limits=InputLimits(max_fps=60)).frames
    assert len(source) == 61
    assert len(read_video(path, fps=30).frames) == 37  # the fps filter rounds up
    clip = read_video(path, fps=30, resampling="nearest")
    assert len(clip.frames) == 36 and clip.fps == 30
    levels = np.array([float(f.mean()) for f in source])
    picked = [int(np.argmin(np.abs(levels - float(f.mean())))) for f in clip.frames]
    assert picked[:7] == [0, 2, 3, 5, 7, 8, 10] and picked[-1] == 58
    assert picked == [min(round(k * 5 / 3), 60) for k in range(36)]
    with pytest.raises(InputError, match="resampling"):
        read_video(path, fps=30, resampling="linear")
