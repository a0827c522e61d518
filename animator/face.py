"""ArcFace identity embedding of the portrait's face, through insightface.

StableAnimator's face encoder takes insightface's raw `face.embedding` (512-d, not
L2-normalised) of the largest face. Which channel order insightface was handed differs in the
public code: its training loader gave BGR frames (insightface's own, OpenCV convention), its
inference script RGB ones (a BGR read converted once more). `channels` picks one: "bgr" (one
RGB -> BGR conversion at the call, the default) or "rgb" (the image as given); each preset
says which it uses (weights.Preset.face_channels). When no face is found, the public code
conditions on an all-zero embedding with identity attention on; `embed` returns None and the
caller sends those zeros. Models come from a local folder only (antelopev2 or buffalo_l);
nothing is downloaded here and nothing is unpickled.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from animator.errors import InputError

logger = logging.getLogger(__name__)

NO_FACE_NOTICE = (
    "No face found in the portrait: the identity module gets an empty (all-zero) face, as in "
    "StableAnimator, so the face may drift."
)
FACE_CHANNELS = ("bgr", "rgb")  # channel orders the face models may be handed
_FIX = (
    "run `python -m animator download` to fetch it, or point --weights-dir at a folder that "
    "holds the insightface ONNX files (e.g. models/antelopev2)"
)


def _holds_onnx(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.onnx"))


def _onnx_folder(path: Path, name: str) -> Path | None:
    """The folder holding the ONNX files: `path` itself or one of insightface's layouts.

    insightface unpacks its zips one level too deep (`models/antelopev2/antelopev2/*.onnx`),
    and weights folders usually keep the `models/<name>` part, so all are accepted.
    """
    for candidate in (path, path / name, path / name / name, path / "models" / name,
                      path / "models" / name / name):
        if _holds_onnx(candidate):
            return candidate
    return None


def _hub_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def find_face_model_dir(root: str | Path | None = None, name: str = "antelopev2") -> Path | None:
    """Locate an insightface model folder named `name`; None when there is none.

    Searched in order: `root` (a weights folder), insightface's own `~/.insightface/models`,
    then every snapshot in the Hugging Face cache (where `animator.families.hub.fetch` puts them).
    """
    roots = [] if root is None else [Path(root).expanduser()]
    roots.append(Path.home() / ".insightface")
    for base in roots:
        found = _onnx_folder(base, name)
        if found is not None:
            return found
    for candidate in sorted(_hub_cache().glob(f"models--*/snapshots/*/**/{name}")):
        found = _onnx_folder(candidate, name)
        if found is not None:
            return found
    return None


def _providers(device: str) -> list:
    import onnxruntime

    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device != "cuda" and not device.startswith("cuda:"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
        # A CUDA torch next to the CPU onnxruntime wheel: one face on CPU takes a second.
        logger.warning("onnxruntime has no CUDA provider (install onnxruntime-gpu); "
                       "running the face models on CPU")
        return ["CPUExecutionProvider"]
    device_id = int(device.partition(":")[2] or 0)
    return [("CUDAExecutionProvider", {"device_id": device_id}), "CPUExecutionProvider"]


class FaceEmbedder:
    """insightface detector + ArcFace recogniser loaded from one local folder.

    `model_dir` is the folder of ONNX files (`.../antelopev2`) or its nested twin
    (`.../antelopev2/antelopev2`, what insightface's own download produces). Only the
    detection and recognition models are kept; insightface classifies the files by their
    input/output shapes, so file names do not matter.
    """

    def __init__(self, model_dir: str | Path, device: str = "cpu", det_size: int = 640,
                 channels: str = "bgr", retry=None, retry_notice: str | None = None):
        if det_size <= 0 or det_size % 32:
            raise InputError(f"Face detection size must be a positive multiple of 32 "
                             f"(e.g. 640), got {det_size}.")
        if channels not in FACE_CHANNELS:
            raise InputError(f"Face channel order must be one of {', '.join(FACE_CHANNELS)}, "
                             f"got {channels!r}.")
        path = Path(model_dir).expanduser()
        folder = _onnx_folder(path, path.name)
        if folder is None:
            raise InputError(f"No insightface face models (*.onnx) in {path}: {_FIX}.")
        from insightface.app import FaceAnalysis
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf

        try:
            app = FaceAnalysis(name=str(folder), providers=_providers(device),
                               allowed_modules=["detection", "recognition"])
        except AssertionError:  # insightface asserts that a detector was found
            app = None
        except (Fail, InvalidGraph, InvalidProtobuf) as error:  # truncated or corrupt files
            raise InputError(f"A face model file in {folder} is damaged ({error}): delete the "
                             f"folder and {_FIX}.") from error
        if app is None or "recognition" not in app.models:
            missing = "detector" if app is None else "recogniser"
            raise InputError(f"The face models in {folder} have no {missing}: {_FIX}.")
        app.prepare(ctx_id=0, det_size=(det_size, det_size))
        self.folder = folder
        self.channels = channels
        # StableAnimator's second look (face_retry.py): image -> aligned face or None
        self.retry, self.retry_notice = retry, retry_notice
        self.retried = False  # whether the last `embed` found its face through `retry`
        self._detector = app.models["detection"]
        self._recognizer = app.models["recognition"]

    def embed(self, image: np.ndarray) -> np.ndarray | None:
        """Raw 512-d ArcFace embedding (float32) of the largest face; None when none is found.

        `image` is RGB uint8 (H, W, 3), the project's convention; the detector and the
        recogniser get it in `self.channels` order.
        """
        from insightface.app.common import Face

        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {image.dtype} "
                             f"{image.shape}")
        handed = np.ascontiguousarray(image[..., ::-1] if self.channels == "bgr" else image)
        boxes, landmarks = self._detector.detect(handed)
        self.retried = False
        if len(boxes) == 0:
            aligned = self.retry(handed) if self.retry is not None else None
            if aligned is None:
                return None
            self.retried = True
            return np.asarray(self._recognizer.get_feat(aligned), np.float32).reshape(-1)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        i = int(np.argmax(areas))
        face = Face(bbox=boxes[i, :4], kps=landmarks[i], det_score=boxes[i, 4])
        return np.asarray(self._recognizer.get(handed, face), dtype=np.float32).reshape(-1)

    def embed_with_notice(self, image: np.ndarray) -> tuple[np.ndarray | None, str | None]:
        """`embed`, plus the notice to show the user when no face was found."""
        embedding = self.embed(image)
        if embedding is None:
            return None, " ".join(filter(None, (NO_FACE_NOTICE, self.retry_notice)))
        if self.retried:
            return embedding, ("insightface found no face in the portrait; facexlib's detector "
                               "did, and its aligned face was embedded (as StableAnimator).")
        return embedding, None


__all__ = ["NO_FACE_NOTICE", "FaceEmbedder", "find_face_model_dir"]
