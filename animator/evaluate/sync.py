"""Sync: is the clip as long as its motion, and does it carry the driving audio, in step?

Duration is compared with the target poses (one output frame per pose frame). Audio is
checked for presence (the clip should have sound exactly when the driving video has), and,
when the driving video is known, for its offset: both soundtracks are decoded to mono,
turned into loudness envelopes (10 ms hops) and cross-correlated; the lag of the best match
is where the clip's audio sits in the driving audio. `Animator` starts the clip's sound at
the first used driving frame, after a silence as long as the lead-in, so the expected lag is
(driving start - lead-in) seconds; the error is measured minus expected.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from animator.video import probe_video

RATE = 8000  # audio samples per second for the comparison
HOP = 80  # samples per envelope step: 10 ms
MAX_LAG = 30.0  # seconds searched when the expected lag is unknown
WINDOW = 0.2  # seconds searched either side of the expected lag


@dataclass
class Sync:
    duration: float  # seconds of the clip
    target_duration: float  # seconds of the target poses (frames / fps)
    duration_error: float  # clip minus target, seconds
    frames: int  # frames in the clip
    target_frames: int
    has_audio: bool
    driving_has_audio: bool | None  # None: driving video unknown
    audio_ok: bool | None  # audio present exactly when the driving video has some
    audio_lag: float | None  # seconds into the driving audio where the clip's audio starts
    audio_lag_error: float | None  # measured minus expected lag, seconds (None: not known)


def read_audio(path: str | Path, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Mono float32 samples at RATE Hz of a file's first audio track (empty when none)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error",
           "-protocol_whitelist", "file", "-ss", f"{start:.6f}"]
    cmd += ["-t", f"{duration:.6f}"] if duration else []
    cmd += ["-i", "file:" + str(Path(path).resolve()), "-map", "0:a:0?", "-ac", "1",
            "-ar", str(RATE), "-af", "aresample=async=1:first_pts=0", "-f", "s16le", "-"]
    out = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL).stdout
    return np.frombuffer(out, dtype=np.int16).astype(np.float32) / 32768.0


def _envelope(samples: np.ndarray) -> np.ndarray:
    n = len(samples) // HOP
    env = np.sqrt((samples[: n * HOP].reshape(n, HOP) ** 2).mean(axis=1) + 1e-12)
    return np.log(env)


def audio_lag(clip_audio: np.ndarray, driving_audio: np.ndarray,
              around: float | None = None) -> float | None:
    """Seconds into `driving_audio` where `clip_audio` starts (negative: after a silence
    that long); None when either is too short or silent. Leading silence of the clip (the
    lead-in) is left out of the match. With `around`, only lags within `WINDOW` seconds of
    it are searched: music repeats, so a lag is only defined up to its period, and a sync
    check asks whether the sound sits where it should, not where else it could."""
    loud = np.flatnonzero(np.abs(clip_audio) > 1e-4)
    if len(loud) == 0:
        return None
    skip = int(loud[0]) // HOP  # in envelope steps
    a, b = _envelope(clip_audio)[skip:], _envelope(driving_audio)
    if len(a) < 10 or len(b) < 10:
        return None
    a = (a - a.mean()) / (a.std() + 1e-9)
    b = (b - b.mean()) / (b.std() + 1e-9)
    step = HOP / RATE
    if around is None:
        lags = range(0, min(int(MAX_LAG / step), len(b) - 10) + 1)
    else:
        centre = round(around / step) + skip
        lags = range(max(0, centre - round(WINDOW / step)), centre + round(WINDOW / step) + 1)
    best, best_score = None, -np.inf
    for lag in lags:  # the clip's sound comes from `lag` steps into the driving audio
        overlap = min(len(a), len(b) - lag)
        if overlap < 10:
            break
        score = float(np.dot(a[:overlap], b[lag: lag + overlap]) / overlap)
        if score > best_score:
            best, best_score = lag, score
    if best is None:
        return None
    return (best - skip) * step


def check_sync(clip: str | Path, target_frames: int, target_fps: float, *,
               driving: str | Path | None = None, expected_lag: float | None = None) -> Sync:
    info = probe_video(clip)
    target_duration = target_frames / target_fps
    driving_audio = None
    if driving is not None:
        driving_audio = read_audio(driving) if probe_video(driving).has_audio else np.zeros(0)
    lag = None
    if info.has_audio and driving_audio is not None and len(driving_audio):
        lag = audio_lag(read_audio(clip), driving_audio, around=expected_lag)
    driving_has = None if driving_audio is None else bool(len(driving_audio))
    return Sync(
        duration=info.duration, target_duration=target_duration,
        duration_error=info.duration - target_duration, frames=info.num_frames,
        target_frames=target_frames, has_audio=info.has_audio, driving_has_audio=driving_has,
        audio_ok=None if driving_has is None else info.has_audio == driving_has,
        audio_lag=lag,
        audio_lag_error=None if lag is None or expected_lag is None else lag - expected_lag,
    )


__all__ = ["Sync", "audio_lag", "check_sync", "read_audio"]
