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

# A 40x48 portrait in a 32x32 area: a 16x32 canvas. Every test uses this canvas and segment
# length, so the transformer's block mask is built once.
SMALL = {"height": 32, "width": 32, "segment_frame_length": 5, "num_inference_steps": 2,
         "prompt": "a person dances"}


def job(n, **kwargs):
    return inputs(n, size=(40, 48), **kwargs)


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
    frames, _ = run(generator, job(2, settings={**SMALL, "num_inference_steps": 1}))
    assert len(frames) == 2  # after a stop the next run is whole (the hook is gone)


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
