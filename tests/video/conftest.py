"""Tiny real media shared by the video tests (made once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.video.media import ffmpeg


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
