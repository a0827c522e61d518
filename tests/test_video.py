"""animator.video against real files made by the bundled ffmpeg and by Pillow."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageCms

from animator.config import InputLimits
from animator.errors import InputError
from animator.video import (
    VideoWriter,
    extract_audio,
    iter_video,
    probe_video,
    read_image,
    read_video,
    side_by_side,
    write_video,
)

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
RED, BLUE = (255, 0, 0), (0, 0, 255)


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", "-nostdin", *args], check=True)


def audio_samples(path: Path, rate: int = 8000) -> np.ndarray:
    """The first audio stream of `path` as mono float samples in [-1, 1]."""
    out = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate)]
        + ["-f", "s16le", "pipe:1"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, np.int16) / 32768.0


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2)))


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """Tiny real media: 80x64 clips at 25 fps, audio that is silent for 1 s then a tone."""
    d = tmp_path_factory.mktemp("media")
    m = {name: d / name for name in ("clip.mp4", "silent.mp4", "tone.m4a", "halves.mp4")}
    src = ["-f", "lavfi", "-i", "testsrc2=size=80x64:rate=25:duration=2"]
    tone = r"aevalsrc=if(gte(t\,1)\,0.5*sin(2*PI*440*t)\,0):d=2:s=44100"
    ffmpeg("-f", "lavfi", "-i", tone, "-c:a", "aac", str(m["tone.m4a"]))
    ffmpeg(*src, "-i", str(m["tone.m4a"]), "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-shortest", str(m["clip.mp4"]))  # fmt: skip
    ffmpeg("-i", str(m["clip.mp4"]), "-c", "copy", "-an", str(m["silent.mp4"]))
    # Top half red, bottom half blue; then the same with a phone's 90-degree display matrix.
    halves = "color=red:size=80x32:d=0.4[a];color=blue:size=80x32:d=0.4[b];[a][b]vstack"
    ffmpeg(
        "-f", "lavfi", "-i", halves, "-c:v", "libx264", "-pix_fmt", "yuv420p", str(m["halves.mp4"])
    )
    m["rotated.mp4"] = d / "rotated.mp4"
    ffmpeg(
        "-display_rotation", "90", "-i", str(m["halves.mp4"]), "-c", "copy", str(m["rotated.mp4"])
    )
    m["odd.mkv"] = d / "odd.mkv"
    ffmpeg("-f", "lavfi", "-i", "color=green:size=81x65:rate=25:d=0.4", "-c:v", "ffv1",
           "-pix_fmt", "yuv444p", str(m["odd.mkv"]))  # fmt: skip
    # Variable frame rate: 1 s at 30 fps, then 0.8 s at 10 fps (a phone under low light).
    m["vfr.mp4"] = d / "vfr.mp4"
    vfr = r"select=lt(n\,30)+not(mod(n\,3))"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=80x64:rate=30:duration=2",
           "-vf", vfr, "-fps_mode", "vfr", str(m["vfr.mp4"]))  # fmt: skip
    # Damaged uploads: cut in half with the index first (partly decodable) and last (not).
    m["faststart.mp4"] = d / "faststart.mp4"
    ffmpeg(
        "-i", str(m["clip.mp4"]), "-c", "copy", "-movflags", "+faststart", str(m["faststart.mp4"])
    )
    for name in ("faststart.mp4", "clip.mp4"):
        data = m[name].read_bytes()
        m["cut_" + name] = d / ("cut_" + name)
        m["cut_" + name].write_bytes(data[: len(data) // 2])
    m["text.mp4"] = d / "text.mp4"
    m["text.mp4"].write_text("these are not the frames you are looking for\n" * 20)
    m["empty.mp4"] = d / "empty.mp4"
    m["empty.mp4"].touch()
    return m


# ------------------------------------------------------------------------------ probing


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


# ------------------------------------------------------------------------------ reading


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


# ------------------------------------------------------------------------------ writing


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


def test_extract_audio(media, tmp_path):
    out = extract_audio(media["clip.mp4"], tmp_path / "a.m4a", start=0.5, duration=1.0)
    assert out == tmp_path / "a.m4a"
    assert abs(len(audio_samples(out)) / 8000 - 1.0) < 0.06
    assert extract_audio(media["silent.mp4"], tmp_path / "b.m4a") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.m4a"]


# ------------------------------------------------------------------------------ images


def halves_image(mode: str = "RGB") -> Image.Image:
    """80x64: left half red, right half blue."""
    img = np.zeros((64, 80, 3), np.uint8)
    img[:, :40], img[:, 40:] = RED, BLUE
    return Image.fromarray(img).convert(mode)


def test_alpha_is_flattened_onto_white(tmp_path):
    rgba = np.zeros((64, 80, 4), np.uint8)
    rgba[:, :40] = (255, 0, 0, 255)  # opaque red left, fully transparent right
    for ext in ("png", "webp"):
        Image.fromarray(rgba).save(tmp_path / f"a.{ext}", lossless=True)
        img = read_image(tmp_path / f"a.{ext}")
        assert img.shape == (64, 80, 3) and img.dtype == np.uint8
        assert tuple(img[5, 5]) == RED and tuple(img[5, 70]) == (255, 255, 255)


def test_exif_rotated_jpeg_comes_out_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    halves_image().save(tmp_path / "phone.jpg", exif=exif, quality=95)
    img = read_image(tmp_path / "phone.jpg")
    assert img.shape == (80, 64, 3)
    assert np.allclose(img[:30].mean((0, 1)), RED, atol=10)  # left half went to the top
    assert np.allclose(img[50:].mean((0, 1)), BLUE, atol=10)


def test_grey_16bit_cmyk_profiles_and_palette_images(tmp_path):
    Image.fromarray(np.full((64, 80), 32896, np.uint16)).save(tmp_path / "g16.png")
    assert np.all(read_image(tmp_path / "g16.png") == 128)  # not clipped to white
    halves_image("L").save(tmp_path / "g8.png")
    assert read_image(tmp_path / "g8.png").shape == (64, 80, 3)
    halves_image("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert np.allclose(read_image(tmp_path / "cmyk.jpg")[:, :30].mean((0, 1)), RED, atol=12)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, icc in (("icc.jpg", srgb), ("bad_icc.jpg", b"not a profile")):
        halves_image().save(tmp_path / name, icc_profile=icc, quality=95)
        assert np.allclose(read_image(tmp_path / name)[:, :30].mean((0, 1)), RED, atol=12)
    pal = halves_image().convert("P")
    pal.info["transparency"] = pal.getpixel((70, 5))  # blue becomes see-through
    pal.save(tmp_path / "pal.png")
    assert tuple(read_image(tmp_path / "pal.png")[5, 70]) == (255, 255, 255)


def test_max_side_downscales_by_area(tmp_path):
    big = np.zeros((400, 1000, 3), np.uint8)
    big[:, ::2] = 255  # one-pixel stripes average to mid-grey under area downscaling
    Image.fromarray(big).save(tmp_path / "big.png")
    img = read_image(tmp_path / "big.png", max_side=250)
    assert img.shape == (100, 250, 3) and abs(int(img.mean()) - 127) <= 2
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=95)
    assert read_image(tmp_path / "big.jpg", max_side=250).shape == (100, 250, 3)


def test_bad_images_are_refused(tmp_path, media):
    halves_image().resize((40, 30)).save(tmp_path / "tiny.png")
    halves_image().save(tmp_path / "ok.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "ok.jpg").read_bytes()[:300])
    (tmp_path / "eps.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 80 64\n")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    # A 20000x20000 PNG header in a few bytes: the decompression-bomb shape.
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    )
    (tmp_path / "bomb.png").write_bytes(bomb + chunk(b"IEND", b""))
    cases = {
        "tiny.png": "at least 64 pixels",
        "cut.jpg": "damaged",
        "eps.png": "not an image",
        "bomb.png": "too many pixels",
        "missing.png": "not found",
    }
    for name, words in cases.items():
        with pytest.raises(InputError, match=words):
            read_image(tmp_path / name)
    with pytest.raises(InputError, match="not an image"):
        read_image(media["clip.mp4"])


# ------------------------------------------------------------------------------ layout


def test_side_by_side_sizes():
    a, b = np.zeros((64, 80, 3), np.uint8), np.full((32, 20, 3), 255, np.uint8)
    grid = side_by_side(a, b, gap=3)
    assert grid.shape == (64, 124, 3)  # 80 + 3 + 40, widened by one to be even
    assert grid[:, 83:].min() == 255 and grid[:, 80:83].max() == 0
    assert side_by_side(a, b, height=33).shape == (34, 42 + 22, 3)  # 21 widened to 22


def test_one_image_size_limit_ours_checked_from_the_header(tmp_path, monkeypatch):
    """120 MP passes Pillow's own check (179 MP) but not ours; 400 MP trips Pillow's first:
    both get our words and our number, and no pixel is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    def decoded(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", decoded)
    for side in ((12000, 10000), (20000, 20000)):
        header = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", *side, 8, 2, 0,
                                                                          0, 0))
        path = tmp_path / f"{side[0]}.png"
        path.write_bytes(header + chunk(b"IEND", b""))
        with pytest.raises(InputError, match="the limit is 100 megapixels"):
            read_image(path)
    with pytest.raises(InputError, match="the limit is 50 megapixels"):
        read_image(tmp_path / "12000.png", max_megapixels=50)
