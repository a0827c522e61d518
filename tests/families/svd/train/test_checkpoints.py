"""Checkpoints and exact resume in one process."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file

from animator.errors import InputError
from animator.families.svd.train import train
from tests.families.svd.train.runs import _config, _losses


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
