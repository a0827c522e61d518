"""Settings of `evaluate`, one commented default per field (animator/config.py style)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EvaluateConfig:
    """What to measure and how; the CLI's flags fill these same fields."""

    pose_backend: str = "auto"  # detector for the generated frames: auto, dwpose, mediapipe
    weights_dir: str | None = None  # local model files (DWPose, face, lpips/, fid/, fvd/)
    face_model_dir: str | None = None  # insightface folder; None = search like `animate`
    pose: bool = True  # re-detect the poses (accuracy, jitter, proportions): the slowest measure
    identity: bool = True  # measure CSIM when a face model is found
    identity_stride: int = 1  # score the face in every n-th frame (ArcFace costs ~0.1 s/frame)
    threshold: float = 0.3  # keypoint score counted as visible (target and detection)
    flow_side: int = 256  # frames are scaled to this longest side for the optical flow
    protocol: str = "standard"  # "disco": DisCo's conventions, to compare with paper tables
    lpips: bool = False  # LPIPS against the ground truth (needs its weights, see lpips.py)
    fid: bool = False  # FID against the ground truth (needs its Inception weights, see fid.py)
    fid_vid: bool = False  # FID-VID against the ground truth (3D ResNet-50 weights, fvd.py)
    fvd: bool = False  # FVD against the ground truth (I3D weights, see fvd.py)
