"""The Wan family's presets: which files make `wan-animate`, their terms, sizes and defaults.

Facts from the model card and Wan2.2's `wan/configs/wan_animate_14B.py` (see
shared/reference/wan_animate.md): 77 frames per segment, 20 steps, guidance 1.0, sample
shift 5, 30 fps, one frame carried between segments; generation at the area of 1280x720
(or 832x480) in the portrait's aspect, sides divisible by 16. The `fast` option's LoRA and
its sampling are LightX2V's `wan_animate_lora.json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from animator.errors import InputError
from animator.families import hub

ANIMATE_REPO = "Wan-AI/Wan2.2-Animate-14B-Diffusers"
LORA_REPO = "lightx2v/Wan2.1-Distill-Loras"
LORA_FILE = "wan2.1_i2v_lora_rank64_lightx2v_4step.safetensors"
# The diffusers folders WanAnimatePipeline.from_pretrained reads; nothing else of the repo
# (its README images, the original-format checkpoints) is fetched.
PIPELINE_FILES = [
    "model_index.json",
    "scheduler/*",
    "tokenizer/*",
    "text_encoder/*",
    "image_processor/*",
    "image_encoder/*",
    "transformer/*",
    "vae/*",
]
PUBLIC_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，"
    "低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，"
    "毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)
AREAS = {"720p": 1280 * 720, "480p": 832 * 480}  # generation areas the model was made for


@dataclass(frozen=True)
class WanDefaults:
    """Sampling defaults of a Wan preset (the official ones for wan-animate)."""

    num_inference_steps: int = 20  # UniPC steps per segment
    guidance_scale: float = 1.0  # 1.0 = no classifier-free guidance (as trained)
    flow_shift: float = 5.0  # the scheduler's sample shift
    segment_frame_length: int = 77  # frames per segment, 4N+1
    prev_segment_conditioning_frames: int = 1  # frames carried between segments: 1 or 5
    fps: float = 30.0  # the frame rate the model was trained at (the driving video's target)
    # How the driving video reaches `fps`: the source frame nearest each target time, as
    # many as fit (the public preprocessing's get_frame_indices), not ffmpeg's fps filter.
    resampling: str = "nearest"
    # The public defaults: generate.py's example prompt for animate-14B, and the shared
    # config's negative prompt, which wan/animate.py uses when none is given (it matters
    # only with guidance above 1).
    prompt: str = "视频中的人在做动作"  # "the person in the video is moving"
    negative_prompt: str = PUBLIC_NEGATIVE_PROMPT


@dataclass(frozen=True)
class WanPreset:
    """One Wan generator: where its files are, their terms and its defaults."""

    name: str
    description: str
    files: hub.RemoteFiles  # the diffusers pipeline folder
    lora: hub.RemoteFiles  # the `fast` option's 4-step distillation LoRA
    license: str  # terms, shown before downloading
    sizes_gb: dict[str, float] = field(default_factory=dict)  # about, per folder, bf16
    defaults: WanDefaults = WanDefaults()
    fast: WanDefaults = WanDefaults(num_inference_steps=4, guidance_scale=1.0, flow_shift=5.0)


LOCAL_CLASSES = ("WanAnimatePipeline",)  # what a `local:` folder of this family holds

PRESETS: dict[str, WanPreset] = {
    "wan-animate": WanPreset(
        name="wan-animate",
        description="Wan2.2-Animate-14B (diffusers): pose- and face-driven animation or "
                    "character replacement in the driving footage; needs a large GPU "
                    "(about 33 GB of bf16 transformer weights; offload modes for 24 GB).",
        files=hub.RemoteFiles(ANIMATE_REPO, PIPELINE_FILES),
        lora=hub.RemoteFiles(LORA_REPO, [LORA_FILE]),
        license=f"Wan2.2-Animate-14B: Apache-2.0 (https://huggingface.co/{ANIMATE_REPO}). "
                f"The fast option's LoRA: see https://huggingface.co/{LORA_REPO}.",
        # From the model card and the reference notes: transformer 33-35 GB, umT5-XXL 11 GB.
        sizes_gb={"transformer": 34.0, "text_encoder": 11.4, "image_encoder": 1.3,
                  "vae": 0.5, "fast LoRA": 0.7},
    ),
}


def get_preset(name: str) -> WanPreset:
    """The Wan preset called `name` (a `local:<folder>` takes wan-animate's settings)."""
    if name.startswith("local:"):
        base = PRESETS["wan-animate"]
        return WanPreset(name=name, description=f"Wan-Animate pipeline saved in "
                         f"{name[len('local:'):]}", files=base.files, lora=base.lora,
                         license="See the terms of the weights this pipeline was made from.",
                         sizes_gb={})
    if name not in PRESETS:
        raise InputError(f"Unknown Wan preset {name!r}: choose one of {', '.join(PRESETS)}.")
    return PRESETS[name]


def download_summary(preset: WanPreset, fast: bool = False) -> str:
    """What a download fetches, about how big, and under which terms: shown first."""
    parts = dict(preset.sizes_gb)
    if not fast:
        parts.pop("fast LoRA", None)
    total = sum(parts.values())
    listed = ", ".join(f"{k} {v:.1f} GB" for k, v in parts.items())
    repos = preset.files.repo_id + (f" and {preset.lora.repo_id}" if fast else "")
    return (f"{preset.name} downloads about {total:.0f} GB from {repos} ({listed}; only the "
            f"diffusers folders). License: {preset.license}")
