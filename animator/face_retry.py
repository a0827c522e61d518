"""facexlib's second look for a face: StableAnimator's inference_basic.py, when insightface
finds no face in the portrait, runs facexlib's `FaceRestoreHelper` (RetinaFace-ResNet50,
512 px aligned crops, the centre face) and embeds the aligned crop with the recogniser
(`get_feat`) before it falls back to an all-zero embedding.

facexlib pulls torchvision and numba, so it is not a requirement: the retry runs when it is
installed and its detector weights are on the machine (nothing is downloaded here, so
facexlib's own download is never reached), and otherwise `FACEXLIB_HOW` says how to get it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

FACEXLIB_WEIGHTS = "detection_Resnet50_Final.pth"
FACEXLIB_URL = ("https://github.com/xinntao/facexlib/releases/download/v0.1.0/"
                + FACEXLIB_WEIGHTS)
FACEXLIB_HOW = (
    "StableAnimator retries with facexlib's face detector before using the empty face: "
    f"`pip install facexlib` and put {FACEXLIB_URL} into WEIGHTS_DIR/facexlib/ to do the same."
)

Aligner = Callable[[np.ndarray], "np.ndarray | None"]


def weights_folders(weights_dir: str | Path | None) -> list[Path]:
    """Where the detector weights are looked for: WEIGHTS_DIR/facexlib, WEIGHTS_DIR, and
    facexlib's own weights folder (where its download puts them)."""
    folders = []
    if weights_dir is not None:
        folders += [Path(weights_dir) / "facexlib", Path(weights_dir)]
    spec = importlib.util.find_spec("facexlib")
    if spec is not None and spec.origin:
        folders.append(Path(spec.origin).parent / "weights")
    return folders


def facexlib_aligner(weights_dir: str | Path | None = None, device: str = "cpu"
                     ) -> tuple[Aligner | None, str | None]:
    """(aligner, None) when facexlib and its weights are here, else (None, FACEXLIB_HOW).
    The aligner takes the image as the face models are handed it and returns the 512x512
    aligned centre face, or None when facexlib finds none either."""
    if importlib.util.find_spec("facexlib") is None:
        return None, FACEXLIB_HOW
    folder = next((f for f in weights_folders(weights_dir) if (f / FACEXLIB_WEIGHTS).is_file()),
                  None)
    if folder is None:
        return None, FACEXLIB_HOW
    helper = None

    def align(image: np.ndarray) -> np.ndarray | None:
        nonlocal helper
        if helper is None:
            from facexlib.utils.face_restoration_helper import FaceRestoreHelper

            # StableAnimator's settings (animation/modules/face_model.py)
            helper = FaceRestoreHelper(upscale_factor=1, face_size=512, crop_ratio=(1, 1),
                                       det_model="retinaface_resnet50", save_ext="png",
                                       device=device, model_rootpath=str(folder))
        helper.clean_all()
        helper.read_image(image)
        helper.get_face_landmarks_5(only_center_face=True)
        helper.align_warp_face()
        return helper.cropped_faces[0] if helper.cropped_faces else None

    return align, None
