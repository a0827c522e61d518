"""Gap filling: which missing entries to fill (short interior runs in frames with a person)
and their values, linear for short gaps and a cubic Hermite curve for longer ones, so a
limb in motion keeps moving through the gap. `clean` applies it in parameter space.
"""

from __future__ import annotations

import numpy as np

from animator.pose.retarget.numeric import _runs, _wrap

LINEAR_GAP = 4  # gaps up to this many frames are filled linearly, longer ones by Hermite
MAX_GAP = 12  # longer gaps stay missing


def gap_plan(
    invalid: np.ndarray, present: np.ndarray, max_gap: int = MAX_GAP
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries of an (M, T) mask to fill: interior runs of at most `max_gap` frames, only in
    `present` frames. Returns flat indices and the valid flat indices before/after each."""
    holes, before, after = _runs(invalid)
    ok = (before >= 0) & (after >= 0) & (after - before <= max_gap + 1)
    ok &= present[holes % invalid.shape[-1]]
    return holes[ok], before[ok], after[ok]


def interpolate(a: np.ndarray, plan: tuple, angular: bool = False) -> np.ndarray:
    """Values of an (M, T) array at the entries of a `gap_plan` (arrays sharing a mask share
    the plan). Runs up to LINEAR_GAP frames are linear, longer ones a cubic Hermite curve
    whose end slopes are the one-sided differences there (a limb in motion keeps moving
    through the gap). `angular`: values are angles, interpolated along the short arc."""
    holes, i0, i1 = plan
    T = a.shape[-1]
    flat = a.reshape(-1)
    diff = _wrap if angular else (lambda d: d)
    p0 = flat[i0]
    p1 = p0 + diff(flat[i1] - p0)
    span = (i1 - i0).astype(float)
    u = (holes - i0) / span
    value = p0 + u * (p1 - p0)
    long = span > LINEAR_GAP + 1
    if long.any():
        secant = (p1 - p0) / span
        has_before = i0 % T > 0
        has_after = i1 % T < T - 1
        before = np.where(has_before, flat[np.where(has_before, i0 - 1, i0)], np.nan)
        after = np.where(has_after, flat[np.where(has_after, i1 + 1, i1)], np.nan)
        m0 = np.where(np.isnan(before), secant, diff(p0 - before))
        m1 = np.where(np.isnan(after), secant, diff(after - p1))
        u2, u3 = u * u, u * u * u
        hermite = ((2 * u3 - 3 * u2 + 1) * p0 + (u3 - 2 * u2 + u) * span * m0
                   + (3 * u2 - 2 * u3) * p1 + (u3 - u2) * span * m1)  # fmt: skip
        value = np.where(long, hermite, value)
    return value


def fill_gaps(
    a: np.ndarray, present: np.ndarray, max_gap: int = MAX_GAP, angular: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the short interior NaN runs of each row of an (M, T) array in `present` frames
    (see `interpolate`). Returns the filled array and the (M, T) mask of filled entries."""
    plan = gap_plan(np.isnan(a), present, max_gap)
    out = a.copy()
    out.reshape(-1)[plan[0]] = interpolate(a, plan, angular)
    filled = np.zeros(a.shape, dtype=bool)
    filled.reshape(-1)[plan[0]] = True
    return out, filled
