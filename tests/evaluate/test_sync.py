"""Audio sync on crafted soundtracks whose offset is known to the sample.

The driving audio is speech-like noise (loudness changing every 10 ms); a clip "plays" it
from a known offset, after a known silence, as `Animator` writes it. The search must be
exact to one 10 ms step anywhere within +-2 s of the expected lag, say when the sound lies
outside that range, and not be pulled to a lag where only a little overlaps.
"""

from __future__ import annotations

import numpy as np
import pytest

from animator.evaluate.sync import RATE, audio_lag, find_lag

STEP = 0.01  # one envelope step: the promised accuracy


def speech(seconds: float, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    loudness = np.repeat(rng.random(int(seconds * 100)) ** 4, RATE // 100)
    return (rng.standard_normal(len(loudness)) * loudness).astype(np.float32)


def playing(driving: np.ndarray, offset: float, seconds: float) -> np.ndarray:
    """The clip's track: `driving` from `offset` s; a negative offset is a silence first."""
    if offset < 0:
        silence = np.zeros(round(-offset * RATE), np.float32)
        return np.concatenate([silence, driving[: round((seconds + offset) * RATE)]])
    return driving[round(offset * RATE): round((offset + seconds) * RATE)]


DRIVING = speech(10.0)


@pytest.mark.parametrize("offset", [-1.7, -0.12, 0.35, 1.23, 1.9])
def test_offsets_within_two_seconds_are_exact_to_a_step(offset):
    clip = playing(DRIVING, offset, 4.0)
    assert audio_lag(clip, DRIVING, around=0.0) == pytest.approx(offset, abs=STEP)


def test_codec_noise_before_the_sound_does_not_move_the_lag():
    clip = playing(DRIVING, -0.12, 4.0)
    clip[round(0.11 * RATE): round(0.12 * RATE)] = 3e-4  # a faint tick at the end of the lead-in
    assert audio_lag(clip, DRIVING, around=-0.12) == pytest.approx(-0.12, abs=STEP)


def test_a_lag_outside_the_window_is_said_not_guessed():
    search = find_lag(playing(DRIVING, 2.6, 4.0), DRIVING, around=0.0)
    assert search.lag is None
    assert "outside the searched range" in search.note and "+2.00 s" in search.note


def test_short_clip_is_not_pulled_to_a_small_overlap():
    """A 1.5 s clip of a track that opens and ends loud: at lags near the end only a few
    loud steps overlap, which must not outscore the true lag (the expected lag unknown)."""
    rng = np.random.default_rng(5)
    loudness = np.repeat(rng.random(1000) ** 4, RATE // 100)
    loudness[: 20 * 80] = loudness[-30 * 80:] = 1.0
    driving = (0.3 * rng.standard_normal(len(loudness)) * loudness).astype(np.float32)
    clip = playing(driving, -0.12, 1.5)
    assert audio_lag(clip, driving) == pytest.approx(-0.12, abs=STEP)


def test_repeating_sound_gives_the_period_nearest_the_expected_lag():
    """A decaying tone every half second (the example driving video's sound): every
    period matches; the lag nearest the expected one is the answer, with a note."""
    rng = np.random.default_rng(1)
    beat = np.exp(-np.arange(RATE // 2) / 800.0) * rng.standard_normal(RATE // 2)
    driving = np.tile(beat, 20).astype(np.float32)
    clip = playing(driving, 1.0, 3.0)
    search = find_lag(clip, driving, around=0.9)
    assert search.lag == pytest.approx(1.0, abs=STEP) and "repeats" in search.note
    assert audio_lag(clip, driving, around=1.6) == pytest.approx(1.5, abs=STEP)
