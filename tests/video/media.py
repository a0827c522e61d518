"""Helpers for the video tests: the bundled ffmpeg, and audio read back as samples."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

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
