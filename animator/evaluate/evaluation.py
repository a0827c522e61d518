"""`Evaluation`: every result of one clip, its table row and its JSON form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from animator.evaluate.pose import PoseAccuracy
from animator.evaluate.proportion import Proportions
from animator.evaluate.sync import Sync


@dataclass
class Evaluation:
    """All results for one clip; `row()` flattens the headline numbers for a table."""

    clip: Path
    frames: int
    fps: float
    width: int
    height: int
    pose: PoseAccuracy | None
    jitter: float | None  # keypoint jitter of the re-detected poses (pose.keypoint_jitter)
    target_jitter: float | None  # the same of the target poses: what smooth motion scores
    flicker: float | None  # mean warping error, 8-bit levels (temporal.py)
    identity: dict[str, Any] | None  # CSIM mean/min/drift (identity.py); None: not measured
    pixels: dict[str, Any] | None  # L1/PSNR/SSIM (and DisCo's PSNR*) vs the truth; None: none
    lpips: float | None
    fid: float | None  # FID of the clip's frames against the ground truth's (fid.py)
    sync: Sync
    per_frame: dict[str, list[float]]  # series for plots; NaN where not measured
    notes: list[str]
    seconds: float  # time the evaluation took
    target: Any = None  # the target poses in the clip's pixels (a PoseSequence; not saved)
    protocol: str = "standard"  # how the ground-truth scores are computed (protocols.py)
    fid_vid: float | None = None  # FID-VID (fvd.py)
    fvd: float | None = None
    proportions: Proportions | None = None
    truth: Path | None = None  # the ground-truth video compared with
    features: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict,
                                                                repr=False)  # not saved

    def row(self) -> dict[str, Any]:
        p, s = self.pose, self.sync
        row: dict[str, Any] = {"clip": str(self.clip), "frames": self.frames,
                               "fps": round(self.fps, 3), "size": f"{self.width}x{self.height}",
                               "protocol": self.protocol}
        if p is not None:
            row.update(pose_error=p.overall.error, pck_0_05=p.overall.pck["0.05"],
                       pck_0_1=p.overall.pck["0.1"], pose_found=p.overall.found,
                       lost_frames=len(p.lost_frames), pose_size=p.size_kind)
            for name, part in p.parts.items():
                row[f"{name}_error"] = part.error
                row[f"{name}_pck_0_1"] = part.pck["0.1"]
        row.update(jitter=self.jitter, target_jitter=self.target_jitter, flicker=self.flicker)
        if self.identity is not None:
            row.update(csim=self.identity["mean"], csim_min=self.identity["min"],
                       csim_drift_per_s=self.identity["drift_per_s"],
                       no_face=self.identity["no_face"])
        if self.pixels is not None:
            row.update({k: v for k, v in self.pixels.items() if k != "frames"})
        for name in ("lpips", "fid", "fid_vid", "fvd"):
            if getattr(self, name) is not None:
                row[name] = getattr(self, name)
        if self.proportions is not None:
            row.update(build_error_vs_portrait=self.proportions.mean_error_vs_portrait,
                       build_error_vs_driver=self.proportions.mean_error_vs_driver,
                       build_shift=self.proportions.build_shift)
        row.update(duration=s.duration, duration_error=s.duration_error, has_audio=s.has_audio,
                   audio_ok=s.audio_ok, audio_lag_error=s.audio_lag_error,
                   seconds=round(self.seconds, 3))
        return row

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (NaN and infinity written as null and "inf")."""
        pose = None
        if self.pose is not None:
            p = self.pose
            pose = {"size_kind": p.size_kind, "frames": p.frames, "lost_frames": p.lost_frames,
                    "overall": vars(p.overall),
                    "parts": {k: vars(v) for k, v in p.parts.items()}}
        data = {"clip": str(self.clip), "protocol": self.protocol, "frames": self.frames,
                "fps": self.fps, "width": self.width, "height": self.height, "pose": pose,
                "jitter": self.jitter, "target_jitter": self.target_jitter,
                "flicker": self.flicker, "identity": self.identity, "truth": self.truth,
                "pixels": self.pixels, "lpips": self.lpips, "fid": self.fid,
                "fid_vid": self.fid_vid, "fvd": self.fvd,
                "proportions": vars(self.proportions) if self.proportions else None,
                "sync": vars(self.sync), "per_frame": self.per_frame, "notes": self.notes,
                "seconds": self.seconds}
        return jsonable(data)


def jsonable(value):
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else ("inf" if math.isinf(value) else value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Path):
        return str(value)
    return value


__all__ = ["Evaluation", "jsonable"]
