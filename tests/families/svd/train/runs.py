"""Helpers of the training tests: seeded videos and the tiny run settings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from animator.families.svd.data import face_path, poses_path
from animator.families.svd.train import TrainConfig
from animator.pose.motions import make_motion
from animator.video import write_video


def _seed_video(folder: Path, name: str, frames: list, seed: int) -> None:
    """A video plus the caches the dataset would otherwise compute (written after it)."""
    write_video(frames, folder / name, 25)
    make_motion("wave", seconds=len(frames) / 25, width=64, height=64).save(
        poses_path(folder / name))
    np.save(face_path(folder / name), np.random.default_rng(seed).normal(size=512)
            .astype(np.float32))


def _config(data: Path, out: Path, **overrides) -> TrainConfig:
    settings = dict(data_dir=str(data), output_dir=str(out), num_frames=2, frame_stride=2,
                    height=64, width=64, num_workers=0, report_to="none", validate_every=0,
                    checkpoint_every=0, lr_warmup_steps=0, learning_rate=1e-3, max_steps=4,
                    trainable=["skeleton", "dense", "identity"])
    return TrainConfig(**{**settings, **overrides})


def _losses(out: Path) -> list[float]:
    lines = (out / "train_log.jsonl").read_text().splitlines()
    return [json.loads(line)["loss"] for line in lines]
