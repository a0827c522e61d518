"""The training loop: accelerate set up, the model and data prepared, micro-batches
accumulated into optimizer steps, logs, checkpoints and validation on schedule, the final
pipeline saved. `train` reads as the list of those steps."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml
from accelerate import Accelerator
from accelerate.utils import ProjectConfiguration, gather_object
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from torch import nn

from animator.errors import InputError
from animator.families.svd.data import Clip, VideoDataset, collate, shard_batches
from animator.families.svd.models.unet import set_identity
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.presets import save_preset_json
from animator.families.svd.train.checkpoints import (
    TrainState,
    _checkpoint,
    resume_folder,
    save_only_trained,
)
from animator.families.svd.train.config import TrainConfig, check_config
from animator.families.svd.train.objective import Denoiser, _generator, _loss
from animator.families.svd.train.parts import (
    Initial,
    add_missing_parts,
    load_initial,
    trainable_parameters,
)
from animator.families.svd.train.validate import _validate

logger = logging.getLogger(__name__)

FINAL = "pipeline"  # the final save_pretrained folder inside output_dir
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass
class _Run:
    """One training run's working set, handed from step to step of `train`."""

    config: TrainConfig
    accelerator: Accelerator
    output_dir: Path
    weight_dtype: torch.dtype
    initial: Initial
    pipe: AnimationPipeline
    params: dict[str, nn.Parameter]
    model: nn.Module  # the Denoiser, wrapped by accelerate once prepared
    dataset: VideoDataset | None = None
    val_clip: Clip | None = None
    batches_per_epoch: int = 0
    optimizer: torch.optim.Optimizer | None = None
    lr_scheduler: object | None = None
    ema: EMAModel | None = None
    state: TrainState = field(default_factory=TrainState)
    rank_log: Path | None = None
    main_log: Path | None = None


def train(config: TrainConfig) -> Path:
    """Train as `config` says; returns the final pipeline folder (load it as local:<dir>)."""
    check_config(config)
    output_dir = Path(config.output_dir).expanduser()
    accelerator = _accelerator(config, output_dir)
    weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(
        accelerator.mixed_precision, torch.float32)
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "train_config.yaml").write_text(yaml.safe_dump(dataclasses.asdict(config)))
    resume = resume_folder(config.resume_from, output_dir)
    run = _prepare_model(config, accelerator, output_dir, weight_dtype)
    _load_data(run)
    _prepare_optimisation(run, resume)
    _open_logs(run)
    _loop(run)
    return _finish(run)


def _accelerator(config: TrainConfig, output_dir: Path) -> Accelerator:
    return Accelerator(
        cpu=not torch.cuda.is_available(),  # so that CPU processes join over gloo
        gradient_accumulation_steps=config.grad_accum,
        mixed_precision=config.mixed_precision or None,
        log_with=None if config.report_to == "none" else config.report_to,
        project_config=ProjectConfiguration(project_dir=str(output_dir),
                                            logging_dir=str(output_dir / "logs")),
    )


def _prepare_model(config: TrainConfig, accelerator: Accelerator, output_dir: Path,
                   weight_dtype: torch.dtype) -> _Run:
    """The starting pipeline with its missing parts, frozen but for the trained ones (kept in
    float32), on the device, and the Denoiser that trains them."""
    device = accelerator.device
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
    return _Run(config, accelerator, output_dir, weight_dtype, initial, pipe, params, model)


def _load_data(run: _Run) -> None:
    """The training clips (and the validation clip), refused when they cannot train the
    chosen parts or fill one batch per process."""
    config, accelerator, pipe = run.config, run.accelerator, run.pipe
    uses_dense = pipe.pose_encoder is not None and pipe.pose_encoder.dense is not None
    exclude = [config.val_video] if config.val_video else []
    data_kwargs = dict(num_frames=config.num_frames, stride=config.frame_stride,
                       height=config.height, width=config.width, seed=config.seed,
                       dense=uses_dense, face=run.initial.face if pipe.face_projector else None,
                       detector=_detector_factory(config), min_person=config.min_person,
                       notify=logger.warning, **_draw_kwargs(run.initial.draw))
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
    world, rank = accelerator.num_processes, accelerator.process_index
    batches_per_epoch = len(shard_batches(len(dataset), config.batch_size, world, rank,
                                          config.seed))
    if batches_per_epoch == 0:
        raise InputError(f"{len(dataset)} clips cannot fill one batch of {config.batch_size} "
                         f"on each of {world} processes: add videos or lower batch_size.")
    run.dataset, run.val_clip, run.batches_per_epoch = dataset, val_clip, batches_per_epoch


def _prepare_optimisation(run: _Run, resume: Path | None) -> None:
    """Optimizer, LR schedule and EMA under accelerate, checkpointed with the step; resumed
    from `resume` when given."""
    config, accelerator, params = run.config, run.accelerator, run.params
    world = accelerator.num_processes
    optimizer = _optimizer(config, list(params.values()))
    lr_scheduler = get_scheduler(config.lr_scheduler, optimizer,
                                 num_warmup_steps=config.lr_warmup_steps * world,
                                 num_training_steps=config.max_steps * world)
    run.model, run.optimizer, run.lr_scheduler = accelerator.prepare(run.model, optimizer,
                                                                     lr_scheduler)
    if config.ema:
        run.ema = EMAModel(list(params.values()), decay=config.ema_decay)
        run.ema.to(accelerator.device)
        accelerator.register_for_checkpointing(run.ema)
    accelerator.register_for_checkpointing(run.state)
    save_only_trained(accelerator, params, config.trainable)
    if resume is not None:
        accelerator.load_state(str(resume))
        logger.info("Resumed from %s at step %d.", resume, run.state.step)


def _open_logs(run: _Run) -> None:
    """Trackers, and the per-process and main loss logs cut back to the resumed step."""
    config, accelerator, output_dir = run.config, run.accelerator, run.output_dir
    if accelerator.is_main_process:
        accelerator.init_trackers("animator", config=_hparams(config))
    run.rank_log = output_dir / "logs" / f"rank{accelerator.process_index}.jsonl"
    run.main_log = output_dir / "train_log.jsonl"
    run.rank_log.parent.mkdir(parents=True, exist_ok=True)
    _trim_log(run.rank_log, run.state.step)
    if accelerator.is_main_process:
        _trim_log(run.main_log, run.state.step)
        dataset = run.dataset
        logger.info("%d clips from %d videos, %d skipped; %d batches per epoch per process; "
                    "training %d parameters (%s).", len(dataset), len(dataset.videos),
                    len(dataset.skipped), run.batches_per_epoch,
                    sum(p.numel() for p in run.params.values()), ", ".join(config.trainable))


def _loop(run: _Run) -> None:
    """Micro-batches until `max_steps` optimizer steps; the data position follows from the
    step, so a resumed run sees the batches it would have seen."""
    config, accelerator, state = run.config, run.accelerator, run.state
    device, rank = accelerator.device, accelerator.process_index
    world = accelerator.num_processes
    micro = state.step * config.grad_accum
    start = time.perf_counter()
    losses: list[float] = []
    keys: list[int] = []
    while state.step < config.max_steps:
        epoch, offset = divmod(micro, run.batches_per_epoch)
        batches = shard_batches(len(run.dataset), config.batch_size, world, rank, config.seed,
                                epoch)[offset:]
        loader = torch.utils.data.DataLoader(run.dataset, batch_sampler=batches,
                                             collate_fn=collate, num_workers=config.num_workers,
                                             pin_memory=device.type == "cuda")
        for batch in loader:
            loss = _micro_step(run, batch, micro)
            micro += 1
            losses.append(loss.detach().item())
            keys += batch["key"].tolist()
            state.skipped += batch["skipped"]
            if not accelerator.sync_gradients:
                continue
            state.step += 1
            if run.ema is not None:
                run.ema.step(run.params.values())
            _log_step(run, losses, keys, batch["skipped"], start)
            losses, keys = [], []
            last = state.step == config.max_steps
            _checkpoint_and_validate(run, last)
            if last:
                break


def _micro_step(run: _Run, batch: dict, micro: int) -> torch.Tensor:
    """One micro-batch's loss and backward pass (an optimizer step when accumulation is done)."""
    config, accelerator = run.config, run.accelerator
    device = accelerator.device
    generator = _generator(config.seed, accelerator.process_index,
                           0 if config.fixed_noise else micro, device)
    with accelerator.accumulate(run.model):
        loss = _loss(run.pipe, run.model, batch, config, generator, device, run.weight_dtype)
        accelerator.backward(loss)
        if accelerator.sync_gradients and config.max_grad_norm > 0:
            accelerator.clip_grad_norm_(run.params.values(), config.max_grad_norm)
        run.optimizer.step()
        run.lr_scheduler.step()
        run.optimizer.zero_grad(set_to_none=True)
    return loss


def _log_step(run: _Run, losses: list[float], keys: list[int], skipped: list[str],
              start: float) -> None:
    """This process's loss and clip keys to its log; the mean over processes to the main log,
    the trackers and the console."""
    accelerator, step = run.accelerator, run.state.step
    local = sum(losses) / len(losses)
    mean = accelerator.reduce(torch.tensor(local, device=accelerator.device), "mean").item()
    with run.rank_log.open("a") as f:
        f.write(json.dumps({"step": step, "loss": local, "keys": keys,
                            "skipped": skipped}) + "\n")
    if accelerator.is_main_process:
        lr = run.lr_scheduler.get_last_lr()[0]
        with run.main_log.open("a") as f:
            f.write(json.dumps({"step": step, "loss": mean, "lr": lr,
                                "seconds": round(time.perf_counter() - start, 3)}) + "\n")
        accelerator.log({"loss": mean, "lr": lr}, step=step)
        logger.info("step %d/%d  loss %.5f  lr %.3g", step, run.config.max_steps, mean, lr)


def _checkpoint_and_validate(run: _Run, last: bool) -> None:
    config, accelerator, step = run.config, run.accelerator, run.state.step
    if last or (config.checkpoint_every and step % config.checkpoint_every == 0):
        _checkpoint(accelerator, run.output_dir, step, config.checkpoints_total_limit)
    if config.validate_every and (last or step % config.validate_every == 0):
        if accelerator.is_main_process:
            _validate(run.pipe, run.model, run.val_clip, config, step, run.output_dir, run.ema,
                      run.params, run.weight_dtype)
        accelerator.wait_for_everyone()


def _finish(run: _Run) -> Path:
    """Report what was skipped, save the trained pipeline (EMA weights when kept) with its
    preset file and settings, and end accelerate's run."""
    config, accelerator, output_dir = run.config, run.accelerator, run.output_dir
    dataset, pipe, initial = run.dataset, run.pipe, run.initial
    skipped = [s for part in gather_object([run.state.skipped]) for s in part]
    final = output_dir / FINAL
    if accelerator.is_main_process:
        report = {"videos": dataset.skipped, "items": sorted(set(skipped))}
        (output_dir / "skipped.json").write_text(json.dumps(report, indent=1))
        if dataset.skipped or skipped:
            logger.warning("Skipped %d video(s) and %d clip load(s); see %s.",
                           len(dataset.skipped), len(skipped), output_dir / "skipped.json")
        if run.ema is not None:
            run.ema.copy_to(run.params.values())
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
    if accelerator.num_processes > 1:
        # gloo's worker thread still frees the last collectives' work right after they
        # complete, which needs the GIL; freeing the DDP model (its process group joins that
        # thread with the GIL held) before it has done so deadlocks the process at exit.
        # Sleeping lets the thread finish first.
        time.sleep(0.5)
    return final


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


def _trim_log(path: Path, step: int) -> None:
    """Drop log lines from after `step` (a run resumed from an earlier checkpoint)."""
    if path.is_file():
        lines = [line for line in path.read_text().splitlines()
                 if line and json.loads(line)["step"] <= step]
        path.write_text("".join(f"{line}\n" for line in lines))


def _hparams(config: TrainConfig) -> dict:
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v)
            for k, v in dataclasses.asdict(config).items()}


def _detector_factory(config: TrainConfig):
    def make():
        from animator.pose.detect import make_detector

        return make_detector(config.pose_backend, weights_dir=config.weights_dir or None,
                             allow_download=False, notify=logger.info)

    return make


def _draw_kwargs(draw: dict) -> dict:
    return {"style": draw["style"], "swap_rb": draw["swap_rb"], "draw_face": draw["face"]}
