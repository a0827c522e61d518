"""Fine-tuning the pose and identity controls (or the whole UNet) on your own videos.

No public checkpoint has the dense (geometry) pose branch or plain decoupled identity
attention; this trains them (and any other part) from a preset, with accelerate doing the
distributed work. Settings: `TrainConfig` (animator/families/svd/train/config.py), from a YAML file
plus `key=value` overrides. Data: a folder of videos (layout in animator/families/svd/data.py).

Commands (the same code runs in every case):

    # one process (a GPU, or the CPU)
    python -m animator train --config train.yaml [key=value ...]

    # N GPUs on one machine
    accelerate launch --multi_gpu --num_processes N --mixed_precision bf16 \\
        -m animator train --config train.yaml

    # M machines (run on each, R = 0..M-1; P = GPUs per machine x M; data_dir and
    # output_dir on storage every machine sees)
    accelerate launch --multi_gpu --num_machines M --machine_rank R --num_processes P \\
        --main_process_ip HOST_OF_RANK_0 --main_process_port 29500 --mixed_precision bf16 \\
        -m animator train --config train.yaml

    # several CPU processes joined by gloo, on a machine without GPUs (training asks
    # accelerate for its CPU mode when CUDA is missing; `accelerate launch --cpu
    # --num_processes N` starts N processes only through MPI, else one)
    accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \\
        --dynamo_backend no -m animator train --config train.yaml

    # resume after an interruption: the same command plus
    ... resume_from=latest

Objective: SVD's EDM training as the public SVD fine-tuning recipes do it. Video latents x
(VAE sample x scaling factor) are noised as x + sigma * n with log sigma ~ N(p_mean, p_std);
the UNet sees c_in * (x + sigma n) = (x + sigma n) / sqrt(sigma^2 + 1) concatenated on channels
with the reference's noise-augmented, unscaled VAE latent, the timestep c_noise =
0.25 log sigma, the CLIP token (+ face tokens) and the time ids (fps - 1, motion bucket,
noise augmentation). Its v-prediction F gives the denoised estimate
D = c_skip (x + sigma n) + c_out F, c_skip = 1 / (sigma^2 + 1), c_out = -sigma / sqrt(sigma^2 + 1)
(exactly the Euler scheduler's inverse at sampling), and the loss is
(sigma^2 + 1) / sigma^2 * |D - x|^2. Image, pose and face conditions are each dropped with
their own probability so that classifier-free guidance has an unconditional model.

Exact resume: every random draw of a training micro-batch comes from a generator seeded by
(seed, process, micro-batch number) and every item from (seed, key), so a checkpoint needs only
the weights being trained, the optimizer, the LR schedule, the EMA and the step; accelerate
stores those (plus its RNG states) with `save_state`, and the data position follows from the
step. Checkpoints hold only the trained parameters, not the frozen backbone.

Modules: `config` (TrainConfig, reading and checking it), `parts` (the starting pipeline,
added and trainable parts), `objective` (Denoiser, EDM loss), `loop` (`train`),
`checkpoints` (save, resume), `validate` (the validation clip), `cli` (`main`).
"""

from animator.families.lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {  # training imports torch, diffusers, accelerate
    "checkpoints": ("DONE", "TRAINABLE_WEIGHTS", "TrainState", "latest_checkpoint"),
    "cli": ("main",),
    "config": ("PARTS", "TrainConfig", "check_config", "load_config"),
    "loop": ("FINAL", "train"),
    "objective": ("Denoiser", "clip_embeddings", "edm_loss"),
    "parts": ("Initial", "add_missing_parts", "load_initial", "trainable_parameters"),
})

__all__ = [
    "DONE",
    "FINAL",
    "PARTS",
    "TRAINABLE_WEIGHTS",
    "Denoiser",
    "Initial",
    "TrainConfig",
    "TrainState",
    "add_missing_parts",
    "check_config",
    "clip_embeddings",
    "edm_loss",
    "latest_checkpoint",
    "load_config",
    "load_initial",
    "main",
    "train",
    "trainable_parameters",
]
