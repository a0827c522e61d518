"""Training: config parsing, EDM conventions, added parts, overfitting one clip, exact resume,
two processes over gloo, bad videos skipped. Tiny preset, 64x64 clips of the driving video with
pre-seeded pose and face caches (detection itself is covered by test_data.py)."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from animator.errors import InputError
from animator.families.svd.config import TrainConfig
from animator.families.svd.data import face_path, poses_path
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.tiny import tiny_components, tiny_pipeline
from animator.families.svd.models.unet import identity_processors
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.train import (
    FINAL,
    Denoiser,
    _optimizer,
    add_missing_parts,
    load_config,
    train,
    trainable_parameters,
)
from animator.families.svd.weights import load_preset
from animator.pose.motions import make_motion
from animator.video import iter_video, write_video

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models gain nothing from a second thread, and on a shared machine idle OpenMP
    threads spinning for a busy core slow training several times over."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _seed_video(folder: Path, name: str, frames: list, seed: int) -> None:
    """A video plus the caches the dataset would otherwise compute (written after it)."""
    write_video(frames, folder / name, 25)
    make_motion("wave", seconds=len(frames) / 25, width=64, height=64).save(
        poses_path(folder / name))
    np.save(face_path(folder / name), np.random.default_rng(seed).normal(size=512)
            .astype(np.float32))


@pytest.fixture(scope="module")
def frames(driving_path):
    return list(islice(iter_video(driving_path, max_side=64), 16))


@pytest.fixture(scope="module")
def clips(tmp_path_factory, frames):
    """Two 8-frame videos: with 2-frame clips at stride 2, four clips in all."""
    folder = tmp_path_factory.mktemp("clips")
    _seed_video(folder, "a.mp4", frames[:8], 0)
    _seed_video(folder, "b.mp4", frames[8:], 1)
    return folder


def _config(data: Path, out: Path, **overrides) -> TrainConfig:
    settings = dict(data_dir=str(data), output_dir=str(out), num_frames=2, frame_stride=2,
                    height=64, width=64, num_workers=0, report_to="none", validate_every=0,
                    checkpoint_every=0, lr_warmup_steps=0, learning_rate=1e-3, max_steps=4,
                    trainable=["skeleton", "dense", "identity"])
    return TrainConfig(**{**settings, **overrides})


def _losses(out: Path) -> list[float]:
    lines = (out / "train_log.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]


# ------------------------------------------------------------------------------------ config


def test_config_from_yaml_and_overrides(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"data_dir": "/data", "learning_rate": 1e-4,
                                    "trainable": ["dense"], "ema": True}))
    config = load_config(path, ["learning_rate=3e-5", "trainable=skeleton, dense",
                                "max_steps=20", "gradient_checkpointing=true", "init_from=tiny",
                                "val_video="])
    assert config.learning_rate == 3e-5 and isinstance(config.learning_rate, float)
    assert config.trainable == ["skeleton", "dense"] and config.ema is True
    assert config.max_steps == 20 and config.gradient_checkpointing is True
    assert config.data_dir == "/data" and config.val_video == ""
    with pytest.raises(InputError, match="learning_rat .*did you mean learning_rate"):
        load_config(None, ["learning_rat=1"])
    with pytest.raises(InputError, match="max_steps=2.5 is not a valid int"):
        load_config(None, ["max_steps=2.5"])
    with pytest.raises(InputError, match="key=value"):
        load_config(None, ["max_steps"])
    with pytest.raises(InputError, match="trainable must list some of"):
        train(_config(tmp_path, tmp_path / "out", trainable=["everything"]))
    with pytest.raises(InputError, match="Unknown lr_scheduler"):
        train(_config(tmp_path, tmp_path / "out", lr_scheduler="sometimes"))


@pytest.mark.skipif(__import__("importlib").util.find_spec("bitsandbytes") is not None,
                    reason="bitsandbytes is installed")
def test_8bit_adam_without_bitsandbytes_names_the_install(tmp_path):
    param = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(InputError, match="pip install bitsandbytes"):
        _optimizer(_config(tmp_path, tmp_path, use_8bit_adam=True), [param])


# ------------------------------------------------------------------------------------ model


def test_preconditioning_is_the_samplers_inverse():
    """D from Denoiser equals the Euler scheduler's x0 estimate for the same UNet call:
    c_in = scale_model_input, c_noise = the scheduler's timestep, c_skip/c_out as in step()."""
    pipe = tiny_pipeline(pose=False, identity=False)
    scheduler = pipe.scheduler
    scheduler.set_timesteps(5)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 4, 8, 8, generator=generator) * 5
    image = torch.randn(1, 4, 8, 8, generator=generator)
    clip = torch.randn(1, 1, 32, generator=generator)
    time_ids = torch.tensor([[6.0, 127.0, 0.02]])
    model = Denoiser(pipe.unet, None, None)
    for i in (0, 2, 4):
        t, sigma = scheduler.timesteps[i], scheduler.sigmas[i]
        scheduler._step_index = i
        sample = torch.cat([scheduler.scale_model_input(x, t),
                            image[:, None].expand(-1, 3, -1, -1, -1)], dim=2)
        out = pipe.unet(sample, t, encoder_hidden_states=clip, added_time_ids=time_ids).sample
        scheduler._step_index = i
        expected = scheduler.step(out, t, x).pred_original_sample
        ours = model(x, sigma[None], image, clip, time_ids, torch.ones(1))
        torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)


def test_missing_parts_are_added_without_changing_the_output():
    pipe = tiny_pipeline(identity=False, random_init=True)
    skeleton_only = FusedPoseEncoder(out_channels=32, with_dense=False, attention_blocks=1,
                                     attention_heads=4)
    skeleton_only.load_state_dict({k: v for k, v in pipe.pose_encoder.state_dict().items()
                                   if k.startswith("skeleton.")})
    pipe = AnimationPipeline(**tiny_components(), pose_encoder=skeleton_only)
    grown = add_missing_parts(pipe, ["dense", "identity"], "sum")
    assert grown.pose_encoder.dense is not None and grown.face_projector is not None
    assert len(identity_processors(grown.unet)) == 6 and grown.config.identity_mode == "sum"
    for k, v in skeleton_only.state_dict().items():
        assert torch.equal(grown.pose_encoder.state_dict()[k], v)
    maps = torch.rand(2, 3, 64, 64) * 2 - 1
    assert not grown.pose_encoder.dense(maps).any()  # a new branch adds exactly nothing
    params = trainable_parameters(grown, ["dense", "identity"])
    assert all(k.startswith(("pose_encoder.dense.", "face_projector.", "unet.")) for k in params)
    assert sum(".id_to_k." in k for k in params) == 6
    assert not any(p.requires_grad for p in grown.pose_encoder.skeleton.parameters())
    assert not any(p.requires_grad for p in grown.vae.parameters())
    attention = trainable_parameters(grown, ["attention"])
    assert attention and all(".attn1." in k or ".attn2." in k for k in attention)


# ------------------------------------------------------------------------------------ training


def test_overfit_one_clip_then_load_and_generate(tmp_path, frames):
    data = tmp_path / "one"
    data.mkdir()
    _seed_video(data, "a.mp4", frames[:4], 0)  # 4 frames: one clip of 4
    out = tmp_path / "run"
    final = train(_config(data, out, num_frames=4, frame_stride=1, max_steps=30,
                          trainable=["unet", "skeleton", "dense", "identity"],
                          fixed_noise=True, drop_image=0, drop_pose=0, drop_face=0,
                          validate_every=30, val_steps=1, report_to="tensorboard"))
    losses = _losses(out)
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    assert (out / "validation" / "step_00000030.mp4").stat().st_size > 0
    assert list((out / "logs").rglob("events.out.tfevents*"))
    assert (final / "animator_preset.json").is_file()
    assert yaml.safe_load((final / "train_config.yaml").read_text())["max_steps"] == 30

    loaded = load_preset(f"local:{final}")
    assert loaded.preset.style == "dwpose" and loaded.preset.swap_rb is False
    skeleton = np.zeros((3, 64, 64, 3), np.uint8)
    video = loaded.pipeline(frames[0], skeleton, dense=skeleton, face_embedding=np.ones(512),
                            num_inference_steps=2, seed=0).frames
    assert video.shape == (3, 64, 64, 3) and video.dtype == np.uint8
    trained = load_file(final / "pose_encoder" / "diffusion_pytorch_model.safetensors")
    assert trained["dense.final_proj.weight"].any()  # was zero-initialised: it learned


def test_resume_reproduces_the_uninterrupted_run(clips, tmp_path):
    out = tmp_path / "run"
    settings = dict(max_steps=6, checkpoint_every=3, grad_accum=2, ema=True, ema_decay=0.9,
                    crop="random", drop_image=0.3, drop_pose=0.3, drop_face=0.3,
                    lr_scheduler="cosine", lr_warmup_steps=2,
                    trainable=["skeleton", "dense", "identity", "attention"])
    final = train(_config(clips, out, **settings))
    full = _losses(out)
    weights = load_file(final / "pose_encoder" / "diffusion_pytorch_model.safetensors")
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_00000003",
                                                                        "step_00000006"]
    assert not any("unet/" in p.name for p in (out / "checkpoints").rglob("*"))

    with pytest.raises(InputError, match="resume_from=latest"):
        train(_config(clips, out, **settings))  # a fresh run would mix with the old one

    # Interrupted after step 3 (mid-epoch: 4 micro-batches per epoch, 2 per step).
    shutil.rmtree(out / "checkpoints" / "step_00000006")
    resumed = train(_config(clips, out, resume_from="latest", **settings))
    assert _losses(out) == full  # the same floats, steps 1-3 kept and 4-6 recomputed
    again = load_file(resumed / "pose_encoder" / "diffusion_pytorch_model.safetensors")
    assert all(torch.equal(weights[k], again[k]) for k in weights)


def test_corrupt_video_is_skipped_and_reported(clips, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(clips, data)
    (data / "c.mp4").write_bytes(b"\x00\x01 this is no video" * 64)
    out = tmp_path / "run"
    train(_config(data, out, max_steps=2))
    report = json.loads((out / "skipped.json").read_text())
    assert list(report["videos"]) == [str(data / "c.mp4")] and report["items"] == []
    assert len(_losses(out)) == 2


def test_identity_without_faces_is_refused(clips, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(clips, data)
    for path in data.glob("*.face.npy"):
        path.unlink()
    with pytest.raises(InputError, match="face_model_dir"):
        train(_config(data, tmp_path / "run", trainable=["identity"]))


def _launch(config: Path) -> subprocess.CompletedProcess:
    """Two CPU processes over gloo, as train.py's docstring tells users to start them."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
           "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "--main_process_port", "0", "-m", "animator", "train",
           "--config", str(config)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def two_process_run(clips, tmp_path_factory):
    """4 steps on two CPU processes, a checkpoint every 2; (output dir, settings, losses)."""
    out = tmp_path_factory.mktemp("ddp") / "run"
    settings = dataclasses.asdict(_config(clips, out, max_steps=4, checkpoint_every=2))
    config = out.parent / "train.yaml"
    config.write_text(yaml.safe_dump(settings))
    done = _launch(config)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, settings, _losses(out)


def test_two_processes_see_disjoint_data(two_process_run):
    out, _, losses = two_process_run
    seen = {}
    for rank in (0, 1):
        lines = (out / "logs" / f"rank{rank}.jsonl").read_text().splitlines()
        seen[rank] = [k for line in lines for k in json.loads(line)["keys"]]
    assert len(seen[0]) == len(seen[1]) == 4 and len(losses) == 4
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0][:2] + seen[1][:2]) == [0, 1, 2, 3]  # epoch 0: every clip once
    assert sorted(seen[0][2:] + seen[1][2:]) == [4, 5, 6, 7]  # epoch 1's keys
    assert (out / "checkpoints" / "step_00000002" / "checkpoint.json").is_file()
    assert (out / FINAL / "model_index.json").is_file()


@pytest.mark.slow
def test_two_processes_resume_exactly(two_process_run):
    out, settings, losses = two_process_run
    shutil.rmtree(out / "checkpoints" / "step_00000004")
    config = out.parent / "resume.yaml"
    config.write_text(yaml.safe_dump({**settings, "resume_from": "latest"}))
    done = _launch(config)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _losses(out) == losses
