"""Audio: taken out of a driving video (AAC in .m4a), and muxed into a written video."""

from __future__ import annotations

import os
from pathlib import Path

from animator.video.ffmpeg import _SAFE_INPUT, _ffmpeg, _run, _temp_next_to, _url
from animator.video.probe import _inspect


def extract_audio(
    path: str | Path, out_path: str | Path, *, start: float = 0.0, duration: float | None = None
) -> Path | None:
    """The audio of a video (or audio file) as AAC in an .m4a; None when it has no audio."""
    if not _inspect(path, count=False).has_audio:
        return None
    out_path = Path(out_path)
    tmp = _temp_next_to(out_path)
    cmd = [_ffmpeg(), "-y", "-nostdin", "-v", "error", *_SAFE_INPUT]
    cmd += ["-ss", f"{start:.6f}"] + (["-t", f"{duration:.6f}"] if duration else [])
    cmd += ["-i", _url(path), "-map", "0:a:0", "-c:a", "aac", "-b:a", "192k"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", _url(tmp)]
    try:
        _run(cmd, "extract the audio")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path


def mux_audio(
    video: Path, audio: str | Path, *, start: float, delay: float, duration: float, temp: Path
) -> None:
    """Put the audio of `audio` (from `start` seconds, after `delay` seconds of silence, cut to
    `duration`) into the MP4 `video`, replacing it; `temp` is where the new file is made."""
    cmd = [_ffmpeg(), "-y", "-nostdin", "-v", "error", "-i", _url(video), *_SAFE_INPUT]
    cmd += ["-ss", f"{start:.6f}", "-i", _url(audio)]
    cmd += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k"]
    if delay > 0:
        cmd += ["-af", f"adelay=delays={round(delay * 1000)}:all=1"]
    cmd += ["-t", f"{duration:.6f}", "-movflags", "+faststart"]
    try:
        _run(cmd + ["-f", "mp4", _url(temp)], "add the audio")
        os.replace(temp, video)
    finally:
        temp.unlink(missing_ok=True)
