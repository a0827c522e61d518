"""The bundled ffmpeg and how every call to it opens files: a whitelist of demuxers,
local files only, names that can never be read as options, atomic writes."""

from __future__ import annotations

import secrets
import subprocess
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import imageio_ffmpeg

# ffmpeg demuxers we accept, and local files only: an upload can never make ffmpeg open a
# playlist, an image sequence or a network address.
_DEMUXERS = "mov,matroska,avi,gif,mpegts,flv,asf,mpeg,ogg,mp3,wav,aac,flac"
_SAFE_INPUT = ["-format_whitelist", _DEMUXERS, "-protocol_whitelist", "file"]
_VIDEO_HINT = "upload an MP4, MOV or WebM video"


@lru_cache
def _ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def _url(path: str | Path) -> str:
    # "file:" keeps names containing ':' or starting with '-' from being read as options.
    return "file:" + str(Path(path).resolve())


def _rational(value: float) -> str:
    frac = Fraction(value).limit_denominator(1001)
    return f"{frac.numerator}/{frac.denominator}"


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"ffmpeg failed to {what}:\n{proc.stderr.decode('utf-8', 'replace')}")


def _temp_next_to(path: Path) -> Path:
    # Same folder, so the final rename is atomic and a crash never leaves a half file at `path`.
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
