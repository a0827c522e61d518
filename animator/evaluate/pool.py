"""Scores over several clips at once, the way a paper's table is computed.

DisCo (and the tables that copy its protocol) do not average per-video scores: L1, PSNR,
SSIM and LPIPS are means over every frame of the test set, and FID, FID-VID and FVD are
distances between the feature sets of all generated and all ground-truth frames (or
windows). `pooled` does the same over the evaluated clips that have a ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from animator.evaluate.evaluation import Evaluation
from animator.evaluate.frechet import frechet_from_features
from animator.evaluate.fvd import METRICS

FRAME_SCORES = ("l1", "psnr", "psnr_star", "ssim", "lpips")


def _frame_mean(values: list[float], key: str) -> float | None:
    a = np.asarray(values, dtype=np.float64)
    a = a[~np.isnan(a)]
    if not len(a):
        return None
    finite = a[np.isfinite(a)]
    if key == "psnr" and len(finite) < len(a):  # identical frames: the others' mean
        return float(finite.mean()) if len(finite) else float("inf")
    return float(a.mean())


def pooled(evaluations: Sequence[Evaluation]) -> dict[str, Any] | None:
    """One table row over every clip with a ground truth; None for fewer than two."""
    clips = [ev for ev in evaluations if ev.pixels is not None]
    if len(clips) < 2:
        return None
    protocol = clips[0].protocol
    row: dict[str, Any] = {"clip": f"{len(clips)} clips", "protocol": protocol,
                           "frames": int(sum(ev.pixels["frames"] for ev in clips))}
    for key in FRAME_SCORES:
        values = [v for ev in clips for v in ev.per_frame.get(key, [])]
        if values:
            row[key] = _frame_mean(values, key)
    for name in ("fid", "fid_vid", "fvd"):
        sets = [ev.features[name] for ev in clips if name in ev.features]
        if len(sets) == len(clips):
            ddof = 1 if name == "fid" else METRICS[(name, protocol)].ddof
            row[name] = frechet_from_features(np.concatenate([s[0] for s in sets]),
                                              np.concatenate([s[1] for s in sets]), ddof)
    return row


__all__ = ["pooled"]
