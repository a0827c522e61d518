"""Proportions: does the generated person keep the portrait's build, or take the driver's?

A model fed the driver's raw skeleton (or the raw driving video, as Wan-Animate is) tends to
give the portrait the driver's build: longer legs, wider shoulders. None of the usual
scores sees it (pose accuracy against retargeted poses even rewards it when the retargeting
is off). Here the bone ratios of three people are compared:

- the portrait's, from its one-frame pose;
- the driver's, from the poses detected in the driving video (when it is known);
- the clip's, from the poses detected again in the generated frames.

Each ratio is a bone over a reference length: head (neck to nose), shoulders (shoulder to
shoulder), upper arms, forearms, thighs and shins over the torso (neck to the middle of the
hips); over the shoulder width when the torso is not seen (upper-body clips). The longer of
the two sides counts (a projection only shortens). Over a clip each length is its 90th
percentile over the frames that show it (the least foreshortened view), which also holds
when the person's distance to the camera changes, since all lengths scale alike.
Errors are relative: |clip / portrait - 1| and |clip / driver - 1|. `build_shift` places
the clip between the two, in log ratios, over the ratios where they differ by more than
`DISTINCT`: 0 is the portrait's build, 1 the driver's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from animator.pose.skeleton import (
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    NOSE,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    PoseSequence,
)

QUANTILE = 0.9
DISTINCT = 0.05  # portrait and driver ratios closer than this are the same build
BORDER = 0.01  # points this close to the image edge (share of the short side) may be cut off
BONES: dict[str, tuple[tuple[int, int], ...]] = {
    "head": ((NECK, NOSE),),
    "shoulders": ((R_SHOULDER, L_SHOULDER),),
    "upper_arms": ((R_SHOULDER, R_ELBOW), (L_SHOULDER, L_ELBOW)),
    "forearms": ((R_ELBOW, R_WRIST), (L_ELBOW, L_WRIST)),
    "thighs": ((R_HIP, R_KNEE), (L_HIP, L_KNEE)),
    "shins": ((R_KNEE, R_ANKLE), (L_KNEE, L_ANKLE)),
}


@dataclass
class Proportions:
    """The bone ratios of the portrait, the driver and the clip, and what they say."""

    reference: str  # "torso" or "shoulders": what the ratios are over
    portrait: dict[str, float | None]
    driver: dict[str, float | None] | None  # None: no driving video known
    clip: dict[str, float | None]
    error_vs_portrait: dict[str, float | None]
    error_vs_driver: dict[str, float | None] | None
    mean_error_vs_portrait: float | None
    mean_error_vs_driver: float | None
    build_shift: float | None  # 0: the portrait's build, 1: the driver's
    finding: str  # the verdict in words
    notes: list[str] = field(default_factory=list)


def _lengths(poses: PoseSequence, threshold: float) -> dict[str, np.ndarray]:
    """(T,) pixel length per bone group (longer side) and of the two references; NaN where
    a point is not seen or lies on the image border."""
    kp = poses.keypoints
    margin = max(2.0, BORDER * min(poses.width, poses.height))
    x, y = kp[..., 0], kp[..., 1]
    inside = ((x >= margin) & (x <= poses.width - 1 - margin) & (y >= margin)
              & (y <= poses.height - 1 - margin))
    seen = ~np.isnan(x) & (kp[..., 2] >= threshold) & inside
    xy = np.where(seen[..., None], kp[..., :2].astype(np.float64), np.nan)

    def span(a, b):
        return np.linalg.norm(xy[:, a] - xy[:, b], axis=-1)

    out = {name: np.fmax.reduce([span(a, b) for a, b in pairs]) if len(pairs) > 1
           else span(*pairs[0]) for name, pairs in BONES.items()}
    out["torso"] = np.linalg.norm(xy[:, NECK] - (xy[:, R_HIP] + xy[:, L_HIP]) / 2, axis=-1)
    return out


def _typical(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.quantile(values, QUANTILE)) if len(values) else None


def bone_ratios(poses: PoseSequence, reference: str, threshold: float = 0.3
                ) -> dict[str, float | None]:
    """Each bone group's typical length over the reference's (module docstring)."""
    lengths = _lengths(poses, threshold)
    ref = _typical(lengths[reference])
    return {name: (None if (ref is None or ref <= 1.0 or _typical(values) is None)
                   else _typical(values) / ref)
            for name, values in lengths.items() if name not in (reference, "torso")}


def _reference(*poses: PoseSequence | None, threshold: float) -> str:
    """The torso when every source shows it, else the shoulder width."""
    for pose in poses:
        if pose is not None and _typical(_lengths(pose, threshold)["torso"]) is None:
            return "shoulders"
    return "torso"


def _errors(clip, other) -> dict[str, float | None]:
    return {k: (None if clip[k] is None or other.get(k) is None else abs(clip[k] / other[k] - 1))
            for k in clip}


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _shift(clip, portrait, driver) -> float | None:
    """Least-squares position of the clip on the portrait -> driver line, in log ratios."""
    num = den = 0.0
    for k, c in clip.items():
        p, d = portrait.get(k), driver.get(k)
        if None in (c, p, d) or abs(d / p - 1) < DISTINCT:
            continue
        step = math.log(d / p)
        num += math.log(c / p) * step
        den += step * step
    return num / den if den else None


def _finding(shift: float | None, driver, mean_p, mean_d) -> str:
    if driver is None:
        return ("No driving video: the clip's build is compared with the portrait's only "
                f"(mean ratio error {mean_p:.1%})." if mean_p is not None else
                "No ratio could be measured in both the portrait and the clip.")
    if shift is None:
        return ("The portrait and the driver have the same build (ratios within "
                f"{DISTINCT:.0%}): the clip cannot show whose it took.")
    closer = "driver's" if mean_d is not None and mean_p is not None and mean_d < mean_p \
        else "portrait's"
    return (f"The clip's proportions are closer to the {closer}: mean ratio error "
            f"{mean_p:.1%} against the portrait, {mean_d:.1%} against the driver "
            f"(build shift {shift:.2f}; 0 is the portrait's build, 1 the driver's).")


def compare_proportions(clip: PoseSequence, portrait: PoseSequence,
                        driver: PoseSequence | None = None,
                        threshold: float = 0.3) -> Proportions:
    """Ratios of the re-detected `clip` poses against the `portrait`'s and `driver`'s."""
    reference = _reference(clip, portrait, driver, threshold=threshold)
    ratios = [bone_ratios(p, reference, threshold) if p is not None else None
              for p in (portrait, driver, clip)]
    portrait_r, driver_r, clip_r = ratios
    vs_portrait = _errors(clip_r, portrait_r)
    vs_driver = _errors(clip_r, driver_r) if driver_r is not None else None
    mean_p = _mean(vs_portrait.values())
    mean_d = _mean(vs_driver.values()) if vs_driver is not None else None
    shift = _shift(clip_r, portrait_r, driver_r) if driver_r is not None else None
    notes = []
    if reference == "shoulders":
        notes.append("The torso is not seen in every source (upper body): proportions are "
                     "relative to the shoulder width.")
    return Proportions(reference, portrait_r, driver_r, clip_r, vs_portrait, vs_driver,
                       mean_p, mean_d, shift, _finding(shift, driver_r, mean_p, mean_d), notes)


__all__ = ["BONES", "Proportions", "bone_ratios", "compare_proportions"]
