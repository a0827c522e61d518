"""Small NaN-aware numeric helpers of the retargeting steps: angle wrapping, runs of missing
values, hold-filling for filters, NaN medians and quantiles, Savitzky-Golay smoothing with
cached weights, and a vectorised median of 7 (for the Hampel filter).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.ndimage import correlate1d


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def _runs(invalid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True along the last axis of a 2D mask, in O(number of True): the flat
    index of every True entry, and the flat index of the valid entry just before and just
    after its run in the same row (-1 where the run touches the row's start or end)."""
    T = invalid.shape[-1]
    holes = np.flatnonzero(invalid)
    if holes.size == 0:
        return holes, holes, holes
    first = np.ones(holes.size, dtype=bool)
    first[1:] = (np.diff(holes) != 1) | (holes[1:] % T == 0)
    run = np.cumsum(first) - 1
    starts = holes[first]
    ends = holes[np.append(np.flatnonzero(first)[1:] - 1, holes.size - 1)]
    before = np.where(starts % T > 0, starts - 1, -1)
    after = np.where(ends % T < T - 1, ends + 1, -1)
    return holes, before[run], after[run]


def _hold_fill(a: np.ndarray) -> np.ndarray:
    """NaN replaced by the last valid value before it along the last axis (the first one
    after it at a row's start); rows without any value become 0. For filters that must not
    see NaN; the caller masks the held values out again."""
    holes, before, after = _runs(np.isnan(a).reshape(-1, a.shape[-1]))
    if holes.size == 0:
        return a
    out = a.copy()
    flat = out.reshape(-1)
    source = np.where(before >= 0, before, after)
    flat[holes] = np.where(source >= 0, flat[source], 0.0)
    return out


def _nan_median_rows(a: np.ndarray, min_count: int = 1) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN if fewer than min_count values)."""
    s = np.sort(a, axis=-1)
    n = (~np.isnan(a)).sum(axis=-1)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(s, np.maximum(n // 2, 0)[..., None], axis=-1)[..., 0]
    return np.where(n >= min_count, 0.5 * (lo + hi), np.nan)


def _nan_quantile(a: np.ndarray, q: float) -> np.ndarray:
    """Quantile over the last axis ignoring NaN (linear interpolation; NaN if no value)."""
    s = np.sort(a, axis=-1)
    n = (~np.isnan(a)).sum(axis=-1)
    pos = q * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    vlo = np.take_along_axis(s, lo[..., None], axis=-1)[..., 0]
    vhi = np.take_along_axis(s, hi[..., None], axis=-1)[..., 0]
    return np.where(n > 0, vlo + (pos - lo) * (vhi - vlo), np.nan)


@lru_cache
def _savgol_weights(window: int, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Savitzky-Golay weights: centre, and the first/last `window` samples -> the fitted
    values of the first/last window // 2 frames (scipy's mode="interp"). scipy.signal is
    imported here: it takes seconds to import, which a command that never smooths (or a
    `--help`) should not pay."""
    from scipy.signal import savgol_coeffs

    half = window // 2
    edge = np.stack([savgol_coeffs(window, order, pos=i, use="dot") for i in range(half)])
    tail = np.stack([savgol_coeffs(window, order, pos=window - half + i, use="dot")
                     for i in range(half)])  # fmt: skip
    return savgol_coeffs(window, order), edge, tail


def savgol(a: np.ndarray, window: int, order: int = 2) -> np.ndarray:
    """Zero-phase Savitzky-Golay smoothing along the last axis (T >= window), the edges
    fitted like scipy's savgol_filter(mode="interp"), with the weights computed once."""
    centre, edge, tail = _savgol_weights(window, order)
    out = correlate1d(a, centre, axis=-1, mode="nearest")
    half = window // 2
    out[..., :half] = a[..., :window] @ edge.T
    out[..., -half:] = a[..., -window:] @ tail.T
    return out


def _norm(d: np.ndarray) -> np.ndarray:
    """Length of (2, ...) vectors (np.hypot is ~10x slower and its care is not needed)."""
    return np.sqrt(d[0] * d[0] + d[1] * d[1])


# Median of 7 by a selection network of min/max: vectorised over whole arrays, unlike a
# per-window sort. Correct for every input by the 0-1 principle (checked in the tests).
_MEDIAN7 = ((0, 5), (0, 3), (1, 6), (2, 4), (0, 1), (3, 5), (2, 6), (2, 3), (3, 6), (4, 5),
            (1, 4), (1, 3), (3, 4))  # fmt: skip


def _median7(w: list[np.ndarray]) -> np.ndarray:
    w = list(w)
    for i, j in _MEDIAN7:
        w[i], w[j] = np.minimum(w[i], w[j]), np.maximum(w[i], w[j])
    return w[3]
