"""Training settings: `TrainConfig` (one commented default per field), read from a YAML
file plus `key=value` overrides (`load_config`) and refused before anything loads when they
cannot work (`check_config`)."""

from __future__ import annotations

import difflib
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

from animator.datafiles import parse_yaml, read_yaml
from animator.errors import InputError
from animator.families.svd.videos import find_videos

PARTS = ("skeleton", "dense", "identity", "attention", "unet")

MAX_CONFIG_BYTES = 1 << 20  # a config is a few dozen lines
SAVE_DTYPES = ("fp32", "fp16", "bf16")


@dataclass
class TrainConfig:
    """Fine-tuning (families/svd/train/). YAML keys and `key=value` overrides use these names."""

    # data
    data_dir: str = ""  # folder of training videos (layout: families/svd/data.py); required
    output_dir: str = "runs/animator"  # checkpoints, logs, validation clips, final pipeline
    init_from: str = "tiny"  # starting weights: a preset name, "local:<dir>" or "tiny"
    weights_dir: str = ""  # folder where preset and detector weights live ("" = default)
    num_frames: int = 14  # frames per training clip
    frame_stride: int = 2  # take every n-th video frame inside a clip
    clip_step: int = 0  # video frames between clip starts; 0 = clips back to back
    height: int = 512  # training height (multiple of 8); frames are scaled to cover, cropped
    width: int = 512  # training width (multiple of 8)
    crop: str = "center"  # "center" or "random" crop after scaling
    min_person: float = 0.5  # fraction of a clip's frames that must show the person
    pose_backend: str = "mediapipe"  # detector for poses not yet cached: mediapipe/dwpose/auto
    face_model_dir: str = ""  # insightface model folder; "" = the preset's face model, if any
    num_workers: int = 2  # DataLoader worker processes per training process
    # what to train
    # parts: skeleton, dense (pose encoder branches), identity (face projector + identity
    # attention), attention (every UNet attention layer), unet (the whole UNet)
    trainable: list[str] = field(default_factory=lambda: ["dense", "identity"])  # parts to train
    identity_mode: str = "sum"  # "sum" or "normalized" when identity is added to a preset
    # objective: SVD's EDM with v-prediction
    p_mean: float = 0.7  # log sigma ~ Normal(p_mean, p_std)
    p_std: float = 1.6  # spread of log sigma
    noise_aug_strength: float = 0.02  # noise on the reference before encoding (also a time id)
    fps: int = 7  # frame-rate time id is fps - 1, as the app samples; 0 = each clip's own rate
    motion_bucket_id: int = 127  # motion micro-conditioning (time id)
    drop_image: float = 0.1  # chance of a zero CLIP token and reference latent (for CFG)
    drop_pose: float = 0.05  # chance of no pose features
    drop_face: float = 0.1  # chance of zero face tokens
    fixed_noise: bool = False  # same sigma, noise and drops every step (overfit checks)
    # optimisation
    max_steps: int = 10000  # optimizer steps
    batch_size: int = 1  # clips per process in a micro-batch
    grad_accum: int = 1  # micro-batches per optimizer step
    learning_rate: float = 1e-5  # peak learning rate
    lr_scheduler: str = "constant_with_warmup"  # a diffusers.optimization schedule name
    lr_warmup_steps: int = 500  # linear warm-up steps
    adam_beta1: float = 0.9  # AdamW beta1
    adam_beta2: float = 0.999  # AdamW beta2
    adam_weight_decay: float = 1e-2  # AdamW weight decay
    adam_epsilon: float = 1e-8  # AdamW epsilon
    max_grad_norm: float = 1.0  # gradient clipping norm; 0 = off
    use_8bit_adam: bool = False  # bitsandbytes AdamW8bit (needs `pip install bitsandbytes`)
    gradient_checkpointing: bool = False  # recompute UNet activations: less memory, slower
    mixed_precision: str = ""  # "no", "fp16" or "bf16"; "" = accelerate launch's setting
    ema: bool = False  # keep an exponential moving average of the trained weights
    ema_decay: float = 0.9999  # EMA decay per step
    seed: int = 0  # seeds data order, crops, noise: everything random
    # checkpoints, validation, logs
    checkpoint_every: int = 500  # steps between checkpoints (one is always saved at the end)
    checkpoints_total_limit: int = 3  # keep this many newest checkpoints; 0 = keep all
    resume_from: str = ""  # "latest" (in output_dir) or a checkpoint folder; "" = fresh start
    validate_every: int = 500  # steps between validation clips; 0 = never
    val_video: str = ""  # held-out video (left out of training); "" = the first training clip
    val_steps: int = 25  # denoising steps of the validation clip
    val_guidance: float = 2.0  # CFG scale of the validation clip
    report_to: str = "tensorboard"  # "tensorboard" or "none"
    save_dtype: str = ""  # dtype of the final pipeline: "", fp32, fp16 or bf16 ("" = as trained)


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
    if not math.isfinite(number):  # NaN would pass every range check after this
        raise bad()
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
        values = read_yaml(path, max_bytes=MAX_CONFIG_BYTES, what="config file") or {}
        if not isinstance(values, dict):
            raise InputError(f"The config file {path} must hold a mapping of setting: value.")
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise InputError(f"Overrides are key=value, got {item!r}.")
        values[key.strip()] = parse_yaml(text, f"The override {item!r}") if text.strip() \
            else ""
    hints = typing.get_type_hints(TrainConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        close = {k: difflib.get_close_matches(k, hints, 1) for k in unknown}
        hint = "; ".join(f"{k} (did you mean {c[0]}?)" if c else k for k, c in close.items())
        raise InputError(f"Unknown training setting(s): {hint}. The settings are the fields of "
                         "TrainConfig in animator/families/svd/train/config.py.")
    return TrainConfig(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})


def check_config(config: TrainConfig) -> None:
    """Refuse settings that cannot work, before anything is loaded (the data folder first,
    the most common slip, before the checks that import torch)."""
    if not config.data_dir:
        raise InputError("Set data_dir: the folder of training videos.")
    find_videos(config.data_dir)  # a missing or empty folder fails now, not after loading
    unknown = sorted(set(config.trainable) - set(PARTS))
    if unknown or not config.trainable:
        raise InputError(f"trainable must list some of {', '.join(PARTS)}; got "
                         f"{config.trainable}.")
    if config.mixed_precision not in ("", "no", "fp16", "bf16"):
        raise InputError("mixed_precision must be no, fp16 or bf16 (or empty).")
    if config.save_dtype not in ("", *SAVE_DTYPES):
        raise InputError(f"save_dtype must be one of {', '.join(SAVE_DTYPES)} (or empty).")
    if config.report_to not in ("tensorboard", "none"):
        raise InputError("report_to must be tensorboard or none.")
    if min(config.max_steps, config.batch_size, config.grad_accum) < 1:
        raise InputError("max_steps, batch_size and grad_accum must be at least 1.")
    for name in ("drop_image", "drop_pose", "drop_face"):
        if not 0 <= getattr(config, name) <= 1:
            raise InputError(f"{name} is a probability: give a value from 0 to 1.")
    from diffusers.optimization import SchedulerType  # these two bring torch

    from animator.families.svd.models.identity import MODES

    if config.identity_mode not in MODES:
        raise InputError(f"identity_mode must be one of {', '.join(MODES)}.")
    try:
        SchedulerType(config.lr_scheduler)
    except ValueError:
        raise InputError(f"Unknown lr_scheduler {config.lr_scheduler!r}; use one of "
                         f"{', '.join(t.value for t in SchedulerType)}.") from None
