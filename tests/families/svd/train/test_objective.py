"""The EDM objective's conventions against the sampler's."""

from __future__ import annotations

import torch

from animator.families.svd.models.tiny import tiny_pipeline
from animator.families.svd.train import Denoiser


def test_preconditioning_is_the_samplers_inverse():
    """D from Denoiser equals the Euler scheduler's x0 estimate for the same UNet call:
    c_in = scale_model_input, c_noise = the scheduler's timestep, c_skip/c_out as in step()."""
    pipe = tiny_pipeline(pose=False, identity=False)
    scheduler = pipe.scheduler
    scheduler.set_timesteps(5)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 4, 8, 8, generator=generator) * 5
    image = torch.randn(1, 4, 8, 8, generator=generator)
    clip = torch.randn(1, 1, 32, generator=generator)
    time_ids = torch.tensor([[6.0, 127.0, 0.02]])
    model = Denoiser(pipe.unet, None, None)
    for i in (0, 2, 4):
        t, sigma = scheduler.timesteps[i], scheduler.sigmas[i]
        scheduler._step_index = i
        sample = torch.cat([scheduler.scale_model_input(x, t),
                            image[:, None].expand(-1, 3, -1, -1, -1)], dim=2)
        out = pipe.unet(sample, t, encoder_hidden_states=clip, added_time_ids=time_ids).sample
        scheduler._step_index = i
        expected = scheduler.step(out, t, x).pred_original_sample
        ours = model(x, sigma[None], image, clip, time_ids, torch.ones(1))
        torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)
