"""The Wan family's memory modes on a GPU (tiny pipeline): each mode gives the clip the
plain GPU run gives, and group offloading keeps the transformer off the GPU between uses.
Skipped without CUDA (`-m gpu` runs it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from animator.families import wan
from animator.families.wan.tiny import tiny_wan_pipeline
from tests.families.wan.people import inputs

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
SETTINGS = {"height": 32, "width": 32, "segment_frame_length": 9, "num_inference_steps": 2,
            "seed": 0}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wan_gpu") / "pipeline"
    tiny_wan_pipeline().save_pretrained(folder)
    return folder


def clip(generator, n=12):
    generator.pipe.set_progress_bar_config(disable=True)
    frames = []
    generator(inputs(n, settings=SETTINGS), frames.append)
    return np.stack(frames).astype(np.int16)


def test_memory_modes_agree(saved):
    plain = clip(wan.load(f"local:{saved}", device="cuda", memory="none", dtype=torch.float32))
    assert len(plain) == 12
    for mode in ("model", "group"):
        gen = wan.load(f"local:{saved}", device="cuda", memory=mode, dtype=torch.float32)
        assert gen.load_options["memory"] == mode
        frames = clip(gen)
        assert np.abs(frames - plain).max() <= 2, mode  # same math, other transfer order
        if mode == "group":
            assert next(gen.pipe.transformer.blocks.parameters()).device.type == "cpu"
    fp8 = clip(wan.load(f"local:{saved}", device="cuda", memory="none", fp8=True))
    assert fp8.shape == plain.shape  # bf16 compute on fp8 weights: close, not equal
