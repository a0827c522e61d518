"""Sync: is the clip as long as its motion, and does it carry the driving audio, in step?

Duration is compared with the target poses (one output frame per pose frame). Audio is
checked for presence (the clip should have sound exactly when the driving video has), and,
when the driving video is known, for its offset: both soundtracks are decoded to mono and
turned into loudness envelopes (log RMS, 20 ms windows every 10 ms); the clip's sound
(leading and trailing silence left out) is slid along the driving envelope and scored by
Pearson correlation over the whole overlap at every lag, so neither a short clip nor a lag
near an end is favoured. The peak is refined between hops by a parabola through its neighbours.

`Animator` starts the clip's sound at the first used driving frame, after a silence as long
as the lead-in, so the expected lag is (driving start - lead-in) seconds; lags within
`WINDOW` seconds of it are searched (music repeats, so a lag is only defined up to its
period; a sync check asks whether the sound sits where it should, not where else it could),
and a best match on the window's edge, or one too weak to be the same sound, is reported as
outside the searched range rather than as a number.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from scipy.signal import correlate

from animator.video import probe_video

RATE = 8000  # audio samples per second for the comparison
HOP = 80  # samples per envelope step: 10 ms
STEP = HOP / RATE  # seconds per envelope step
WINDOW = 2.0  # seconds searched either side of the expected lag
MIN_SOUND = 10  # envelope steps of sound the clip needs for a lag (0.1 s)
MIN_MATCH = 0.5  # correlation below which the best lag is not taken for the same sound
SILENT_DB = 30.0  # envelope this far under the clip's loudest is silence (codec noise too)
MARGIN = 5  # envelope steps of silence assumed beyond both ends of the driving audio
TIE = 0.05  # peaks this close to the best are equal matches (repeating sound): nearest wins


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
    audio_note: str | None = None  # why no lag was given (outside the searched range, ...)


@dataclass
class LagSearch:
    """Result of sliding the clip's sound along the driving audio."""

    lag: float | None  # seconds (see `audio_lag`); None: not found in the searched range
    score: float | None  # Pearson correlation at the best lag
    searched: tuple[float, float] | None  # lags searched, seconds
    note: str | None  # why `lag` is None


def read_audio(path: str | Path, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Mono float32 samples at RATE Hz of a file's first audio track (empty when none)."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error",
           "-protocol_whitelist", "file", "-ss", f"{start:.6f}"]
    cmd += ["-t", f"{duration:.6f}"] if duration else []
    cmd += ["-i", "file:" + str(Path(path).resolve()), "-map", "0:a:0?", "-ac", "1",
            "-ar", str(RATE), "-af", "aresample=async=1:first_pts=0", "-f", "s16le", "-"]
    out = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL).stdout
    return np.frombuffer(out, dtype=np.int16).astype(np.float32) / 32768.0


_FLOOR = float(np.log(np.sqrt(1e-12)))  # the envelope of digital silence


def _envelope(samples: np.ndarray) -> np.ndarray:
    """Log RMS over 2-hop windows every hop: the overlap keeps a lag that falls between
    hops close to both neighbours, so the parabola can find it."""
    n = max(0, len(samples) // HOP - 1)
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    starts = np.arange(n) * HOP
    mean = (power[starts + 2 * HOP] - power[starts]) / (2 * HOP)
    return np.log(np.sqrt(mean + 1e-12))


def _pearson_at_every_start(b: np.ndarray, x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Correlation of `x` with b[j:j+len(x)] for j = lo..hi (x already centred)."""
    n = len(x)
    part = b[lo: hi + n]
    num = correlate(part, x, mode="valid")
    c1 = np.concatenate([[0.0], np.cumsum(part)])
    c2 = np.concatenate([[0.0], np.cumsum(part * part)])
    s1, s2 = c1[n:] - c1[:-n], c2[n:] - c2[:-n]
    spread = np.sqrt(np.maximum(s2 - s1 * s1 / n, 0.0)) * np.linalg.norm(x)
    return num / np.maximum(spread, 1e-9)


def find_lag(clip_audio: np.ndarray, driving_audio: np.ndarray,
             around: float | None = None) -> LagSearch:
    """Where the clip's sound sits in the driving audio; `around`: the expected lag, then
    only lags within WINDOW seconds of it are searched (module docstring)."""
    a, b = _envelope(clip_audio), _envelope(driving_audio)
    loud = np.flatnonzero(a > max(a.max(initial=_FLOOR), _FLOOR + 1) - SILENT_DB / 20 * np.log(10))
    if len(loud) == 0 or a.max() <= _FLOOR + 1:
        return LagSearch(None, None, None, "the clip's audio is silent")
    s0, s1 = int(loud[0]), int(loud[-1]) + 1
    n = s1 - s0
    if n < MIN_SOUND or len(b) < n:
        return LagSearch(None, None, None, "too little sound to line up")
    x = a[s0:s1] - a[s0:s1].mean()
    # Silence around the driving audio, so a sound that starts right at its beginning (or
    # ends at its end) is matched whole although the clip's onset is only known to a hop.
    b = np.concatenate([np.full(MARGIN, _FLOOR), b, np.full(MARGIN, _FLOOR)])
    first, last = -s0 - MARGIN, len(b) - s1 - MARGIN  # lags at which the sound overlaps b
    lo, hi = first, last
    if around is not None:
        centre, half = round(around / STEP), round(WINDOW / STEP)
        lo, hi = max(first, centre - half), min(last, centre + half)
        if lo > hi:
            return LagSearch(None, None, ((centre - half) * STEP, (centre + half) * STEP),
                             "the driving audio does not reach the searched range")
    scores = _pearson_at_every_start(b, x, lo + s0 + MARGIN, hi + s0 + MARGIN)
    best = int(np.argmax(scores))
    searched = (lo * STEP, hi * STEP)
    score = float(scores[best])
    note = None
    if around is not None:
        best, note = _nearest_of_equal_peaks(scores, best, round(around / STEP) - lo)
    on_edge = around is not None and ((best == 0 and lo > first)
                                      or (best == len(scores) - 1 and hi < last))
    if on_edge or score < MIN_MATCH:
        where = f"{searched[0]:+.2f} s to {searched[1]:+.2f} s"
        return LagSearch(None, score, searched,
                         f"the clip's audio is outside the searched range ({where} into the "
                         "driving audio: " + (f"the best match, {score:.2f}, is on its edge)"
                                              if on_edge else
                                              f"no match, the best correlation is {score:.2f})"))
    shift = 0.0
    if 0 < best < len(scores) - 1:  # parabola through the peak and its neighbours
        left, mid, right = scores[best - 1: best + 2]
        curve = left - 2 * mid + right
        if curve < 0:
            shift = float(np.clip(0.5 * (left - right) / curve, -0.5, 0.5))
    return LagSearch((lo + best + shift) * STEP, score, searched, note)


def _nearest_of_equal_peaks(scores: np.ndarray, best: int, expected: int) -> tuple[int, str | None]:
    """Repeating sound (a beat, a tone) matches equally at every period: of the peaks within
    TIE of the best, the one nearest the expected lag (index `expected`)."""
    inner = scores[1:-1]
    peaks = np.flatnonzero((inner >= scores[:-2]) & (inner >= scores[2:])) + 1
    peaks = np.union1d(peaks, [best])
    equal = peaks[scores[peaks] >= scores[best] - TIE]
    if len(equal) < 2:
        return best, None
    nearest = int(equal[np.argmin(np.abs(equal - expected))])
    gaps = np.diff(np.sort(equal)) * STEP
    return nearest, (f"the audio repeats (every {np.median(gaps):.2f} s): {len(equal)} lags "
                     "match as well; the one nearest the expected lag is given")


def audio_lag(clip_audio: np.ndarray, driving_audio: np.ndarray,
              around: float | None = None) -> float | None:
    """Seconds into `driving_audio` where `clip_audio` starts (negative: after a silence
    that long); None when either is too short or silent, or the match lies outside the
    searched range (`find_lag` says which)."""
    return find_lag(clip_audio, driving_audio, around).lag


def check_sync(clip: str | Path, target_frames: int, target_fps: float, *,
               driving: str | Path | None = None, expected_lag: float | None = None) -> Sync:
    info = probe_video(clip)
    target_duration = target_frames / target_fps
    driving_audio = None
    if driving is not None:
        driving_audio = read_audio(driving) if probe_video(driving).has_audio else np.zeros(0)
    search = None
    if info.has_audio and driving_audio is not None and len(driving_audio):
        search = find_lag(read_audio(clip), driving_audio, around=expected_lag)
    lag = search.lag if search is not None else None
    driving_has = None if driving_audio is None else bool(len(driving_audio))
    return Sync(
        duration=info.duration, target_duration=target_duration,
        duration_error=info.duration - target_duration, frames=info.num_frames,
        target_frames=target_frames, has_audio=info.has_audio, driving_has_audio=driving_has,
        audio_ok=None if driving_has is None else info.has_audio == driving_has,
        audio_lag=lag,
        audio_lag_error=None if lag is None or expected_lag is None else lag - expected_lag,
        audio_note=search.note if search is not None else None,
    )


__all__ = ["LagSearch", "Sync", "audio_lag", "check_sync", "find_lag", "read_audio"]
