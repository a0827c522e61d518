"""FVD and FID-VID: the windows, the feeding of each network and the files they load.

The real networks are not on the machine: a tiny TorchScript module written here has the
call interface of StyleGAN-V's `i3d_torchscript.pt` (and refuses any other call), tiny
state dicts have the key names of pytorch-i3d's `i3d_pretrained_400.pt` and of Hara's
`resnet-50-kinetics.pth`. Known answers come from stand-in feature maps (channel means):
a clip brighter than its truth by c levels everywhere moves every feature by the same
amount, so the distance is |shift|^2 exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from animator.errors import InputError
from animator.evaluate.fvd import (
    CLIP,
    KINETICS_MEAN,
    METRICS,
    VideoNetwork,
    Windows,
    load_video_network,
    pil_bicubic,
    video_distance,
)
from animator.evaluate.i3d import InceptionI3d
from animator.evaluate.resnet3d import ResNet3D50


class StyleGanVInterface(torch.nn.Module):
    """StyleGAN-V's I3D call: uint8 (N, 3, T, H, W), rescale/resize/return_features.
    Features: the channel means of the rescaled clip, then zeros (400 in all)."""

    def forward(self, x: torch.Tensor, rescale: bool = False, resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        if x.dtype != torch.uint8 or not rescale or not resize or not return_features:
            raise RuntimeError("not called as StyleGAN-V calls its I3D")
        y = x.float() / 127.5 - 1  # the real one also resizes to 224 here
        return torch.cat([y.mean(dim=(2, 3, 4)), torch.zeros(x.shape[0], 397)], 1)


def write_torchscript(folder):
    folder.mkdir(parents=True, exist_ok=True)
    torch.jit.script(StyleGanVInterface()).save(str(folder / "i3d_torchscript.pt"))


def textured_frames(n: int, side: int = 48, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(40, 200, (side, side, 3), dtype=np.uint8) for _ in range(n)]


def windows_of(network: VideoNetwork, frames) -> np.ndarray:
    w = Windows(network)
    for f in frames:
        w.add(f)
    return w.features()


def test_standard_fvd_calls_the_torchscript_as_stylegan_v(tmp_path):
    write_torchscript(tmp_path / "fvd")
    network = load_video_network("fvd", "standard", tmp_path)
    truth = textured_frames(3 * CLIP + 5)
    brighter = [f + 10 for f in truth]
    real, generated = windows_of(network, truth), windows_of(network, brighter)
    assert real.shape == (3, 400)  # non-overlapping windows; the last 5 frames left over
    first = np.stack(truth[:CLIP]).astype(np.float64) / 127.5 - 1
    np.testing.assert_allclose(real[0, :3], first.mean(axis=(0, 1, 2)), atol=1e-5)
    shift = 3 * (10 / 127.5) ** 2
    assert video_distance(network, generated, real) == pytest.approx(shift, rel=1e-4)
    assert network.metric.ddof == 0  # StyleGAN-V's statistics divide by N


def _channel_means(x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=(2, 3, 4))


def test_disco_windows_start_at_every_frame_and_are_fed_as_disco_does():
    fvd = VideoNetwork(METRICS[("fvd", "disco")], _channel_means)
    fid_vid = VideoNetwork(METRICS[("fid_vid", "disco")], _channel_means)
    truth = textured_frames(CLIP + 4)
    brighter = [f + 10 for f in truth]
    real = windows_of(fvd, truth)
    assert real.shape == (5, 3)  # windows starting at frames 0..4
    resized = np.stack([pil_bicubic(f, 224) for f in truth[1: 1 + CLIP]])
    np.testing.assert_allclose(real[1], (resized / 127.5 - 1).mean(axis=(0, 1, 2)), atol=1e-5)
    assert video_distance(fvd, windows_of(fvd, brighter), real) == pytest.approx(
        3 * (10 / 127.5) ** 2, rel=1e-4)
    rn = windows_of(fid_vid, truth)
    small = np.stack([pil_bicubic(f, 112) for f in truth[:CLIP]]) - KINETICS_MEAN
    np.testing.assert_allclose(rn[0], small.mean(axis=(0, 1, 2)), atol=1e-3)
    assert video_distance(fid_vid, windows_of(fid_vid, brighter), rn) == pytest.approx(
        300, rel=1e-4)


def test_pil_bicubic_is_not_rounded():
    frame = np.zeros((10, 10, 3), np.uint8)
    frame[:, 5:] = 255
    out = pil_bicubic(frame, 7)
    assert out.dtype == np.float32 and (out < 0).any() and (out > 255).any()  # overshoot kept


def _i3d_keys() -> set[str]:
    """pytorch-i3d's InceptionI3d state dict keys, spelled out from its layout."""
    units = ["Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3"]
    for block in ("3b", "3c", "4b", "4c", "4d", "4e", "4f", "5b", "5c"):
        units += [f"Mixed_{block}.{b}" for b in ("b0", "b1a", "b1b", "b2a", "b2b", "b3b")]
    keys = {"logits.conv3d.weight", "logits.conv3d.bias"}
    for unit in units:
        keys |= {f"{unit}.conv3d.weight"} | {f"{unit}.bn.{p}" for p in (
            "weight", "bias", "running_mean", "running_var", "num_batches_tracked")}
    return keys


def test_disco_i3d_loads_pytorch_i3d_weights(tmp_path):
    assert set(InceptionI3d().state_dict()) == _i3d_keys()
    torch.manual_seed(0)
    tiny = InceptionI3d(scale=1 / 16)
    (tmp_path / "fvd").mkdir()
    torch.save(tiny.state_dict(), tmp_path / "fvd" / "i3d_pretrained_400.pt")
    network = load_video_network("fvd", "disco", tmp_path)
    clip = np.stack(textured_frames(CLIP, side=224)).astype(np.float32)[None] / 127.5 - 1
    features = network.features(clip)
    assert features.shape == (1, 400)
    np.testing.assert_allclose(features, tiny(torch.from_numpy(
        clip.transpose(0, 4, 1, 2, 3))).numpy(), rtol=1e-4, atol=1e-6)  # batch norm folded


def test_fid_vid_loads_hara_checkpoint_with_weights_only(tmp_path):
    torch.manual_seed(0)
    tiny = ResNet3D50(scale=1 / 16)
    assert {k.split(".")[0] for k in tiny.state_dict()} == {"conv1", "bn1", "layer1",
                                                             "layer2", "layer3", "layer4"}
    assert "layer2.0.downsample.0.weight" in tiny.state_dict()
    state = {f"module.{k}": v for k, v in tiny.state_dict().items()}
    state["module.fc.weight"] = torch.zeros(400, tiny.features)
    (tmp_path / "fvd").mkdir()
    torch.save({"epoch": 200, "arch": "resnet-50", "state_dict": state,
                "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}]}},
               tmp_path / "fvd" / "resnet-50-kinetics.pth")
    network = load_video_network("fid_vid", "disco", tmp_path)
    clip = np.random.default_rng(0).normal(0, 50, (2, CLIP, 112, 112, 3)).astype(np.float32)
    features = network.features(clip)
    assert features.shape == (2, tiny.features)
    with torch.no_grad():
        unfolded = tiny(torch.from_numpy(clip.transpose(0, 4, 1, 2, 3))).numpy()
    np.testing.assert_allclose(features, unfolded, rtol=1e-4, atol=1e-5)


def test_missing_or_wrong_files_are_refused_with_what_to_fetch(tmp_path):
    with pytest.raises(InputError, match="dropbox.com.*i3d_torchscript.pt"):
        load_video_network("fvd", "standard", tmp_path)
    (tmp_path / "fvd").mkdir()
    (tmp_path / "fvd" / "i3d_torchscript.pt").write_bytes(b"not torchscript")
    with pytest.raises(InputError, match="as TorchScript"):
        load_video_network("fvd", "standard", tmp_path)
    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "fvd" / "i3d_pretrained_400.pt")
    with pytest.raises(InputError, match="does not hold pytorch-i3d"):
        load_video_network("fvd", "disco", tmp_path)


def lively(model: torch.nn.Module) -> torch.nn.Module:
    """Variance-keeping random weights, so that 20-odd random layers still see the input."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv3d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if isinstance(module, torch.nn.BatchNorm3d):
                module.running_var.uniform_(0.8, 1.2)
    return model


def test_clip_scores_through_evaluate_in_both_protocols(tmp_path):
    """A real H.264 clip against itself scores 0 and against a brighter copy more, with the
    networks loaded from files as `evaluate --fvd --fid-vid` loads them."""
    from animator.evaluate import EvaluateConfig, Target, evaluate_clip
    from animator.evaluate.networks import load_networks
    from animator.video import write_video

    write_torchscript(tmp_path / "fvd")
    torch.manual_seed(0)
    torch.save(lively(InceptionI3d(scale=1 / 16)).state_dict(),
               tmp_path / "fvd" / "i3d_pretrained_400.pt")
    torch.save({"state_dict": lively(ResNet3D50(scale=1 / 16)).state_dict()},
               tmp_path / "fvd" / "resnet-50-kinetics.pth")
    for protocol, count in (("standard", 2 * CLIP), ("disco", CLIP + 2)):  # 2 or 3 windows
        frames = textured_frames(count, side=64, seed=3)
        clip = write_video(frames, tmp_path / f"{protocol}.mp4", 25.0, crf=10)
        brighter = write_video([f + 30 for f in frames], tmp_path / "brighter.mp4", 25.0,
                               crf=10)
        config = EvaluateConfig(identity=False, protocol=protocol, fvd=True, fid_vid=True,
                                weights_dir=str(tmp_path))
        nets = load_networks(config)
        same, other = (evaluate_clip(c, Target(None, None, None), animator=None,
                                     ground_truth=clip, config=config,
                                     fid_vid_model=nets.fid_vid, fvd_model=nets.fvd)
                       for c in (clip, brighter))
        assert same.fvd == pytest.approx(0, abs=1e-9) and same.fid_vid == pytest.approx(
            0, abs=1e-6)
        assert other.fvd > 1e-3 and other.fid_vid > 1e-3
        assert len(same.features["fvd"][0]) == (2 if protocol == "standard" else 3)
        assert same.row()["protocol"] == protocol and "fvd" in same.row()
