"""The Wan-Animate-2 family on a GPU (tiny pipelines): the generation attention through the
compiled flex path, each memory mode giving the clip the plain GPU run gives, fp8 weights,
the text encoder loaded for a prompt and dropped again, and the refusal of a size that
cannot fit the card. Skipped without CUDA (`-m gpu` runs it)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from animator.errors import InputError
from animator.families import wan2
from animator.families.wan2 import cost
from animator.families.wan2.tiny import tiny_wan2_pipeline
from tests.families.wan.people import inputs

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]
SETTINGS = {"height": 64, "width": 64, "segment_frame_length": 9, "num_inference_steps": 2,
            "prompt": "a person dances", "seed": 0}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return wan2.save_local(tiny_wan2_pipeline(True), tmp_path_factory.mktemp("wan2") / "p")


def clip(generator, n=12):
    frames = []
    generator(inputs(n, size=(48, 48), settings=SETTINGS), frames.append)
    return np.stack(frames).astype(np.int16)


def test_memory_modes_agree_and_the_text_encoder_is_dropped(saved):
    cpu = clip(wan2.load(f"local:{saved}", device="cpu"))
    plain = wan2.load(f"local:{saved}", device="cuda", memory="none", dtype=torch.float32)
    first = clip(plain)
    assert len(first) == 12 and plain.pipe.text_encoder is None
    assert np.abs(first - cpu).max() <= 3  # the same model on another device
    for mode in ("model", "group"):
        gen = wan2.load(f"local:{saved}", device="cuda", memory=mode, dtype=torch.float32)
        assert gen.load_options["memory"] == mode
        assert np.abs(clip(gen) - first).max() <= 2, mode
        if mode == "group":
            assert next(gen.pipe.transformer.blocks.parameters()).device.type == "cpu"
    fp8 = clip(wan2.load(f"local:{saved}", device="cuda", memory="none", fp8=True))
    assert fp8.shape == first.shape  # bf16 compute on fp8 weights: close, not equal


def test_a_size_the_card_cannot_hold_is_refused_with_the_figures():
    total = torch.cuda.get_device_properties(0).total_memory
    huge = {"height": 4096, "width": 4096, "area": "800x640", "segment_frame_length": 81}
    assert cost.peak_memory(4096, 4096) > total
    with pytest.raises(InputError, match="needs about .* GB .* this GPU has"):
        wan2.check_settings(wan2.get_preset("wan-animate-2"), huge, device="cuda")
