"""Training: overfitting one clip, two processes over gloo, bad videos skipped. Tiny preset,
64x64 clips of the driving video with pre-seeded pose and face caches (detection itself is
covered by test_data.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from safetensors.torch import load_file

from animator.errors import InputError
from animator.families.svd.train import FINAL, train
from animator.families.svd.weights import load_preset
from tests.families.svd.train.runs import _config, _losses, _seed_video

ROOT = Path(__file__).resolve().parents[4]


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
    """Two CPU processes over gloo, as the train package's docstring tells users to start them."""
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
