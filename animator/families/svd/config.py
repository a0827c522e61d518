"""The SVD family's settings: sampling (`GenerationConfig`) and training (`TrainConfig`),
one commented default per field."""

from __future__ import annotations

from dataclasses import dataclass, field

from animator.errors import InputError


@dataclass
class GenerationConfig:
    """Sampling options of `AnimationPipeline`; field names are its keyword arguments."""

    height: int = 1024  # output height in pixels, a multiple of 8 (MimicMotion's portrait size)
    width: int = 576  # output width in pixels, a multiple of 8
    num_inference_steps: int = 25  # Euler (EDM) denoising steps
    min_guidance_scale: float = 2.0  # CFG scale at a window's first frame (ramps per frame)
    max_guidance_scale: float = 2.0  # CFG scale at a window's last frame; <= 1 turns CFG off
    fps: int = 7  # frame-rate micro-conditioning; SVD was trained on fps - 1
    motion_bucket_id: int = 127  # SVD motion micro-conditioning
    noise_aug_strength: float = 0.02  # noise added to the reference image before encoding
    seed: int | None = 42  # None = a different result every run
    window: int = 16  # frames denoised together (the reference-pose anchor included)
    overlap: int = 4  # frames shared by neighbouring windows, blended every step
    decode_chunk_size: int = 8  # frames the VAE decodes at once (memory vs flicker)
    cfg_mode: str = "batched"  # "batched" (faster) or "sequential" (half the activations)
    pose_strength: float = 1.0  # multiplier on the pose features; 0 = no pose control
    identity_strength: float = 1.0  # weight of the face-token attention; 0 = no identity
    continuation: bool = False  # windows one after another, each from the previous last frame
    window_noise: str = "independent"  # "independent" noise per frame, or "repeat": one window's
    # noise tiled along the clip (frame i gets frame i mod window's), as the public SVD animators
    generator_device: str = "cpu"  # where a seed's noise is drawn: "cpu" (same noise on any
    # machine), "cuda" (as the public scripts; needs the model on CUDA) or "auto" (the model's)
    sigma_schedule: str = "default"  # "default" (the scheduler's own spacing) or "ays" (Align
    # Your Steps for SVD: 10 steps; other step counts log-linearly interpolated)

    def __post_init__(self):
        for name, allowed in GENERATION_CHOICES.items():
            if getattr(self, name) not in allowed:
                raise InputError(f"{name} must be one of {', '.join(map(repr, allowed))}, got "
                                 f"{getattr(self, name)!r}.")


GENERATION_CHOICES = {  # the values a GenerationConfig's choice fields accept
    "cfg_mode": ("batched", "sequential"),
    "window_noise": ("independent", "repeat"),
    "generator_device": ("cpu", "cuda", "auto"),
    "sigma_schedule": ("default", "ays"),
}


@dataclass
class TrainConfig:
    """Fine-tuning (families/svd/train.py). YAML keys and `key=value` overrides use these names."""

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
