from __future__ import annotations

import dataclasses
import inspect
import json

import numpy as np
import PIL.Image
import pytest
import torch
from diffusers import EulerDiscreteScheduler, StableVideoDiffusionPipeline
from diffusers.schedulers import AysSchedules
from safetensors.torch import load_file

from animator.errors import InputError
from animator.families.svd.config import GenerationConfig
from animator.families.svd.models.tiny import tiny_components, tiny_pipeline
from animator.families.svd.models.unet import identity_processors, remove_identity, remove_pose
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.windows import ays_sigmas, plan_windows

SIZE = 64
STEPS = 2
# CFG on (ramp 1 -> 3), diffusers' micro-conditioning defaults.
CALL = dict(height=SIZE, width=SIZE, num_inference_steps=STEPS, min_guidance_scale=1.0,
            max_guidance_scale=3.0, fps=7, motion_bucket_id=127, noise_aug_strength=0.02,
            decode_chunk_size=4)


def _rgb(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return _rgb((SIZE, SIZE, 3), 0)


@pytest.fixture(scope="module")
def skeleton() -> np.ndarray:
    return _rgb((8, SIZE, SIZE, 3), 1)


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    return np.random.default_rng(2).standard_normal(512).astype(np.float32)


@pytest.fixture(scope="module")
def live():
    """Tiny pipeline whose pose and identity weights are non-zero."""
    return tiny_pipeline(random_init=True)


def _latents(pipe, *args, **kwargs) -> torch.Tensor:
    return pipe(*args, **{**CALL, "seed": 0, "output_type": "latent", **kwargs}).frames


# ------------------------------------------------------------------------ sampling

def test_matches_diffusers_svd_pipeline(image):
    parts = tiny_components(0)
    ours = AnimationPipeline(**parts)
    svd = StableVideoDiffusionPipeline(**parts)
    for pipe in (ours, svd):
        pipe.set_progress_bar_config(disable=True)
    kwargs = dict(CALL, num_frames=8)
    theirs = svd(PIL.Image.fromarray(image), generator=torch.Generator().manual_seed(0),
                 output_type="latent", **kwargs).frames
    assert (ours(image, seed=0, output_type="latent", **kwargs).frames - theirs).abs().max() <= 1e-5
    theirs = svd(PIL.Image.fromarray(image), generator=torch.Generator().manual_seed(0),
                 output_type="np", **kwargs).frames[0]
    frames = ours(image, seed=0, **kwargs).frames
    assert frames.dtype == np.uint8 and frames.shape == (8, SIZE, SIZE, 3)
    assert np.abs(frames.astype(np.float32) / 255 - theirs).max() <= 0.5 / 255 + 1e-5


def test_full_pipeline_without_pose_or_face_matches_diffusers(image):
    pipe = tiny_pipeline(random_init=True)
    ours = _latents(pipe, image, num_frames=8)
    remove_identity(pipe.unet)
    remove_pose(pipe.unet)
    svd = StableVideoDiffusionPipeline(vae=pipe.vae, image_encoder=pipe.image_encoder,
                                       unet=pipe.unet, scheduler=pipe.scheduler,
                                       feature_extractor=pipe.feature_extractor)
    svd.set_progress_bar_config(disable=True)
    theirs = svd(PIL.Image.fromarray(image), generator=torch.Generator().manual_seed(0),
                 output_type="latent", num_frames=8, **CALL).frames
    assert (ours - theirs).abs().max() <= 1e-5


def test_zero_initialised_controls_change_nothing(image, skeleton, face):
    pipe = tiny_pipeline()
    plain = _latents(pipe, image, num_frames=8)
    controlled = _latents(pipe, image, skeleton, dense=skeleton[::-1], face_embedding=face)
    torch.testing.assert_close(controlled, plain, atol=1e-6, rtol=0)


def test_trained_controls_change_the_output(live, image, skeleton, face):
    plain = _latents(live, image, num_frames=8)
    posed = _latents(live, image, skeleton)
    faced = _latents(live, image, num_frames=8, face_embedding=face)
    assert (posed - plain).abs().max() > 1e-3
    assert (faced - plain).abs().max() > 1e-3
    half = _latents(live, image, skeleton, pose_strength=0.5)
    assert (half - plain).abs().max() < (posed - plain).abs().max()
    assert torch.equal(_latents(live, image, skeleton, pose_strength=0.0), plain)


def test_identity_strength_zero_equals_no_identity(live, image, skeleton, face):
    off = _latents(live, image, skeleton, face_embedding=face, identity_strength=0.0)
    assert torch.equal(off, _latents(live, image, skeleton))


def test_sequential_cfg_equals_batched(live, image, skeleton, face):
    # One guided prediction with pose and face tokens: the CFG arithmetic itself.
    gen = torch.Generator().manual_seed(0)
    live.scheduler.set_timesteps(3)
    t = live.scheduler.timesteps[1]
    latents, image_latent = torch.randn(1, 8, 4, 8, 8, generator=gen), torch.randn(1, 4, 8, 8)
    cond = torch.randn(1, 5, 32, generator=gen)
    time_ids = torch.tensor([[6.0, 127.0, 0.02]])
    guidance = torch.linspace(1.0, 3.0, 8).view(1, 8, 1, 1, 1)
    with torch.no_grad():
        pose = live.pose_encoder(torch.from_numpy(skeleton).permute(0, 3, 1, 2) / 127.5 - 1)
        preds = [live._predict(latents, t, image_latent, cond, torch.zeros_like(cond), time_ids,
                               guidance, pose, mode) for mode in ("batched", "sequential")]
    torch.testing.assert_close(preds[1], preds[0], atol=1e-5, rtol=1e-5)
    # End to end. Euler's first step from sigma_max = 700 cancels latents of size ~700*|x|, so
    # float32 keeps ~1e-4 of them; after a few steps at small sigma the clips agree to ~1e-5.
    kwargs = dict(dense=skeleton[::-1], face_embedding=face, reference_pose=skeleton[3],
                  num_inference_steps=4)
    batched = _latents(live, image, skeleton, cfg_mode="batched", **kwargs)
    sequential = _latents(live, image, skeleton, cfg_mode="sequential", **kwargs)
    torch.testing.assert_close(sequential, batched, atol=5e-5, rtol=0)


def test_long_clip_in_windows_streams_every_frame(live, image, face):
    poses = _rgb((20, SIZE, SIZE, 3), 5)
    calls, written = [], []
    kwargs = dict(CALL, seed=1, window=8, overlap=2, face_embedding=face,
                  reference_pose=poses[0], decode_chunk_size=3)
    live(image, poses, writer=written.append, callback=lambda *a: calls.append(a), **kwargs)
    windows = plan_windows(20, 8, 2, anchor=True)
    assert len(windows) >= 3
    assert len(written) == 20 and all(f.shape == (SIZE, SIZE, 3) for f in written)
    total = STEPS * len(windows)
    assert calls == [(k + 1, total, k % len(windows)) for k in range(total)]
    frames = live(image, poses, **kwargs).frames
    assert frames.shape == (20, SIZE, SIZE, 3)
    assert np.array_equal(np.stack(written), frames)


def test_anchor_frame_is_dropped_and_changes_the_clip(live, image, skeleton):
    with_anchor = _latents(live, image, skeleton, reference_pose=skeleton[0])
    without = _latents(live, image, skeleton)
    assert with_anchor.shape == without.shape == (1, 8, 4, SIZE // 8, SIZE // 8)
    assert not torch.allclose(with_anchor, without)


def test_continuation_conditions_on_the_previous_last_frame(live, image, face, monkeypatch):
    poses = _rgb((13, SIZE, SIZE, 3), 6)
    kwargs = dict(CALL, seed=3, window=6, face_embedding=face, reference_pose=poses[0],
                  continuation=True)
    encoded = []
    encode = live._encode_vae
    monkeypatch.setattr(live, "_encode_vae", lambda px, *a: encoded.append(px) or encode(px, *a))
    frames = live(image, poses, **kwargs).frames
    assert frames.shape == (13, SIZE, SIZE, 3)
    # Clip frame 0 is the anchor; neighbours share one frame: [0..5], [5..9], [9..13].
    windows = plan_windows(14, 6, 1)
    assert [w[0] for w in windows[1:]] == [w[-1] for w in windows[:-1]]
    assert len(encoded) == len(windows)  # the portrait, then each window's last frame
    for px, w in zip(encoded[1:], windows, strict=False):
        pixels = ((px[0].permute(1, 2, 0) * 0.5 + 0.5).clamp(0, 1) * 255).round()
        assert np.array_equal(pixels.to(torch.uint8).numpy(), frames[w[-1] - 1])
    # The first window is sampled exactly as a clip of its own.
    monkeypatch.undo()
    n = len(windows[0]) - 1
    first = live(image, poses[:n], **dict(kwargs, continuation=False)).frames
    assert np.array_equal(frames[:n], first)


def test_output_types(live, image, skeleton):
    pil = live(image, skeleton[:2], **CALL, seed=0, output_type="pil").frames
    np_frames = live(image, skeleton[:2], **CALL, seed=0).frames
    assert len(pil) == 2 and isinstance(pil[0], PIL.Image.Image)
    assert np.array_equal(np.asarray(pil[1]), np_frames[1])


def test_generation_config_fields_are_call_arguments():
    params = inspect.signature(AnimationPipeline.__call__).parameters
    config = dataclasses.asdict(GenerationConfig())
    assert set(config) <= set(params)
    for name, value in config.items():
        if params[name].default is not inspect.Parameter.empty and name not in (
                "seed", "height", "width"):
            assert params[name].default == value, name


def test_bad_inputs_raise_input_error(live, image, skeleton):
    with pytest.raises(InputError, match="uint8"):
        live(image, skeleton.astype(np.float32), **CALL)
    with pytest.raises(InputError, match="differ in number"):
        live(image, skeleton, dense=skeleton[:3], **CALL)
    with pytest.raises(InputError, match="multiples of 8"):
        live(image, skeleton, **dict(CALL, height=60))
    with pytest.raises(InputError, match="num_frames"):
        live(image, **CALL)
    with pytest.raises(InputError, match="512"):
        live(image, skeleton, face_embedding=np.zeros(128), **CALL)
    with pytest.raises(InputError, match="pose encoder"):
        tiny_pipeline(pose=False)(image, skeleton, **CALL)


# ------------------------------------------------------------------------ as the public code


def _spy(monkeypatch, pipe, name):
    """Record the arguments (and result) of a pipeline method, leaving it working."""
    calls = []
    method = getattr(pipe, name)

    def spy(*args, **kwargs):
        out = method(*args, **kwargs)
        calls.append((args, kwargs, out))
        return out

    monkeypatch.setattr(pipe, name, spy)
    return calls


def _uint8(x: torch.Tensor) -> np.ndarray:
    return ((x * 0.5 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


@torch.no_grad()
def test_anchor_is_decoded_with_the_clip_and_dropped_after(live, image, skeleton, monkeypatch):
    """MimicMotion's inference: decode_latents runs over all latents, the reference-pose
    frame 0 included, decode_chunk_size frames at a time from frame 0 (vae.decode with
    num_frames = the chunk's length); run_pipeline then drops frame 0 of the frames."""
    sampled = _spy(monkeypatch, live, "_sample_blended")
    frames = live(image, skeleton, reference_pose=skeleton[0], **dict(CALL, seed=0))
    latents = sampled[0][2]
    assert latents.shape[1] == len(skeleton) + 1  # anchor + 8 frames: chunks of 4, 4, 1
    flat = 1 / live.vae.config.scaling_factor * latents.flatten(0, 1)
    decoded = torch.cat([live.vae.decode(flat[i:i + 4], num_frames=len(flat[i:i + 4])).sample
                         for i in range(0, len(flat), 4)])
    expected = _uint8(decoded)[1:]
    assert np.array_equal(frames.frames, expected)
    # Decoding without the anchor shifts every chunk: the temporal decoder gives other frames.
    shifted = torch.cat([live.vae.decode(flat[i:i + 4], num_frames=len(flat[i:i + 4])).sample
                         for i in range(1, len(flat), 4)])
    assert not np.array_equal(_uint8(shifted), expected)


@pytest.mark.parametrize("anchor", [False, True])
def test_repeated_window_noise_is_the_public_draw(live, image, face, monkeypatch, anchor):
    """MimicMotion's and StableAnimator's pipelines: the VAE image noise is drawn first, then
    prepare_latents draws noise for tile_size frames only, and latents.repeat(1, num_frames //
    tile_size + 1, ...)[:, :num_frames] gives clip frame i (the anchor is frame 0) the draw of
    frame i mod tile_size; scaled by the scheduler's init_noise_sigma."""
    poses = _rgb((20, SIZE, SIZE, 3), 7)
    sampled = _spy(monkeypatch, live, "_sample_blended")
    kwargs = dict(CALL, seed=11, window=8, overlap=2, face_embedding=face,
                  reference_pose=poses[0] if anchor else None, output_type="latent")
    live(image, poses, window_noise="repeat", **kwargs)
    live(image, poses, window_noise="independent", **kwargs)
    repeated, independent = sampled[0][0][0], sampled[1][0][0]
    generator = torch.Generator().manual_seed(11)
    torch.randn((1, 3, SIZE, SIZE), generator=generator)  # the reference image's noise
    tile = torch.randn((1, 8, 4, SIZE // 8, SIZE // 8), generator=generator)
    clip = 20 + anchor
    expected = tile.repeat(1, clip // 8 + 1, 1, 1, 1)[:, :clip] * live.scheduler.init_noise_sigma
    torch.testing.assert_close(repeated, expected, rtol=0, atol=0)
    assert not torch.equal(independent[:, 8], independent[:, 0])


def test_generator_device(live, image, monkeypatch):
    """The public scripts seed torch.Generator(device="cuda") (MimicMotion: the device it
    runs on); "cpu" keeps our device-independent CPU draws."""
    encoded = _spy(monkeypatch, live, "_encode_vae")
    for where in ("cpu", "auto"):
        _latents(live, image, num_frames=2, num_inference_steps=1, generator_device=where)
        assert encoded[-1][0][2].device == torch.device("cpu")  # the model is on the CPU
    with pytest.raises(InputError, match="generator_device='cuda' needs the model on a CUDA"):
        _latents(live, image, num_frames=2, generator_device="cuda")
    with pytest.raises(InputError, match="generator_device must be one of"):
        _latents(live, image, num_frames=2, generator_device="gpu")
    with pytest.raises(InputError, match="generator_device must be one of"):
        GenerationConfig(generator_device="gpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_generator_reproduces_a_cuda_seed(image, monkeypatch):
    pipe = tiny_pipeline(random_init=True).to("cuda")
    sampled = _spy(monkeypatch, pipe, "_sample_blended")
    for where in ("cuda", "auto", "cpu"):
        _latents(pipe, image, num_frames=8, window=8, window_noise="repeat", seed=42,
                 num_inference_steps=1, generator_device=where)
    generator = torch.Generator(device="cuda").manual_seed(42)
    torch.randn((1, 3, SIZE, SIZE), generator=generator, device="cuda")
    tile = torch.randn((1, 8, 4, SIZE // 8, SIZE // 8), generator=generator, device="cuda")
    expected = tile * pipe.scheduler.init_noise_sigma
    cuda, auto, cpu = (s[0][0] for s in sampled)
    torch.testing.assert_close(cuda, expected, rtol=0, atol=0)
    torch.testing.assert_close(auto, expected, rtol=0, atol=0)
    assert not torch.equal(cpu, expected)


def _svd_scheduler() -> EulerDiscreteScheduler:
    """SVD-xt's scheduler_config.json (Karras sigmas, EDM v-prediction, sigma 0.002..700)."""
    return EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        interpolation_type="linear", num_train_timesteps=1000, prediction_type="v_prediction",
        sigma_max=700.0, sigma_min=0.002, steps_offset=1, timestep_spacing="leading",
        timestep_type="continuous", use_karras_sigmas=True)


def test_align_your_steps_schedule(image, skeleton):
    """diffusers' AysSchedules["StableDiffusionVideoSigmas"]: 10 steps from sigma 700."""
    published = AysSchedules["StableDiffusionVideoSigmas"]
    assert len(published) == 11 and ays_sigmas(10) == published
    for steps in (4, 25):
        sigmas = ays_sigmas(steps)
        assert len(sigmas) == steps + 1 and sigmas[0] == pytest.approx(700.0) and sigmas[-1] == 0
        assert all(a > b for a, b in zip(sigmas, sigmas[1:], strict=False))
    pipe = tiny_pipeline(random_init=True)
    pipe.scheduler = _svd_scheduler()
    steps = []
    pipe(image, skeleton, sigma_schedule="ays", callback=lambda *a: steps.append(a),
         **dict(CALL, num_inference_steps=10, seed=0, output_type="latent"))
    assert len(steps) == 10
    np.testing.assert_allclose(pipe.scheduler.sigmas.numpy(), published, rtol=1e-6)
    # Off by default: the scheduler's Karras spacing.
    pipe(image, skeleton, **dict(CALL, num_inference_steps=10, seed=0, output_type="latent"))
    assert not np.allclose(pipe.scheduler.sigmas.numpy(), published)


def test_continuation_keeps_the_ays_schedule_in_every_window(live, image, monkeypatch):
    poses = _rgb((10, SIZE, SIZE, 3), 8)
    steps = _spy(monkeypatch, live.scheduler, "step")
    live(image, poses, window=6, continuation=True, sigma_schedule="ays",
         **dict(CALL, num_inference_steps=3, seed=0, output_type="latent"))
    per_window = [args[1] for args, _, _ in steps]
    assert len(per_window) == 3 * len(plan_windows(10, 6, 1))
    expected = live.scheduler.timesteps.tolist()
    assert [float(t) for t in per_window] == expected * (len(per_window) // 3)


# ------------------------------------------------------------------------ save / load / devices

def test_save_load_round_trip(tmp_path, image, skeleton, face):
    pipe = tiny_pipeline(seed=4, random_init=True, identity_mode="normalized")
    kwargs = dict(dense=skeleton[::-1], face_embedding=face, reference_pose=skeleton[0])
    before = pipe(image, skeleton, **CALL, seed=0, **kwargs).frames
    pipe.save_pretrained(tmp_path)
    assert len(identity_processors(pipe.unet)) == 6  # still installed after saving
    unet_keys = load_file(tmp_path / "unet" / "diffusion_pytorch_model.safetensors")
    assert not any(".processor." in k for k in unet_keys)  # a stock diffusers UNet folder
    identity = load_file(tmp_path / "face_projector" / "identity_processors.safetensors")
    assert len(identity) == 12 and all(k.endswith(("id_to_k.weight", "id_to_v.weight"))
                                       for k in identity)
    assert json.loads((tmp_path / "model_index.json").read_text())["identity_mode"] == "normalized"

    loaded = AnimationPipeline.from_pretrained(tmp_path)
    for name in ("unet", "vae", "image_encoder", "pose_encoder", "face_projector"):
        ours, theirs = getattr(pipe, name).state_dict(), getattr(loaded, name).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name
    assert all(p.mode == "normalized" for p in identity_processors(loaded.unet).values())
    after = loaded(image, skeleton, **CALL, seed=0, **kwargs).frames
    np.testing.assert_array_equal(after, before)


def test_model_cpu_offload_keeps_controls_in_place(image, skeleton, face):
    pipe = tiny_pipeline(random_init=True)
    ref = _latents(pipe, image, skeleton, face_embedding=face)
    pipe.enable_model_cpu_offload(device="cpu")
    out = _latents(pipe, image, skeleton, face_embedding=face)
    assert torch.equal(out, ref)
    assert len(identity_processors(pipe.unet)) == 6
    device = pipe.unet.conv_in.weight.device
    assert all(p.id_to_k.weight.device == device for p in identity_processors(pipe.unet).values())


def test_bf16_pipeline_runs(image, skeleton, face):
    pipe = tiny_pipeline(random_init=True, dtype=torch.bfloat16)
    frames = pipe(image, skeleton[:4], face_embedding=face, **dict(CALL, num_inference_steps=1),
                  seed=0).frames
    assert frames.shape == (4, SIZE, SIZE, 3) and frames.dtype == np.uint8


@pytest.mark.slow
def test_compiled_unet_in_the_pipeline(image, skeleton, face):
    pipe = tiny_pipeline(random_init=True)
    kwargs = dict(face_embedding=face, num_inference_steps=3)
    eager = _latents(pipe, image, skeleton, **kwargs)
    pipe.unet = torch.compile(pipe.unet)
    assert len(identity_processors(pipe.unet)) == 6
    compiled = _latents(pipe, image, skeleton, **kwargs)
    torch.testing.assert_close(compiled, eager, atol=1e-4, rtol=1e-4)


def test_public_windows_blend_and_guidance_ramp(live, image, monkeypatch):
    """windows="public": the public pipelines' windows (frame 0 in each, the last one
    aligned to the end) and one guidance ramp over the whole clip, linspace(min, max,
    clip frames) indexed by each window's frames, where ours ramps within each window."""
    from animator.families.svd.windows import plan_public_windows

    poses = _rgb((20, SIZE, SIZE, 3), 5)
    seen = []
    predict = AnimationPipeline._predict

    def spy(self, latents, t, image_latent, cond, uncond, time_ids, guidance, pose, mode):
        seen.append(guidance.flatten().cpu())
        return predict(self, latents, t, image_latent, cond, uncond, time_ids, guidance, pose,
                       mode)

    monkeypatch.setattr(AnimationPipeline, "_predict", spy)
    kwargs = dict(CALL, seed=1, window=8, overlap=2, reference_pose=poses[0])
    public = _latents(live, image, poses, windows="public", **kwargs)
    plan = plan_public_windows(21, 8, 2)
    ramp = torch.linspace(1.0, 3.0, 21)
    assert len(seen) == STEPS * len(plan) == STEPS * 4
    for got, idx in zip(seen, plan * STEPS, strict=True):
        torch.testing.assert_close(got, ramp[idx])
    seen.clear()
    lean = _latents(live, image, poses, **kwargs)
    torch.testing.assert_close(seen[0], torch.linspace(1.0, 3.0, len(seen[0])))
    assert public.shape == lean.shape and not torch.allclose(public, lean)
    with pytest.raises(InputError, match="windows"):
        _latents(live, image, poses, windows="wide", **kwargs)
