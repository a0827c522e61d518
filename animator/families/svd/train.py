"""Fine-tuning the pose and identity controls (or the whole UNet) on your own videos.

No public checkpoint has the dense (geometry) pose branch or plain decoupled identity
attention; this trains them (and any other part) from a preset, with accelerate doing the
distributed work. Settings: `TrainConfig` (animator/families/svd/config.py), from a YAML file plus
`key=value` overrides. Data: a folder of videos (layout in animator/families/svd/data.py).

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

    # several CPU processes joined by gloo, on a machine without GPUs (train.py asks
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
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import difflib
import itertools
import json
import logging
import shutil
import sys
import time
import typing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import ProjectConfiguration, gather_object
from diffusers.optimization import SchedulerType, get_scheduler
from diffusers.pipelines.stable_video_diffusion.pipeline_stable_video_diffusion import (
    _resize_with_antialiasing,
)
from diffusers.training_utils import EMAModel
from safetensors.torch import load_file, save_file
from torch import nn

from animator.errors import InputError
from animator.families.svd.config import TrainConfig
from animator.families.svd.data import Clip, VideoDataset, collate, find_videos, shard_batches
from animator.families.svd.models.identity import MODES, FaceProjector
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.unet import identity_processors, pose_injector, set_identity
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.presets import Preset, save_preset_json
from animator.families.svd.weights import load_preset
from animator.video import side_by_side, write_video

logger = logging.getLogger(__name__)

PARTS = ("skeleton", "dense", "identity", "attention", "unet")
TRAINABLE_WEIGHTS = "trainable.safetensors"  # in each checkpoint folder
DONE = "checkpoint.json"  # written last: a checkpoint folder without it is incomplete
FINAL = "pipeline"  # the final save_pretrained folder inside output_dir
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}

__all__ = ["TrainConfig", "load_config", "main", "train"]


# ------------------------------------------------------------------------------------ config


def _coerce(name: str, value, kind) -> object:
    """A YAML or command-line value as the field's type; InputError names the field."""
    def bad() -> InputError:
        return InputError(f"{name}={value!r} is not a valid {getattr(kind, '__name__', kind)}.")

    if typing.get_origin(kind) is list:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise bad()
        return [str(v).strip() for v in items if str(v).strip()]
    if kind is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "yes", "on", "1", "false", "no", "off", "0"):
            return str(value).lower() in ("true", "yes", "on", "1")
        raise bad()
    if kind is str:
        return "" if value is None else str(value)
    if isinstance(value, bool):
        raise bad()
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad() from None
    if kind is int:
        if not number.is_integer():
            raise bad()
        return int(number)
    return number


def load_config(path: str | Path | None = None, overrides: typing.Sequence[str] = ()
                ) -> TrainConfig:
    """TrainConfig from a YAML mapping (optional) with `key=value` overrides applied on top."""
    values: dict = {}
    if path is not None:
        try:
            values = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise InputError(f"Could not read the config file {path}: {error}") from None
        if not isinstance(values, dict):
            raise InputError(f"The config file {path} must hold a mapping of setting: value.")
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise InputError(f"Overrides are key=value, got {item!r}.")
        values[key.strip()] = yaml.safe_load(text) if text.strip() else ""
    hints = typing.get_type_hints(TrainConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        close = {k: difflib.get_close_matches(k, hints, 1) for k in unknown}
        hint = "; ".join(f"{k} (did you mean {c[0]}?)" if c else k for k, c in close.items())
        raise InputError(f"Unknown training setting(s): {hint}. The settings are the fields of "
                         "TrainConfig in animator/families/svd/config.py.")
    return TrainConfig(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})


def check_config(config: TrainConfig) -> None:
    """Refuse settings that cannot work, before anything is loaded."""
    if not config.data_dir:
        raise InputError("Set data_dir: the folder of training videos.")
    unknown = sorted(set(config.trainable) - set(PARTS))
    if unknown or not config.trainable:
        raise InputError(f"trainable must list some of {', '.join(PARTS)}; got "
                         f"{config.trainable}.")
    if config.mixed_precision not in ("", "no", "fp16", "bf16"):
        raise InputError("mixed_precision must be no, fp16 or bf16 (or empty).")
    if config.save_dtype not in ("", *_DTYPES):
        raise InputError(f"save_dtype must be one of {', '.join(_DTYPES)} (or empty).")
    if config.identity_mode not in MODES:
        raise InputError(f"identity_mode must be one of {', '.join(MODES)}.")
    try:
        SchedulerType(config.lr_scheduler)
    except ValueError:
        raise InputError(f"Unknown lr_scheduler {config.lr_scheduler!r}; use one of "
                         f"{', '.join(t.value for t in SchedulerType)}.") from None
    if config.report_to not in ("tensorboard", "none"):
        raise InputError("report_to must be tensorboard or none.")
    if min(config.max_steps, config.batch_size, config.grad_accum) < 1:
        raise InputError("max_steps, batch_size and grad_accum must be at least 1.")
    for name in ("drop_image", "drop_pose", "drop_face"):
        if not 0 <= getattr(config, name) <= 1:
            raise InputError(f"{name} is a probability: give a value from 0 to 1.")
    find_videos(config.data_dir)  # a missing or empty folder fails now, not after loading


# ------------------------------------------------------------------------------------ model


@dataclass
class Initial:
    """What training starts from: the pipeline, how its skeletons are drawn, a face model."""

    preset: Preset
    pipeline: AnimationPipeline
    draw: dict  # draw_pose options: style, swap_rb, face
    face: object | None  # FaceEmbedder (or its model folder) for face caches; None = no faces


def load_initial(config: TrainConfig) -> Initial:
    """`init_from` as a float32 pipeline on the CPU, with the preset's drawing convention (the
    pose encoder must see skeletons drawn as it was trained) and its face model."""
    loaded = load_preset(config.init_from, device="cpu", dtype=torch.float32,
                         weights_dir=config.weights_dir or None)
    preset = loaded.preset
    # Face points included: the app (animate.py) draws its driving skeletons that way.
    draw = {"style": preset.style, "swap_rb": preset.swap_rb, "face": True}
    face = loaded.face
    if config.face_model_dir:  # in the channel order the preset's face embeddings had
        from animator.face import FaceEmbedder

        face = FaceEmbedder(config.face_model_dir, channels=preset.face_channels)
    return Initial(preset, loaded.pipeline, draw, face)


def add_missing_parts(pipe: AnimationPipeline, parts: typing.Collection[str],
                      identity_mode: str) -> AnimationPipeline:
    """The pipeline with a fresh (zero-effect) module for every part asked to be trained
    that the preset lacks: a pose-encoder branch, or the face projector and identity
    attention. Existing weights are kept."""
    encoder, projector = pipe.pose_encoder, pipe.face_projector
    branches = {b for b in ("skeleton", "dense") if b in parts}
    if encoder is not None:
        branches |= {b for b in ("skeleton", "dense") if getattr(encoder, b) is not None}
    if branches and (encoder is None or any(getattr(encoder, b) is None for b in branches)):
        old = encoder
        kwargs = dict(old.config) if old is not None else {}
        kwargs = {k: v for k, v in kwargs.items() if not k.startswith("_")}
        kwargs.update(out_channels=pipe.unet.config.block_out_channels[0],
                      with_skeleton="skeleton" in branches, with_dense="dense" in branches)
        encoder = FusedPoseEncoder(**kwargs)
        if old is not None:  # only the new branch is missing
            encoder.load_state_dict(old.state_dict(), strict=False)
    mode = pipe.config.identity_mode
    if "identity" in parts and projector is None:
        dim = pipe.unet.config.cross_attention_dim
        projector = FaceProjector(cross_attention_dim=dim,
                                  clip_embeddings_dim=pipe.image_encoder.config.projection_dim,
                                  heads=max(1, dim // 64), dim_head=64)
        mode = identity_mode
    if encoder is pipe.pose_encoder and projector is pipe.face_projector:
        return pipe
    return AnimationPipeline(vae=pipe.vae, image_encoder=pipe.image_encoder, unet=pipe.unet,
                             scheduler=pipe.scheduler, feature_extractor=pipe.feature_extractor,
                             pose_encoder=encoder, face_projector=projector, identity_mode=mode)


def trainable_parameters(pipe: AnimationPipeline, parts: typing.Collection[str]
                         ) -> dict[str, nn.Parameter]:
    """Switch requires_grad on for `parts` only; their parameters by pipeline-level name."""
    chosen: dict[str, nn.Parameter] = {}

    def take(prefix: str, module: nn.Module | None) -> None:
        if module is not None:
            chosen.update({f"{prefix}.{k}": p for k, p in module.named_parameters()})

    for module in (pipe.unet, pipe.pose_encoder, pipe.face_projector, pipe.vae,
                   pipe.image_encoder):
        if module is not None:
            module.requires_grad_(False)
    if "unet" in parts:
        take("unet", pipe.unet)
    if "attention" in parts:
        for name, module in pipe.unet.named_modules():
            if name.endswith((".attn1", ".attn2")):
                take(f"unet.{name}", module)
    if "identity" in parts:
        take("face_projector", pipe.face_projector)
        for prefix, proc in identity_processors(pipe.unet).items():
            take(f"unet.{prefix}", proc)
    for branch in ("skeleton", "dense"):
        if branch in parts:
            take(f"pose_encoder.{branch}", getattr(pipe.pose_encoder, branch))
    for param in chosen.values():
        param.requires_grad_(True)
    return chosen


class Denoiser(nn.Module):
    """UNet + pose encoder + face projector as one module (one DDP wrapper): noisy latents
    and conditions in, the EDM-preconditioned denoised latents D out (see the module
    docstring). `keep_*` (B,) are 1 for kept and 0 for dropped conditions."""

    def __init__(self, unet: nn.Module, pose_encoder: nn.Module | None,
                 face_projector: nn.Module | None):
        super().__init__()
        self.unet, self.pose_encoder, self.face_projector = unet, pose_encoder, face_projector

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor, image_latent: torch.Tensor,
                clip: torch.Tensor, time_ids: torch.Tensor, keep_image: torch.Tensor,
                skeleton: torch.Tensor | None = None, dense: torch.Tensor | None = None,
                keep_pose: torch.Tensor | None = None, face: torch.Tensor | None = None,
                keep_face: torch.Tensor | None = None) -> torch.Tensor:
        b, f = noisy.shape[:2]
        s = sigma.view(-1, 1, 1, 1, 1)
        c_in, c_skip, c_out = (s**2 + 1) ** -0.5, 1 / (s**2 + 1), -s * (s**2 + 1) ** -0.5
        image = (image_latent * keep_image.view(-1, 1, 1, 1))[:, None].expand(-1, f, -1, -1, -1)
        sample = torch.cat([noisy * c_in, image.to(noisy.dtype)], dim=2)
        context = clip * keep_image.view(-1, 1, 1)
        if self.face_projector is not None:
            # Computed (then zeroed) even when dropped, so every process uses every parameter.
            tokens = self.face_projector(face, clip) * keep_face.view(-1, 1, 1)
            context = torch.cat([context, tokens.to(context.dtype)], dim=1)
        features = None
        if self.pose_encoder is not None:
            features = self.pose_encoder(
                None if skeleton is None else skeleton.flatten(0, 1),
                None if dense is None else dense.flatten(0, 1))
            features = features.unflatten(0, (b, f)) * keep_pose.view(-1, 1, 1, 1, 1)
        injector = pose_injector(self.unet)
        with injector.use(features) if injector is not None else contextlib.nullcontext():
            out = self.unet(sample, 0.25 * sigma.log(), encoder_hidden_states=context,
                            added_time_ids=time_ids, return_dict=False)[0]
        return c_skip * noisy + c_out * out.to(noisy.dtype)


def edm_loss(denoised: torch.Tensor, latents: torch.Tensor, sigma: torch.Tensor
             ) -> torch.Tensor:
    """EDM's weighting (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 with sigma_data = 1."""
    weight = (sigma**2 + 1) / sigma**2
    error = (denoised.float() - latents.float()).pow(2).flatten(1).mean(1)
    return (weight * error).mean()


def clip_embeddings(pipe: AnimationPipeline, pixels: torch.Tensor) -> torch.Tensor:
    """CLIP image tokens (B, 1, D) of images (B, 3, H, W) in [-1, 1], preprocessed as the
    pipeline does (antialiased resize to 224, CLIP normalisation)."""
    x = (_resize_with_antialiasing(pixels, (224, 224)) + 1.0) / 2.0
    mean = torch.tensor(pipe.feature_extractor.image_mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(pipe.feature_extractor.image_std, device=x.device).view(1, 3, 1, 1)
    x = ((x - mean) / std).to(pipe.image_encoder.dtype)
    return pipe.image_encoder(x).image_embeds[:, None]


def _generator(seed: int, rank: int, micro: int, device: torch.device) -> torch.Generator:
    state = np.random.SeedSequence([seed, rank, micro]).generate_state(2, np.uint64)
    return torch.Generator(device).manual_seed(int(state[0] >> np.uint64(1)))


def _pixels(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    return x.to(device, non_blocking=True).float() / 127.5 - 1.0


# ------------------------------------------------------------------------------------ state


class TrainState:
    """What accelerate cannot know: the step and the failures met so far."""

    def __init__(self):
        self.step = 0
        self.skipped: list[str] = []

    def state_dict(self) -> dict:
        return {"step": self.step, "skipped": list(self.skipped)}

    def load_state_dict(self, state: dict) -> None:
        self.step, self.skipped = int(state["step"]), list(state["skipped"])


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint folder."""
    done = sorted((output_dir / "checkpoints").glob(f"step_*/{DONE}"))
    return done[-1].parent if done else None


def _trim_log(path: Path, step: int) -> None:
    """Drop log lines from after `step` (a run resumed from an earlier checkpoint)."""
    if path.is_file():
        lines = [line for line in path.read_text().splitlines()
                 if line and json.loads(line)["step"] <= step]
        path.write_text("".join(f"{line}\n" for line in lines))


def _hparams(config: TrainConfig) -> dict:
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v)
            for k, v in dataclasses.asdict(config).items()}


# ------------------------------------------------------------------------------------ training


def train(config: TrainConfig) -> Path:
    """Train as `config` says; returns the final pipeline folder (load it as local:<dir>)."""
    check_config(config)
    output_dir = Path(config.output_dir).expanduser()
    accelerator = Accelerator(
        cpu=not torch.cuda.is_available(),  # so that CPU processes join over gloo
        gradient_accumulation_steps=config.grad_accum,
        mixed_precision=config.mixed_precision or None,
        log_with=None if config.report_to == "none" else config.report_to,
        project_config=ProjectConfiguration(project_dir=str(output_dir),
                                            logging_dir=str(output_dir / "logs")),
    )
    device, rank, world = accelerator.device, accelerator.process_index, accelerator.num_processes
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(
        accelerator.mixed_precision, torch.float32)
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "train_config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(config)))

    resume = None
    if config.resume_from == "latest":
        resume = latest_checkpoint(output_dir)
        if resume is None:
            logger.info("No checkpoint in %s yet: starting fresh.", output_dir)
    elif config.resume_from:
        resume = Path(config.resume_from).expanduser()
        if not (resume / DONE).is_file():
            raise InputError(f"{resume} is not a complete checkpoint (no {DONE}): give a "
                             f"folder under {output_dir / 'checkpoints'} or resume_from=latest.")
    elif latest_checkpoint(output_dir) is not None:
        raise InputError(f"{output_dir} holds checkpoints of an earlier run: add "
                         "resume_from=latest to continue it, or choose a new output_dir.")

    # --- model -----------------------------------------------------------------------------
    initial = load_initial(config)
    pipe = add_missing_parts(initial.pipeline, config.trainable, config.identity_mode)
    params = trainable_parameters(pipe, config.trainable)
    for module in (pipe.vae, pipe.image_encoder, pipe.unet):
        module.to(device)
        if weight_dtype != torch.float32:
            module.to(dtype=weight_dtype)
    for param in params.values():  # trained weights stay float32 under mixed precision
        param.data = param.data.float()
    set_identity(pipe.unet, strength=1.0)
    if config.gradient_checkpointing:
        pipe.unet.enable_gradient_checkpointing()
    pipe.vae.eval()
    pipe.image_encoder.eval()
    pipe.set_progress_bar_config(disable=True)
    model = Denoiser(pipe.unet, pipe.pose_encoder, pipe.face_projector).to(device).train()
    uses_dense = pipe.pose_encoder is not None and pipe.pose_encoder.dense is not None

    # --- data ------------------------------------------------------------------------------
    exclude = [config.val_video] if config.val_video else []
    data_kwargs = dict(num_frames=config.num_frames, stride=config.frame_stride,
                       height=config.height, width=config.width, seed=config.seed,
                       dense=uses_dense, face=initial.face if pipe.face_projector else None,
                       detector=_detector_factory(config), min_person=config.min_person,
                       notify=logger.warning, **_draw_kwargs(initial.draw))
    with accelerator.main_process_first():  # the main process detects; the others read caches
        dataset = VideoDataset(config.data_dir, clip_step=config.clip_step, crop=config.crop,
                               exclude=exclude, **data_kwargs)
        val_clip = None
        if config.validate_every and accelerator.is_main_process:
            source = (VideoDataset(config.val_video, **{**data_kwargs, "min_person": 0.0})
                      if config.val_video else dataset)
            val_clip = source.clip(0)
    if "identity" in config.trainable and not any(v.face.any() for v in dataset.videos):
        raise InputError("Training identity needs face embeddings, and no video has one: set "
                         "face_model_dir to an insightface model folder (e.g. antelopev2), or "
                         "leave identity out of trainable.")
    batches_per_epoch = len(shard_batches(len(dataset), config.batch_size, world, rank,
                                          config.seed))
    if batches_per_epoch == 0:
        raise InputError(f"{len(dataset)} clips cannot fill one batch of {config.batch_size} "
                         f"on each of {world} processes: add videos or lower batch_size.")

    # --- optimisation ------------------------------------------------------------------------
    optimizer = _optimizer(config, list(params.values()))
    lr_scheduler = get_scheduler(config.lr_scheduler, optimizer,
                                 num_warmup_steps=config.lr_warmup_steps * world,
                                 num_training_steps=config.max_steps * world)
    model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)
    ema = None
    if config.ema:
        ema = EMAModel(list(params.values()), decay=config.ema_decay)
        ema.to(device)
        accelerator.register_for_checkpointing(ema)
    state = TrainState()
    accelerator.register_for_checkpointing(state)

    def save_weights(models, weights, folder) -> None:
        if accelerator.is_main_process:
            save_file({k: p.detach().float().cpu().contiguous() for k, p in params.items()},
                      str(Path(folder) / TRAINABLE_WEIGHTS))
        weights.clear()  # the frozen backbone is not copied into every checkpoint

    def load_weights(models, folder) -> None:
        saved = load_file(str(Path(folder) / TRAINABLE_WEIGHTS))
        if saved.keys() != params.keys():
            raise InputError(f"The checkpoint {folder} trained other parts than these settings "
                             f"(trainable={config.trainable}): resume with the same settings.")
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(saved[k])
        models.clear()

    accelerator.register_save_state_pre_hook(save_weights)
    accelerator.register_load_state_pre_hook(load_weights)
    if resume is not None:
        accelerator.load_state(str(resume))
        logger.info("Resumed from %s at step %d.", resume, state.step)

    if accelerator.is_main_process:
        accelerator.init_trackers("animator", config=_hparams(config))
    rank_log = output_dir / "logs" / f"rank{rank}.jsonl"
    main_log = output_dir / "train_log.jsonl"
    rank_log.parent.mkdir(parents=True, exist_ok=True)
    _trim_log(rank_log, state.step)
    if accelerator.is_main_process:
        _trim_log(main_log, state.step)
        logger.info("%d clips from %d videos, %d skipped; %d batches per epoch per process; "
                    "training %d parameters (%s).", len(dataset), len(dataset.videos),
                    len(dataset.skipped), batches_per_epoch,
                    sum(p.numel() for p in params.values()), ", ".join(config.trainable))

    # --- loop --------------------------------------------------------------------------------
    micro = state.step * config.grad_accum
    start = time.perf_counter()
    losses: list[float] = []
    keys: list[int] = []
    while state.step < config.max_steps:
        epoch, offset = divmod(micro, batches_per_epoch)
        batches = shard_batches(len(dataset), config.batch_size, world, rank, config.seed,
                                epoch)[offset:]
        loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, collate_fn=collate,
                                             num_workers=config.num_workers,
                                             pin_memory=device.type == "cuda")
        for batch in loader:
            generator = _generator(config.seed, rank, 0 if config.fixed_noise else micro, device)
            with accelerator.accumulate(model):
                loss = _loss(pipe, model, batch, config, generator, device, weight_dtype)
                accelerator.backward(loss)
                if accelerator.sync_gradients and config.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(params.values(), config.max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            micro += 1
            losses.append(loss.detach().item())
            keys += batch["key"].tolist()
            state.skipped += batch["skipped"]
            if not accelerator.sync_gradients:
                continue
            state.step += 1
            if ema is not None:
                ema.step(params.values())
            local = sum(losses) / len(losses)
            mean = accelerator.reduce(torch.tensor(local, device=device), "mean").item()
            with rank_log.open("a") as f:
                f.write(json.dumps({"step": state.step, "loss": local, "keys": keys,
                                    "skipped": batch["skipped"]}) + "\n")
            if accelerator.is_main_process:
                lr = lr_scheduler.get_last_lr()[0]
                with main_log.open("a") as f:
                    f.write(json.dumps({"step": state.step, "loss": mean, "lr": lr,
                                        "seconds": round(time.perf_counter() - start, 3)})
                            + "\n")
                accelerator.log({"loss": mean, "lr": lr}, step=state.step)
                logger.info("step %d/%d  loss %.5f  lr %.3g", state.step, config.max_steps,
                            mean, lr)
            losses, keys = [], []
            last = state.step == config.max_steps
            if last or (config.checkpoint_every and state.step % config.checkpoint_every == 0):
                _checkpoint(accelerator, output_dir, state.step, config.checkpoints_total_limit)
            if config.validate_every and (last or state.step % config.validate_every == 0):
                if accelerator.is_main_process:
                    _validate(pipe, model, val_clip, config, state.step, output_dir, ema,
                              params, weight_dtype)
                accelerator.wait_for_everyone()
            if last:
                break

    # --- the result ------------------------------------------------------------------------
    skipped = [s for part in gather_object([state.skipped]) for s in part]
    final = output_dir / FINAL
    if accelerator.is_main_process:
        report = {"videos": dataset.skipped, "items": sorted(set(skipped))}
        (output_dir / "skipped.json").write_text(json.dumps(report, indent=1))
        if dataset.skipped or skipped:
            logger.warning("Skipped %d video(s) and %d clip load(s); see %s.",
                           len(dataset.skipped), len(skipped), output_dir / "skipped.json")
        if ema is not None:
            ema.copy_to(params.values())
        set_identity(pipe.unet, strength=1.0)
        if config.save_dtype:
            pipe.to(dtype=_DTYPES[config.save_dtype])
        if final.exists():
            shutil.rmtree(final)
        pipe.save_pretrained(final)
        save_preset_json(dataclasses.replace(
            initial.preset, description=f"Fine-tuned from {initial.preset.name} by "
            f"python -m animator train ({', '.join(config.trainable)})"), final)
        (final / "train_config.yaml").write_text(yaml.safe_dump(
            {**dataclasses.asdict(config), "draw": initial.draw}))
        logger.info("Saved the trained pipeline to %s (load it as local:%s).", final, final)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def _loss(pipe: AnimationPipeline, model: nn.Module, batch: dict, config: TrainConfig,
          generator: torch.Generator, device: torch.device, weight_dtype: torch.dtype
          ) -> torch.Tensor:
    """One micro-batch's EDM loss; every random draw comes from `generator`, in a fixed order."""
    frames = _pixels(batch["frames"], device)  # (B, F, 3, H, W)
    reference = _pixels(batch["reference"], device)
    b, f = frames.shape[:2]

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=generator, device=device)

    with torch.no_grad():
        dist = pipe.vae.encode(frames.flatten(0, 1).to(weight_dtype)).latent_dist
        latents = dist.sample(generator=generator).float() * pipe.vae.config.scaling_factor
        latents = latents.unflatten(0, (b, f))
        augmented = reference + config.noise_aug_strength * randn(*reference.shape)
        image_latent = pipe.vae.encode(augmented.to(weight_dtype)).latent_dist.mode().float()
        clip = clip_embeddings(pipe, reference).float()
    sigma = (config.p_mean + config.p_std * randn(b)).exp()
    noise = randn(*latents.shape)
    draws = torch.rand((3, b), generator=generator, device=device)
    keep_image = (draws[0] >= config.drop_image).float()
    keep_pose = (draws[1] >= config.drop_pose).float()
    keep_face = ((draws[2] >= config.drop_face) & batch["has_face"].to(device)).float()
    fps = (batch["fps"].to(device).float().round() if config.fps == 0 else
           torch.full((b,), float(config.fps), device=device))
    time_ids = torch.stack([fps - 1, torch.full_like(fps, config.motion_bucket_id),
                            torch.full_like(fps, config.noise_aug_strength)], dim=1)
    skeleton = _pixels(batch["skeleton"], device)
    dense = _pixels(batch["dense"], device) if "dense" in batch else None
    denoised = model(latents + sigma.view(-1, 1, 1, 1, 1) * noise, sigma, image_latent, clip,
                     time_ids, keep_image, skeleton=skeleton, dense=dense, keep_pose=keep_pose,
                     face=batch["face"].to(device), keep_face=keep_face)
    return edm_loss(denoised, latents, sigma)


def _optimizer(config: TrainConfig, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    kwargs = dict(lr=config.learning_rate, betas=(config.adam_beta1, config.adam_beta2),
                  weight_decay=config.adam_weight_decay, eps=config.adam_epsilon)
    if not config.use_8bit_adam:
        return torch.optim.AdamW(params, **kwargs)
    try:
        import bitsandbytes as bnb
    except ImportError:
        raise InputError("use_8bit_adam needs bitsandbytes: `pip install bitsandbytes`, or "
                         "set use_8bit_adam=false.") from None
    return bnb.optim.AdamW8bit(params, **kwargs)


def _checkpoint(accelerator: Accelerator, output_dir: Path, step: int, limit: int) -> None:
    """save_state into checkpoints/step_N, mark it complete, drop the oldest beyond `limit`."""
    folder = output_dir / "checkpoints" / f"step_{step:08d}"
    accelerator.save_state(str(folder))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (folder / DONE).write_text(json.dumps({"step": step}))
        if limit:
            done = sorted((output_dir / "checkpoints").glob(f"step_*/{DONE}"))
            for old in done[:-limit]:
                shutil.rmtree(old.parent)


@torch.no_grad()
def _validate(pipe: AnimationPipeline, model: nn.Module, clip: Clip, config: TrainConfig,
              step: int, output_dir: Path, ema: EMAModel | None, params: dict,
              dtype: torch.dtype) -> Path:
    """Animate the validation clip's reference along its poses; write truth | pose | output."""
    if ema is not None:
        ema.store(params.values())
        ema.copy_to(params.values())
    model.eval()
    try:
        with _one_dtype(pipe, dtype):
            frames = pipe(
                clip.reference, clip.skeleton,
                dense=clip.dense if pipe.pose_encoder is not None else None,
                face_embedding=clip.face if pipe.face_projector is not None and clip.face.any()
                else None,
                num_inference_steps=config.val_steps, min_guidance_scale=config.val_guidance,
                max_guidance_scale=config.val_guidance,
                fps=config.fps or max(1, round(clip.fps)),
                motion_bucket_id=config.motion_bucket_id,
                noise_aug_strength=config.noise_aug_strength, seed=config.seed,
                window=len(clip.frames), overlap=0).frames
    finally:
        set_identity(pipe.unet, strength=1.0)
        model.train()
        if ema is not None:
            ema.restore(params.values())
    path = output_dir / "validation" / f"step_{step:08d}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_video((side_by_side(*views) for views in zip(clip.frames, clip.skeleton, frames,
                                                       strict=True)), path, clip.fps)
    logger.info("Validation clip: %s", path)
    return path


@contextlib.contextmanager
def _one_dtype(pipe: AnimationPipeline, dtype: torch.dtype):
    """The whole pipeline in `dtype` for sampling (under mixed precision the trained weights
    are float32 and the rest half precision, which the pipeline does not mix); afterwards every
    tensor the cast replaced is put back, so the float32 masters are untouched."""
    modules = [m for m in pipe.components.values() if isinstance(m, nn.Module)]
    kept = {t: t.data for m in modules for t in itertools.chain(m.parameters(), m.buffers())
            if t.is_floating_point() and t.dtype != dtype}
    pipe.to(dtype=dtype)
    try:
        yield
    finally:
        for tensor, data in kept.items():
            tensor.data = data


def _detector_factory(config: TrainConfig):
    def make():
        from animator.pose.detect import make_detector

        return make_detector(config.pose_backend, weights_dir=config.weights_dir or None,
                             allow_download=False, notify=logger.info)

    return make


def _draw_kwargs(draw: dict) -> dict:
    return {"style": draw["style"], "swap_rb": draw["swap_rb"], "draw_face": draw["face"]}


# ------------------------------------------------------------------------------------ CLI


def main(argv: typing.Sequence[str] | None = None) -> int:
    """`python -m animator train --config train.yaml key=value ...`"""
    parser = argparse.ArgumentParser(prog="python -m animator train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file of TrainConfig fields")
    parser.add_argument("overrides", nargs="*", help="key=value settings applied on top")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        final = train(load_config(args.config, args.overrides))
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())
