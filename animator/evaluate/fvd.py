"""FVD and FID-VID: Fréchet distances of video-network features of 16-frame clips.

Both compare the clip with its ground truth as two sets of 16-frame windows (only frames
that have a ground-truth partner; the lead-in is left out). What differs by protocol:

- windows: `standard` takes consecutive, non-overlapping ones (one sample per 16 frames, as
  StyleGAN-V samples clips); `disco` one starting at every frame (stride 1), as DisCo's
  frame datasets build them;
- FVD, `standard`: StyleGAN-V's `i3d_torchscript.pt`, called on uint8 clips at their own
  size with `rescale=True, resize=True, return_features=True` (StyleGAN-V's own call),
  covariances over N (StyleGAN-V's statistics);
- FVD, `disco`: pytorch-i3d's `InceptionI3d` with `i3d_pretrained_400.pt`, frames resized
  to 224x224 (PIL bicubic on float channels, not rounded), x / 127.5 - 1, logits averaged
  over time, covariances over N - 1 (numpy's `cov`);
- FID-VID, both: Hara's 3D ResNet-50 (`resnet-50-kinetics.pth`) as DisCo feeds it: frames
  resized to 112x112 the same way, minus the Kinetics mean (114.7748, 107.7354, 99.4750),
  2048-d pooled features, covariances over N - 1.

DisCo's tables of 2023 passed each window through a 3 fps GIF first (a 256-colour palette,
and ffmpeg expanding the frames, DisCo issue #36); its current code reads the frames
directly, and so does this. FVD over one clip's windows is a noisy estimate (400-d or
2048-d covariances from tens of samples); compare clips of equal length, and pool a test
set for a table (`report.py` does when several clips are evaluated).

Files, in `<weights dir>/fvd/` (else `~/.cache/animator/fvd/`), fetched by the user:
`i3d_torchscript.pt` (https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt),
`i3d_pretrained_400.pt` and `resnet-50-kinetics.pth` (both in DisCo's evaluation bundle,
linked from its README: https://drive.google.com/file/d/1J8w3fGj6H6kmcW9G8Ff6tRQofblaG5Vn).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from animator.errors import InputError
from animator.evaluate.frechet import frechet_from_features
from animator.evaluate.i3d import load_i3d_state, load_i3d_torchscript
from animator.evaluate.resnet3d import load_resnet3d

CLIP = 16  # frames per window
KINETICS_MEAN = np.array([114.7748, 107.7354, 99.4750], np.float32)
DISCO_BUNDLE = "https://drive.google.com/file/d/1J8w3fGj6H6kmcW9G8Ff6tRQofblaG5Vn"
STYLEGAN_V_I3D = "https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt"
BATCH = 2  # windows per network call


def pil_bicubic(frame: np.ndarray, side: int) -> np.ndarray:
    """DisCo's resizer (`make_resizer("PIL", False, "bicubic")`): each channel as a float
    image, resized to side x side, not rounded back to 8 bits."""
    channels = [np.asarray(Image.fromarray(frame[..., c].astype(np.float32)).resize(
        (side, side), Image.BICUBIC)) for c in range(3)]
    return np.stack(channels, axis=-1)


def _i3d_frame(frame):
    return pil_bicubic(frame, 224) / 127.5 - 1


def _rn50_frame(frame):
    return pil_bicubic(frame, 112) - KINETICS_MEAN


def _clips(clips: np.ndarray) -> torch.Tensor:
    """(N, T, H, W, 3) -> (N, 3, T, H, W), dtype kept (uint8 for StyleGAN-V's I3D)."""
    return torch.from_numpy(np.ascontiguousarray(clips.transpose(0, 4, 1, 2, 3)))


@dataclass(frozen=True)
class VideoMetric:
    """How one protocol computes one of the two video distances."""

    name: str  # "fvd" or "fid_vid"
    protocol: str
    file: str
    url: str
    load: Callable  # (path, fetch message) -> network
    prepare: Callable[[np.ndarray], np.ndarray]  # RGB uint8 frame -> what a window stacks
    call: Callable  # (network, input) -> (N, D) features
    stride: int
    ddof: int

    def fetch(self, folder: Path) -> str:
        label = "FVD" if self.name == "fvd" else "FID-VID"
        return (f"{label} ({self.protocol} protocol) needs {self.file}: download {self.url} "
                f"into {folder}, or leave out --{self.name.replace('_', '-')}")


def _stylegan_v_call(model, x):
    return model(x, rescale=True, resize=True, return_features=True)


def _plain_call(model, x):
    return model(x)


_FID_VID = {"file": "resnet-50-kinetics.pth", "url": DISCO_BUNDLE + " (eval_fvd/)",
            "load": load_resnet3d, "prepare": _rn50_frame,
            "call": _plain_call, "ddof": 1}
METRICS = {
    ("fvd", "standard"): VideoMetric(
        "fvd", "standard", "i3d_torchscript.pt", STYLEGAN_V_I3D, load_i3d_torchscript,
        lambda frame: frame, _stylegan_v_call, stride=CLIP, ddof=0),
    ("fvd", "disco"): VideoMetric(
        "fvd", "disco", "i3d_pretrained_400.pt", DISCO_BUNDLE + " (eval_fvd/)", load_i3d_state,
        _i3d_frame, _plain_call, stride=1, ddof=1),
    ("fid_vid", "standard"): VideoMetric("fid_vid", "standard", stride=CLIP, **_FID_VID),
    ("fid_vid", "disco"): VideoMetric("fid_vid", "disco", stride=1, **_FID_VID),
}


def fvd_folder(weights_dir: str | Path | None) -> Path:
    if weights_dir is not None:
        return Path(weights_dir).expanduser() / "fvd"
    return Path.home() / ".cache" / "animator" / "fvd"


@dataclass
class VideoNetwork:
    """A loaded network with the metric that says how to feed it."""

    metric: VideoMetric
    model: object

    @torch.inference_mode()
    def features(self, clips: np.ndarray) -> np.ndarray:
        out = self.metric.call(self.model, _clips(clips))
        if out.ndim != 2 or out.shape[0] != len(clips):
            raise InputError(f"{self.metric.file} returned features of shape "
                             f"{tuple(out.shape)} for {len(clips)} clips: it is not the "
                             f"network {self.metric.name} needs; download it again.")
        return out.double().numpy()


def load_video_network(name: str, protocol: str,
                       weights_dir: str | Path | None = None) -> VideoNetwork:
    """The FVD or FID-VID network of `protocol` from local files; a refusal saying what to
    fetch when it is missing."""
    metric = METRICS[(name, protocol)]
    folder = fvd_folder(weights_dir)
    path = folder / metric.file
    if not path.is_file():
        raise InputError(metric.fetch(folder) + ".")
    return VideoNetwork(metric, metric.load(path, metric.fetch(folder)))


class Windows:
    """Features of the 16-frame windows of one stream of frames (module docstring)."""

    def __init__(self, network: VideoNetwork):
        self.network = network
        self._frames: deque[np.ndarray] = deque(maxlen=CLIP)
        self._pending: list[np.ndarray] = []
        self._features: list[np.ndarray] = []
        self._seen = 0

    def add(self, frame: np.ndarray) -> None:
        self._frames.append(self.network.metric.prepare(frame))
        self._seen += 1
        if len(self._frames) == CLIP and (self._seen - CLIP) % self.network.metric.stride == 0:
            self._pending.append(np.stack(self._frames))
            if len(self._pending) >= BATCH:
                self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._features.append(self.network.features(np.stack(self._pending)))
            self._pending = []

    def features(self) -> np.ndarray:
        self._flush()
        return np.concatenate(self._features) if self._features else np.zeros((0, 0))


def video_distance(network: VideoNetwork, generated: np.ndarray, truth: np.ndarray) -> float:
    return frechet_from_features(generated, truth, ddof=network.metric.ddof)


__all__ = ["CLIP", "METRICS", "VideoMetric", "VideoNetwork", "Windows", "fvd_folder",
           "load_video_network", "pil_bicubic", "video_distance"]
