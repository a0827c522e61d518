"""The Wan-Animate-2 family on tiny real modular pipelines (built in code, nothing
downloaded): our generation equals the library's pipeline called directly on the inputs we
prepared, across a segment boundary, base and distilled; one output frame per driving
frame; progress per segment and step; Stop between steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from animator.errors import Cancelled, InputError
from animator.families import wan2
from animator.families.wan2.tiny import tiny_components, tiny_wan2_pipeline
from tests.families.wan.people import inputs

# A square portrait in a 32x32 area: a 32x32 canvas. Every test uses this canvas and segment
# length, so the transformer's block mask is built (and compiled) once.
SMALL = {"height": 32, "width": 32, "segment_frame_length": 5, "num_inference_steps": 2,
         "prompt": "a person dances"}


def job(n, **kwargs):
    return inputs(n, size=(48, 48), **kwargs)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Toy models gain nothing from a second thread, and on a busy machine its spin-waits
    cost more than the work."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def pipes():
    shared = tiny_components()  # one transformer: its block mask is compiled once
    return {distilled: tiny_wan2_pipeline(distilled, components=shared)
            for distilled in (False, True)}


@pytest.fixture(scope="module")
def generators(pipes):
    return {d: wan2.build(p, wan2.get_preset("wan-animate-2-distilled" if d else "wan-animate-2"),
                          memory="none") for d, p in pipes.items()}


def run(generator, clip, callback=None):
    frames = []
    result = generator(clip, frames.append, callback=callback)
    return np.stack(frames), result


@pytest.mark.parametrize("distilled", [False, True])
def test_our_generation_equals_the_library_call(pipes, generators, distilled):
    generator, pipe = generators[distilled], pipes[distilled]
    clip = job(7, driver=(48, 40), settings={**SMALL, "seed": 7})
    frames, result = run(generator, clip)
    assert result.seed == 7 and result.settings["segments"] == 2  # 5 + 4 frames, one carried
    assert frames.shape == (7, *frames.shape[1:]) and result.frames == 7
    made = generator.prepare(clip, generator.resolve(clip))
    prompt, negative, reference = made["prompts"]
    assert (negative is None) == distilled  # guidance 3.0 in the base preset, off distilled
    video = pipe(**made["kwargs"], prompt=prompt, negative_prompt=negative, prompt_ref=reference,
                 max_sequence_length=16, generator=torch.Generator().manual_seed(7),
                 output="videos")
    np.testing.assert_array_equal(frames, (np.asarray(video)[0] * 255).round().astype(np.uint8))
    assert result.size == (frames.shape[2], frames.shape[1])


def test_progress_per_segment_and_step_and_stop(generators):
    generator = generators[True]
    calls = []
    run(generator, job(7, settings=SMALL), callback=lambda *a: calls.append(a))
    assert calls == [(1, 4, 0), (2, 4, 0), (3, 4, 1), (4, 4, 1)]
    assert generator.step_text(3, 4, 1) == "segment 2/2, step 1/2"

    def stop(done, total, segment):
        raise Cancelled("stopped")

    with pytest.raises(Cancelled):
        run(generator, job(7, settings=SMALL), callback=stop)
    assert "step" not in vars(generator.denoise.scheduler)  # the wrapper is gone after a stop


def test_very_short_clips_and_refusals(generators):
    generator = generators[True]
    frames, _ = run(generator, job(1, settings={**SMALL, "num_inference_steps": 1}))
    assert len(frames) == 1
    with pytest.raises(InputError, match="4N\\+1"):
        run(generator, job(3, settings={**SMALL, "segment_frame_length": 6}))
    with pytest.raises(InputError, match="driving video itself"):
        run(generator, job(3, settings=SMALL, video=False))
    with pytest.raises(InputError, match="Unknown generation setting"):
        run(generator, job(3, settings={**SMALL, "mode": "replace"}))


# --- the front end: the chosen person, fps, duration and audio ------


def two_people(n: int, width: int, height: int):
    """GenerationInputs whose driving frames show two people (left one followed, the right
    one a bystander), at width x height, the frames' size the poses are given in."""
    from tests.families.wan.people import frame_of, person

    clip = job(n, driver=(width // 2, height // 2), settings=SMALL)
    left = [person(width, height, t, x=0.25) for t in range(n)]
    right = [person(width, height, t, x=0.8) for t in range(n)]
    frames = []
    for t in range(n):
        frame = frame_of(left[t], width, height, seed=t)
        other = frame_of(right[t], width, height, seed=t)
        frame[:, width // 2:] = other[:, width // 2:]
        frames.append(frame)
    clip.driving_frames = frames
    clip.driving_poses = type(clip.driving_poses)(np.stack(left), width, height, 24)
    return clip, np.stack(right)


def test_the_model_sees_the_chosen_person_cut_from_the_driving_frames(generators):
    generator = generators[True]
    clip, bystander = two_people(3, 160, 64)
    made = generator.prepare(clip, generator.resolve(clip))
    x0, y0, x1, y1 = made["window"]
    shown = np.asarray(made["kwargs"]["driving_video"][0])
    assert shown.shape[:2] == (y1 - y0, x1 - x0) and x1 - x0 < 160  # a window ...
    assert x1 <= np.nanmin(bystander[:, :24, 0])  # ... without the other person
    np.testing.assert_array_equal(shown, clip.driving_frames[0][y0:y1, x0:x1])
    assert any("chosen person" in n for n in made["notices"])
    whole = generator.prepare(clip, {**generator.resolve(clip), "driver_crop": "off"})
    assert whole["window"] is None
    assert np.asarray(whole["kwargs"]["driving_video"][0]).shape == (64, 160, 3)
    assert whole["kwargs"]["driving_video_fps"] is None  # resampled by us, not again


@pytest.fixture(scope="module")
def animator(pipes):
    """One Animator (one pose detector) for the end-to-end runs, its loader replaced by
    the tiny distilled pipeline."""
    from animator.animate import Animator

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(wan2, "load", lambda name, **options: wan2.build(
            pipes[True], wan2.get_preset(name), memory="none"))
        yield Animator("wan-animate-2-distilled", device="cpu", pose_backend="mediapipe")


def audio_samples(path, rate: int = 8000) -> np.ndarray:
    import subprocess

    from imageio_ffmpeg import get_ffmpeg_exe

    out = subprocess.run([get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a:0",
                          "-ac", "1", "-ar", str(rate), "-f", "s16le", "pipe:1"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.int16) / 32768.0


@pytest.mark.parametrize("fps", [24, 25, 30, 50])
def test_the_clip_is_as_long_as_the_driver_with_its_audio(animator, portrait_path,
                                                          driving_path, tmp_path, fps):
    import subprocess

    from imageio_ffmpeg import get_ffmpeg_exe

    from animator.video import probe_video

    driver = tmp_path / f"driver{fps}.mp4"  # 0.4 s of the sway clip re-timed to `fps`
    subprocess.run([get_ffmpeg_exe(), "-v", "error", "-ss", "1", "-t", "0.4", "-i",
                    str(driving_path), "-vf", f"fps={fps}", "-c:a", "aac", str(driver)],
                   check=True)
    seen = []
    result = animator.animate(portrait_path, driver, generation={**SMALL, "seed": 5},
                              out_dir=tmp_path, comparison=False,
                              progress=lambda f, desc: seen.append(desc))
    video = probe_video(result.video)
    frames = result.settings["frames"]
    assert video.fps == 24 and video.num_frames == frames >= 9  # the driver at 24 fps
    assert abs(video.duration - probe_video(driver).duration) < 1 / 24 + 1e-6
    ours, theirs = audio_samples(result.video), audio_samples(driver)
    assert abs(len(ours) / 8000 - video.duration) < 0.06
    assert np.corrcoef(ours[:len(theirs)], theirs[:len(ours)])[0, 1] > 0.9
    resampled = [n for n in result.notices if "resampled from" in n]
    assert bool(resampled) == (fps != 24)
    segments = -(-(frames - 1) // 4)  # 5-frame segments, one frame carried
    assert result.settings["segments"] == segments and result.settings["output_fps"] == 24
    steps = [d for d in seen if d.startswith("Generating")]
    assert steps[0].startswith(f"Generating: segment 1/{segments}, step 1/2")
    assert len(steps) == 2 * segments


def test_flex_attentions_cpu_path_is_the_masked_attention(pipes, generators):
    """The generation pass attends through flex attention over the library's block mask;
    on a CPU, uncompiled, it must equal plain attention under the same mask: each
    generation token sees every generation token and the reference tokens of its frame."""
    import torch.nn.functional as F
    from torch.nn.attention.flex_attention import flex_attention

    transformer = pipes[True].transformer
    if not transformer.block_masks:  # built by the first generation pass
        run(generators[True], job(3, settings={**SMALL, "num_inference_steps": 1}))
    (frames, per_frame), mask = next(iter(transformer.block_masks.items()))
    q_len, kv_len = mask.shape[-2:]
    q_idx = torch.arange(q_len)[:, None]
    kv_idx = torch.arange(kv_len)[None, :]
    allowed = mask.mask_mod(torch.tensor(0), torch.tensor(0), q_idx, kv_idx)
    rows = allowed.any(dim=1)
    assert rows.sum() == (frames + 1) * per_frame  # the generation tokens, before padding
    ref_start = q_len  # the reference tokens follow the (padded) generation tokens
    frame_of = q_idx[rows.nonzero()[:, 0]] // per_frame
    seen_refs = allowed[rows][:, ref_start:ref_start + frames * per_frame]
    for row, frame in zip(seen_refs, frame_of[:, 0].tolist(), strict=True):
        assert set((row.nonzero()[:, 0] // per_frame + 1).tolist()) <= {frame}
    generator = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, n, 8, generator=generator) for n in (q_len, kv_len, kv_len))
    ours = flex_attention(q, k, v, block_mask=mask)
    dense = F.scaled_dot_product_attention(q[:, :, rows], k, v, attn_mask=allowed[rows])
    torch.testing.assert_close(ours[:, :, rows], dense, atol=1e-5, rtol=1e-5)


def test_the_text_encoder_is_loaded_for_a_new_prompt_and_dropped(pipes, generators):
    """Loaded without its encoder (as from a folder), a prompt loads it once, runs the
    library's text step, drops it; the next run reuses the embeddings; the frames are the
    same as with the encoder kept."""
    import copy

    kept = generators[True]
    loads = []

    def loader():
        loads.append(1)
        return copy.deepcopy(pipes[True].text_encoder)

    dropped = wan2.build(pipes[True], wan2.get_preset("wan-animate-2-distilled"),
                         memory="none")
    dropped.embeddings.load_encoder = loader
    dropped.embeddings.text_pipe.update_components(text_encoder=None)
    clip = job(3, settings={**SMALL, "num_inference_steps": 1, "prompt": "a person waves"})
    first, _ = run(dropped, clip)
    assert loads == [1] and dropped.embeddings.text_pipe.text_encoder is None
    again, _ = run(dropped, clip)
    assert loads == [1] and dropped.embeddings.cached == 1
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, run(kept, clip)[0])
