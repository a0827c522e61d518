"""The presets' table: the public projects' conventions and sampling settings, the names, and
`local:` folders' preset files."""

from __future__ import annotations

import inspect
import json

import pytest

from animator.errors import InputError
from animator.face import FaceEmbedder
from animator.families.svd import presets
from animator.families.svd.config import GenerationConfig
from animator.families.svd.models.tiny import tiny_pipeline
from animator.families.svd.presets import PRESETS, get_preset, save_preset_json


def test_preset_table():
    sa, mm = PRESETS["stableanimator"], PRESETS["mimicmotion"]
    assert (sa.swap_rb, sa.style, sa.reference_anchor, sa.identity, sa.identity_mode) == \
        (True, "dwpose", False, True, "normalized")
    assert sa.defaults == GenerationConfig(height=1024, width=576, min_guidance_scale=3.0,
                                           max_guidance_scale=3.0, fps=7, noise_aug_strength=0.02,
                                           window=16, overlap=4, decode_chunk_size=4,
                                           window_noise="repeat", generator_device="auto",
                                           windows="public")
    assert (mm.swap_rb, mm.style, mm.reference_anchor, mm.identity) == \
        (True, "confidence", True, False)
    assert (mm.defaults.window, mm.defaults.overlap, mm.defaults.noise_aug_strength,
            mm.defaults.min_guidance_scale, mm.defaults.max_guidance_scale) == (72, 6, 0.0, 2, 2)
    assert mm.base.gated and "noise" in PRESETS["tiny"].description
    assert (mm.defaults.decode_chunk_size, mm.defaults.window_noise,
            mm.defaults.generator_device, mm.defaults.windows) == (8, "repeat", "auto", "public")
    assert PRESETS["tiny"].defaults.windows == "lean"
    for preset in PRESETS.values():
        assert preset.style in ("dwpose", "confidence") and preset.license


def test_presets_sample_as_their_public_scripts():
    """StableAnimator: command_basic_infer.sh passes --decode_chunk_size=4, inference_basic.py
    seeds torch.Generator(device='cuda'); its pipeline (as MimicMotion's) draws tile_size
    frames of noise and repeats them along the clip. MimicMotion: inference.py decodes with
    decode_chunk_size=8 and seeds torch.Generator(device=device), CUDA when available."""
    public = {"stableanimator": 4, "mimicmotion": 8}
    for name, chunk in public.items():
        defaults = PRESETS[name].defaults
        assert defaults.decode_chunk_size == chunk
        assert defaults.window_noise == "repeat"
        assert defaults.generator_device == "auto"  # CUDA on a GPU; CPU runs still work
    tiny = PRESETS["tiny"].defaults
    assert (tiny.window_noise, tiny.generator_device) == ("independent", "cpu")


def test_face_channel_order_follows_the_inference_script():
    """inference_basic.py: cv2.imread (BGR) then cv2.cvtColor(..., COLOR_RGB2BGR) before
    face_model.app.get, so insightface gets RGB; our FaceEmbedder's own default stays BGR."""
    assert PRESETS["stableanimator"].face_channels == "rgb"
    assert inspect.signature(FaceEmbedder).parameters["channels"].default == "bgr"


def test_local_preset_json_with_a_bad_face_channel_order(tmp_path):
    tiny_pipeline().save_pretrained(tmp_path)
    save_preset_json(PRESETS["tiny"], tmp_path)
    path = tmp_path / presets.PRESET_JSON
    data = json.loads(path.read_text())
    assert data["face_channels"] == "bgr"
    path.write_text(json.dumps({**data, "face_channels": "grb"}))
    with pytest.raises(InputError, match="face_channels must be one of bgr, rgb"):
        get_preset(f"local:{tmp_path}")
    path.write_text(json.dumps({**data, "defaults": {"window_noise": "twice"}}))
    with pytest.raises(InputError, match="window_noise must be one of"):
        get_preset(f"local:{tmp_path}")


def test_unknown_preset_lists_the_names():
    with pytest.raises(InputError) as info:
        get_preset("stable")
    assert str(info.value) == ("Unknown preset 'stable': choose one of stableanimator, "
                               "mimicmotion, tiny, or local:<folder> (a pipeline saved with "
                               "save_pretrained).")
