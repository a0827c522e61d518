"""Speed of `evaluate` on a 10 s clip at 30 fps, 512x512 (goals: <= 30 s without LPIPS,
FID and FVD; <= 60 s with them), and of the Fréchet distance against `scipy.linalg.sqrtm`.

The clip is real footage (the example driving video, looped to 10 s and scaled), its target
poses are MediaPipe's poses of it, the portrait its first frame (for the proportions); the
ground truth is the same footage one frame later, so every network sees two different
streams. The real LPIPS, Inception and I3D weights are not on this machine: the networks
are full-size with random weights (same layers, same cost); StyleGAN-V's I3D is stood in
for by this package's I3D behind its call interface (resize to 224 inside).
Each row is the median of repeated runs, interleaved (a, b, c, a, b, c, ...) so that load
from elsewhere on a shared machine falls on all alike; the baseline is decoding the clip
and detecting its poses (the floor: pose accuracy cannot cost less), in the same process.

    .venv/bin/python benchmarks/evaluate_bench.py           # everything
    .venv/bin/python benchmarks/evaluate_bench.py --quick   # one round, no sqrtm
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from animator.animate import Animator  # noqa: E402
from animator.evaluate import EvaluateConfig, evaluate_clip, make_target  # noqa: E402
from animator.evaluate.fid import FIDInception  # noqa: E402
from animator.evaluate.frechet import frechet_from_features  # noqa: E402
from animator.evaluate.fvd import METRICS, VideoNetwork, Windows  # noqa: E402
from animator.evaluate.i3d import InceptionI3d  # noqa: E402
from animator.evaluate.lpips import BACKBONES, LPIPS  # noqa: E402
from animator.evaluate.resnet3d import ResNet3D50  # noqa: E402
from animator.video import iter_video, read_video, write_video  # noqa: E402

SIDE, SECONDS, FPS = 512, 10, 30


def timed_rounds(fns: dict[str, Callable[[], object]], rounds: int = 3) -> dict[str, float]:
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in runs.items()}


def make_clips(folder: Path) -> tuple[Path, Path, Path]:
    frames = read_video(ROOT / "assets" / "driving" / "astronaut_sway.mp4").frames
    n = SECONDS * FPS
    looped = [cv2.resize(frames[i % len(frames)], (SIDE, SIDE), interpolation=cv2.INTER_CUBIC)
              for i in range(n + 1)]
    clip = write_video(looped[:n], folder / "clip.mp4", FPS)
    truth = write_video(looped[1:], folder / "truth.mp4", FPS)
    portrait = folder / "portrait.png"
    cv2.imwrite(str(portrait), cv2.cvtColor(looped[0], cv2.COLOR_RGB2BGR))
    return clip, truth, portrait


def random_lpips(net: str = "alex") -> LPIPS:
    """Full-size LPIPS with random weights (the real widths of AlexNet / VGG-16)."""
    widths = {"alex": (64, 192, 384, 256, 256),
              "vgg": (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)}[net]
    backbone = BACKBONES[net]
    state, c_in = {}, 3
    for (index, size, *_), c_out in zip(backbone.convs, widths, strict=True):
        state[f"features.{index}.weight"] = torch.randn(c_out, c_in, size, size) * 0.02
        state[f"features.{index}.bias"] = torch.zeros(c_out)
        c_in = c_out
    taps = [widths[[c[0] for c in backbone.convs].index(t)] for t in backbone.taps]
    for i, c in enumerate(taps):
        state[f"lin{i}.model.1.weight"] = torch.rand(1, c, 1, 1)
    return LPIPS(state, net).to(memory_format=torch.channels_last)


class StyleGanVCall(torch.nn.Module):
    """StyleGAN-V's I3D call interface around a full-size I3D (the real file's cost: its
    batch norms are not folded, as a TorchScript file's are not)."""

    def __init__(self):
        super().__init__()
        self.i3d = InceptionI3d()

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        x = x.float()
        if rescale:
            x = x / 127.5 - 1
        if resize:
            x = F.interpolate(x, size=(x.shape[2], 224, 224), mode="trilinear",
                              align_corners=False)
        return self.i3d(x)


def networks() -> dict:
    torch.manual_seed(0)
    return {"lpips_model": random_lpips(),
            "fid_model": FIDInception().fold_batch_norm().to(
                memory_format=torch.channels_last),  # as load_fid leaves it
            "fvd_model": VideoNetwork(METRICS[("fvd", "standard")],
                                      StyleGanVCall().eval())}


def disco_window_cost(truth: Path) -> float:
    """Seconds per frame of DisCo's FVD + FID-VID (a window at every frame, both streams)."""
    torch.manual_seed(0)
    nets = [VideoNetwork(METRICS[("fvd", "disco")], InceptionI3d().fold_batch_norm()),
            VideoNetwork(METRICS[("fid_vid", "disco")], ResNet3D50().fold_batch_norm())]
    frames = [f for _, f in zip(range(24), iter_video(truth), strict=False)]
    start = time.perf_counter()
    for net in nets:
        w = Windows(net)
        for f in frames:
            w.add(f)
        w.features()
    return 2 * (time.perf_counter() - start) / (len(frames) - 15)  # two streams


def frechet_rows() -> list[tuple[str, float, str]]:
    from scipy import linalg

    rng = np.random.default_rng(0)
    a, b = rng.random((300, 2048)) ** 3, rng.random((300, 2048)) ** 2
    start = time.perf_counter()
    ours = frechet_from_features(a, b)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s1 @ s2)
    d = a.mean(0) - b.mean(0)
    ref = d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(root.real)
    slow = time.perf_counter() - start
    return [("Fréchet distance, 300 x 2048-d features: scipy sqrtm (pytorch-fid's way)", slow,
             ""),
            (f"Fréchet distance, same: singular values (ours; relative difference "
             f"{abs(ours - ref) / ref:.1e})", fast, f"{slow / fast:.0f}x faster")]


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        clip, truth, portrait = make_clips(Path(tmp))
        animator = Animator(device="cpu", pose_backend="mediapipe")
        detector = animator.detector
        poses = detector.detect_video(list(iter_video(clip)), FPS, SIDE, SIDE)
        target = make_target(animator, portrait=portrait, poses=poses, fps=FPS)
        config = EvaluateConfig(identity=False)
        nets = networks()
        t = timed_rounds({
            "detect": lambda: detector.detect_video(iter_video(clip), FPS, SIDE, SIDE),
            "plain": lambda: evaluate_clip(clip, target, animator=animator, config=config),
            "truth": lambda: evaluate_clip(clip, target, animator=animator, config=config,
                                           ground_truth=truth),
            "nets": lambda: evaluate_clip(clip, target, animator=animator, config=config,
                                          ground_truth=truth, **nets),
        }, rounds=1 if quick else 3)
        window = disco_window_cost(truth)
    base = t["detect"]
    label = f"{SIDE}x{SIDE}, {SECONDS} s at {FPS} fps"
    rows += [
        (f"{label}: decode + pose detection (baseline)", base, "1.00"),
        (f"{label}: evaluate (pose, jitter, flicker, proportions, sync) [goal <= 30 s]",
         t["plain"], f"{t['plain'] / base:.2f}"),
        (f"{label}: evaluate + ground truth (L1, PSNR, SSIM)", t["truth"],
         f"{t['truth'] / base:.2f}"),
        (f"{label}: evaluate + L1/PSNR/SSIM + LPIPS + FID + FVD, random full-size weights "
         "[goal <= 60 s]", t["nets"], f"{t['nets'] / base:.2f}"),
        ("DisCo protocol FVD + FID-VID, per frame (a window at every frame, both streams)",
         window, f"{window * SECONDS * FPS:.0f} s for this clip"),
    ]
    if not quick:
        rows += frechet_rows()
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':{width}}  seconds  ratio / note")
    for name, seconds, note in rows:
        print(f"{name:{width}}  {seconds:7.2f}  {note}")


if __name__ == "__main__":
    main(sys.argv[1:])
