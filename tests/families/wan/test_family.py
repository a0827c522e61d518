"""The Wan family on a tiny real WanAnimatePipeline (built in code, nothing downloaded):
our path equals the bare library call, one frame per driving frame whatever the segment
rounding, replace mode keeps the background, files from a folder, the prompt cache, the
fast LoRA and the memory modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from animator.errors import Cancelled, InputError
from animator.families import wan
from animator.families.wan.tiny import tiny_wan_pipeline
from tests.families.wan.people import inputs

SMALL = {"height": 16, "width": 16, "segment_frame_length": 9, "num_inference_steps": 2,
         "prompt": "a person dances"}


@pytest.fixture(scope="module")
def pipe():
    pipe = tiny_wan_pipeline()
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def generator(pipe):
    return wan.build(pipe, wan.get_preset("wan-animate"), device="cpu", memory="none")


def run(generator, job, callback=None):
    frames = []
    result = generator(job, frames.append, callback=callback)
    return np.stack(frames), result


class DecodeRecorder:
    """Records the latents each segment hands to the VAE decoder."""

    def __init__(self, vae, monkeypatch):
        self.latents, original = [], vae.decode

        def decode(z, *args, **kwargs):
            self.latents.append(z.detach().clone())
            return original(z, *args, **kwargs)

        monkeypatch.setattr(vae, "decode", decode)


def test_our_path_equals_the_library_call(pipe, generator, monkeypatch):
    job = inputs(12, lead_in=2, settings={**SMALL, "seed": 7})
    ours = DecodeRecorder(pipe.vae, monkeypatch)
    frames, result = run(generator, job)
    assert result.seed == 7 and result.settings["segments"] == 2
    values = generator.resolve(job)
    kwargs = generator.prepare(job, values)["kwargs"]
    monkeypatch.undo()
    bare = DecodeRecorder(pipe.vae, monkeypatch)
    video = pipe(**kwargs, prompt="a person dances", generator=torch.Generator().manual_seed(7),
                 output_type="np").frames[0]
    assert len(ours.latents) == len(bare.latents) == 2
    for a, b in zip(ours.latents, bare.latents, strict=True):
        assert (a - b).abs().max().item() <= 1e-5
    np.testing.assert_array_equal(frames, (video * 255).round().astype(np.uint8))


@pytest.mark.parametrize("segment,carried,lengths", [(9, 1, [1, 2, 8, 9, 10, 17, 18]),
                                                     (13, 5, [3, 5, 6, 13, 14, 21, 22])])
def test_one_output_frame_per_driving_frame(generator, segment, carried, lengths):
    for n in lengths:
        job = inputs(n, settings={**SMALL, "num_inference_steps": 1, "segment_frame_length":
                                  segment, "prev_segment_conditioning_frames": carried})
        frames, result = run(generator, job)
        assert len(frames) == result.frames == n, (carried, n)
        assert frames.shape[1:] == (16, 16, 3)


def test_segments_and_progress(generator):
    assert wan.num_segments(77, 77, 1) == 1 and wan.num_segments(78, 77, 1) == 2
    assert wan.num_segments(153, 77, 1) == 2 and wan.num_segments(154, 77, 1) == 3
    assert wan.num_segments(10, 77, 5) == 1
    calls = []
    run(generator, inputs(10, settings=SMALL), callback=lambda *a: calls.append(a))
    assert calls == [(1, 4, 0), (2, 4, 0), (3, 4, 1), (4, 4, 1)]

    def stop(done, total, segment):
        raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        run(generator, inputs(10, settings=SMALL), callback=stop)


def test_replace_mode_keeps_the_unmasked_background(pipe, generator):
    job = inputs(6, size=(48, 40), driver=(80, 64),  # grown by 9 px at the canvas size
                 settings={**SMALL, "height": 64, "width": 80, "mode": "replace",
                           "mask_source": "hull", "seed": 3})
    values = generator.resolve(job)
    made = generator.prepare(job, values)
    masks, footage = made["masks"], made["footage"]
    assert 0 < masks[0].mean() < 1  # the person's grown box, not the whole frame
    # the background video is the footage with the person blacked out; the mask is white
    background = np.asarray(made["kwargs"]["background_video"][0])
    np.testing.assert_array_equal(background[masks[0] == 1], 0)
    np.testing.assert_array_equal(background[masks[0] == 0], footage[0][masks[0] == 0])
    assert set(np.unique(np.asarray(made["kwargs"]["mask_video"][0]))) == {0, 255}
    frames, _ = run(generator, job)
    for frame, mask, film in zip(frames, masks, footage, strict=True):
        np.testing.assert_array_equal(frame[mask == 0], film[mask == 0])
        assert (frame[mask == 1] != film[mask == 1]).any()  # the person is generated
    # with keep_background off, the raw model output (the library's own frames)
    raw, _ = run(generator, inputs(6, size=(48, 40), driver=(80, 64),
                                   settings={**job.settings, "keep_background": False}))
    assert (raw[0][masks[0] == 0] != footage[0][masks[0] == 0]).any()


def test_replace_mode_with_the_segmentation_mask(generator):
    job = inputs(3, settings={**SMALL, "mode": "replace", "num_inference_steps": 1})
    frames, _ = run(generator, job)
    assert len(frames) == 3


def test_bad_settings_are_refused_with_what_fits(generator):
    with pytest.raises(InputError, match="4N\\+1"):
        run(generator, inputs(4, settings={**SMALL, "segment_frame_length": 10}))
    with pytest.raises(InputError, match="more than twice"):
        run(generator, inputs(4, settings={**SMALL, "prev_segment_conditioning_frames": 5}))
    with pytest.raises(InputError, match="1, 5"):
        run(generator, inputs(4, settings={**SMALL, "prev_segment_conditioning_frames": 2}))
    with pytest.raises(InputError, match="driving video"):
        run(generator, inputs(4, settings={**SMALL, "mode": "replace"}, video=False))
    with pytest.raises(InputError, match="Unknown generation setting"):
        run(generator, inputs(4, settings={**SMALL, "identity_strength": 1.0}))
    with pytest.raises(InputError, match="multiples of 16"):
        run(generator, inputs(4, settings={**SMALL, "height": 20}))


def test_motion_without_video_holds_the_portrait_face(generator):
    frames, result = run(generator, inputs(3, settings=SMALL, video=False))
    assert len(frames) == 3 and any("portrait's own face" in n for n in result.notices)


def test_size_follows_the_portrait_at_the_model_area(generator):
    job = inputs(2, size=(480, 640), settings={"resolution": "480p"})
    assert generator.size(generator.resolve(job), job) == (544, 720)
    assert wan.settings_for(wan.get_preset("wan-animate"))[0].name == "prompt"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, pipe):
    folder = tmp_path_factory.mktemp("wan") / "pipeline"
    pipe.save_pretrained(folder)
    return folder


def test_local_folder_and_weights_dir_load_and_free_the_text_encoder(saved, pipe,
                                                                    monkeypatch):
    from transformers import UMT5EncoderModel

    loads = []
    original = UMT5EncoderModel.from_pretrained
    monkeypatch.setattr(UMT5EncoderModel, "from_pretrained",
                        lambda *a, **k: loads.append(a) or original(*a, **k))
    for name, kwargs in ((f"local:{saved}", {}), ("wan-animate", {"weights_dir": saved})):
        gen = wan.load(name, device="cpu", allow_download=False, **kwargs)
        gen.pipe.set_progress_bar_config(disable=True)
        assert gen.pipe.text_encoder is None and gen.load_options["memory"] == "none"
        job = inputs(5, settings={**SMALL, "seed": 1})
        first, _ = run(gen, job)
        assert gen.pipe.text_encoder is None and len(loads) == 1  # loaded, used, dropped
        again, _ = run(gen, job)
        assert len(loads) == 1 and gen.embeddings.cached == 1  # the cached embeddings
        np.testing.assert_array_equal(first, again)
        loads.clear()
    # equal to the library call on the folder, text encoder and all
    from diffusers import WanAnimatePipeline

    direct = WanAnimatePipeline.from_pretrained(saved)
    direct.set_progress_bar_config(disable=True)
    kwargs = gen.prepare(job, gen.resolve(job))["kwargs"]
    video = direct(**kwargs, prompt="a person dances", generator=torch.Generator().manual_seed(1),
                   output_type="np").frames[0]
    np.testing.assert_array_equal(first, (video * 255).round().astype(np.uint8))


def test_missing_files_say_how_to_get_them(tmp_path):
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(InputError, match="download --preset wan-animate"):
        wan.load("wan-animate", weights_dir=tmp_path, allow_download=False)
    with pytest.raises(InputError, match="not on this machine"):
        wan.load("wan-animate", allow_download=False)  # HF_HUB_OFFLINE=1 in tests
    summary = wan.download_summary(wan.get_preset("wan-animate"), fast=True)
    assert "Apache-2.0" in summary and "GB" in summary and "lightx2v" in summary


def test_fast_option_fuses_the_lora_and_switches_to_four_steps(saved, tmp_path):
    from safetensors.torch import save_file

    preset = wan.get_preset("wan-animate")
    rng = torch.Generator().manual_seed(0)
    lora = {}
    for block in (0, 1):  # LightX2V's key layout (original Wan names), rank 2
        for part in ("q", "k", "v", "o"):
            base = f"diffusion_model.blocks.{block}.self_attn.{part}"
            lora[f"{base}.lora_down.weight"] = torch.randn(2, 24, generator=rng)
            lora[f"{base}.lora_up.weight"] = torch.randn(24, 2, generator=rng)
    weights = tmp_path / "weights"
    import shutil

    shutil.copytree(saved, weights)
    save_file(lora, weights / preset.lora.filenames[0])
    plain = wan.load("wan-animate", weights_dir=weights, allow_download=False)
    fast = wan.load("wan-animate", weights_dir=weights, allow_download=False, fast=True)
    assert fast.load_options["fast"] and not plain.load_options["fast"]
    defaults = {s.name: s.default for s in fast.settings}
    assert defaults["num_inference_steps"] == 4 and defaults["flow_shift"] == 5.0
    assert defaults["guidance_scale"] == 1.0
    q0 = "blocks.0.attn1.to_q.weight"
    delta = fast.pipe.transformer.state_dict()[q0] - plain.pipe.transformer.state_dict()[q0]
    expected = lora["diffusion_model.blocks.0.self_attn.q.lora_up.weight"] @ \
        lora["diffusion_model.blocks.0.self_attn.q.lora_down.weight"]
    torch.testing.assert_close(delta, expected, atol=1e-5, rtol=1e-4)
    assert not any("lora" in k for k in fast.pipe.transformer.state_dict())  # fused
    calls = []
    frames, result = run(fast, inputs(3, settings={"height": 16, "width": 16,
                                                   "segment_frame_length": 9}),
                         callback=lambda *a: calls.append(a))
    assert len(calls) == 4 and result.settings["flow_shift"] == 5.0
    with pytest.raises(InputError, match="fast option's LoRA"):
        wan.load("wan-animate", weights_dir=saved, allow_download=False, fast=True)


def test_fp8_storage_and_memory_modes(saved):
    gen = wan.load(f"local:{saved}", device="cpu", fp8=True, memory="auto")
    gen.pipe.set_progress_bar_config(disable=True)
    assert gen.load_options == {"memory": "none", "fp8": True, "fast": False}
    dtypes = {p.dtype for n, p in gen.pipe.transformer.named_parameters() if "blocks." in n
              and n.endswith("to_q.weight")}
    assert dtypes == {torch.float8_e4m3fn}
    frames, _ = run(gen, inputs(3, settings=SMALL))
    assert frames.shape == (3, 16, 16, 3)
    with pytest.raises(InputError, match="memory mode"):
        wan.load(f"local:{saved}", memory="lots")
