"""The SVD family behind the generator boundary gives, frame for frame, what
`Animator.animate` generates today (tiny preset); and the factory picks families by name."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest

from animator.animate import Animator
from animator.errors import InputError
from animator.families import (
    GenerationInputs,
    Generator,
    family_of,
    load_generator,
    preset_names,
    settings_of,
)
from animator.families.svd import SVDGenerator


class Recorder:
    """Stands in for Animator's video writers: keeps the frames instead of encoding them."""

    def __init__(self):
        self.frames: dict[str, list[np.ndarray]] = {}

    def writer(self, path):
        frames = self.frames.setdefault(path.name, [])

        class Writer(contextlib.AbstractContextManager):
            def write(self, frame):
                frames.append(np.array(frame))

            def __exit__(self, *exc):
                return None

        writer = Writer()
        writer.path = path
        return writer


@pytest.fixture(scope="module")
def animator():
    return Animator("tiny", device="cpu", pose_backend="mediapipe")


@pytest.mark.parametrize("generation", [None, {"seed": 3, "identity_strength": 0.0,
                                               "num_inference_steps": 2, "window": 4,
                                               "overlap": 1}])
def test_svd_generator_equals_animator_generation(animator, portrait_path, tmp_path,
                                                  monkeypatch, generation):
    recorder = Recorder()
    monkeypatch.setattr(Animator, "_writer", lambda self, path, prep: recorder.writer(path))
    animation = animator.animate(portrait_path, "walk", fps=5, end=1.0, comparison=False,
                                 generation=generation, out_dir=tmp_path / "a")
    expected = np.stack(recorder.frames["animation.mp4"])
    prep = animator.prepare(portrait_path, "walk", fps=5, end=1.0)
    generator = SVDGenerator(animator.load().loaded)
    assert isinstance(generator, Generator) and generator.family == "svd"
    job = GenerationInputs(
        portrait=prep.image, reference=prep.reference, poses=prep.retargeted.poses,
        driver_index=[prep.driver_index(i) for i in range(len(prep.retargeted.poses))],
        driving_frames=prep.driving.frames, driving_poses=prep.driving.poses,
        settings=generation or {})
    frames = []
    result = generator(job, frames.append)
    np.testing.assert_array_equal(np.stack(frames), expected)
    assert result.frames == len(expected) == animation.settings["frames"]
    assert result.seed == animation.seed
    recorded = {k: v for k, v in animation.settings.items()
                if k not in ("preset", "frames", "output_fps", "resampling", "transition",
                             "lead_in_frames")}
    assert result.settings == recorded


def test_svd_settings_and_overrides(animator):
    settings = {s.name: s for s in settings_of("tiny")}
    assert settings["window"].default == 8 and settings["num_inference_steps"].default == 4
    assert settings["cfg_mode"].choices == ("batched", "sequential")
    assert settings["height"].default is None  # decided by the portrait's aspect
    generator = SVDGenerator(animator.load().loaded)
    image = np.zeros((64, 64, 3), np.uint8)
    assert generator.config(image, {"window": "6"}).window == 6
    with pytest.raises(InputError, match="Unknown generation setting"):
        generator.config(image, {"prompt": "x"})
    with pytest.raises(InputError, match="one of batched, sequential"):
        generator.config(image, {"cfg_mode": "parallel"})
    low = SVDGenerator(animator.load().loaded, low_memory=True).config(image, {})
    assert low.cfg_mode == "sequential" and low.decode_chunk_size == 2


def test_factory_picks_the_family(tmp_path):
    assert family_of("tiny") == "svd" and family_of("mimicmotion") == "svd"
    assert family_of("wan-animate") == "wan"
    names = preset_names()
    assert names.index("stableanimator") < names.index("wan-animate")  # SVD stays first
    with pytest.raises(InputError, match="Unknown preset 'wan-2'.*wan-animate"):
        family_of("wan-2")
    for cls, family in (("WanAnimatePipeline", "wan"), ("AnimationPipeline", "svd")):
        folder = tmp_path / cls
        folder.mkdir()
        (folder / "model_index.json").write_text(json.dumps({"_class_name": cls}))
        assert family_of(f"local:{folder}") == family
    with pytest.raises(InputError, match="no model_index.json"):
        family_of(f"local:{tmp_path / 'nothing'}")
    wan = {s.name: s for s in settings_of("wan-animate")}
    assert wan["mode"].choices == ("animate", "replace")
    assert wan["segment_frame_length"].default == 77
    assert wan["prev_segment_conditioning_frames"].choices == (1, 5)
    assert wan["num_inference_steps"].default == 20


def test_load_generator_for_svd():
    generator = load_generator("tiny", device="cpu")
    assert isinstance(generator, SVDGenerator) and generator.detector_weights is None
    with pytest.raises(InputError, match="no load option"):
        load_generator("tiny", fast=True)


def test_mimicmotion_portrait_goes_through_uint8_by_truncation(animator, portrait_path,
                                                               monkeypatch):
    """MimicMotion's inference.py: the portrait becomes torch.from_numpy(pixels) / 127.5 - 1
    (float32), then run_pipeline turns it back with ((x + 1) * 127.5).to(torch.uint8), which
    truncates: 63 of the 256 values come back one lower (1, 2, 3, ... among them)."""
    import dataclasses

    import torch

    from animator.families.svd.generator import uint8_round_trip

    values = torch.arange(256, dtype=torch.uint8)
    public = (((values / 127.5 - 1) + 1.0) * 127.5).to(torch.uint8).numpy()
    ours = uint8_round_trip(np.arange(256, dtype=np.uint8))
    np.testing.assert_array_equal(ours, public)
    assert (ours != np.arange(256)).sum() == 63 and list(ours[:4]) == [0, 0, 1, 2]
    from animator.families.svd.presets import PRESETS

    assert PRESETS["mimicmotion"].portrait_round_trip
    assert not PRESETS["stableanimator"].portrait_round_trip
    generator = SVDGenerator(animator.load().loaded)
    generator.preset = dataclasses.replace(generator.preset, portrait_round_trip=True)
    seen = []
    monkeypatch.setattr(type(generator.pipeline), "__call__",
                        lambda self, image, *a, **k: seen.append(np.array(image)))
    prep = animator.prepare(portrait_path, "walk", fps=5, end=0.4)
    job = GenerationInputs(prep.image, prep.reference, prep.retargeted.poses,
                           list(range(len(prep.retargeted.poses))),
                           settings={"identity_strength": 0.0})
    generator(job, lambda frame: None)
    from animator.framing import Framing

    settings = generator.config(prep.image, {})
    xs = prep.reference.xy[0, :, 0][prep.reference.valid()[0]]
    canvas = Framing.around((prep.image.shape[1], prep.image.shape[0]),
                            (settings.width, settings.height), float(np.median(xs)))
    np.testing.assert_array_equal(seen[0], uint8_round_trip(canvas.image(prep.image)))
    assert not np.array_equal(seen[0], canvas.image(prep.image))
