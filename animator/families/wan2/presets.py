"""The Wan-Animate-2 presets: which files make `wan-animate-2` and `wan-animate-2-distilled`,
their terms, sizes and defaults.

Facts from diffusers 0.42.1's modular pipelines (`WanAnimate2Blocks`,
`WanAnimate2DistilledBlocks`, read as installed): a target area of 800 x 640 whose aspect
comes from the portrait (sides floored to multiples of 16), 81-frame segments carrying one
frame over, the driving video resampled to 24 fps, 40 steps with classifier-free guidance
3.0 for the base model, 10 steps without guidance for the distilled one, and the reference
prompt "人物动作的参考视频" ("a reference video of the person's motion").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from animator.errors import InputError
from animator.families import hub

BASE_REPO = "Wan-AI/Wan2.2-Animate-2-14B-Diffusers"
DISTILLED_REPO = "Wan-AI/Wan2.2-Animate-2-14B-Distilled-Diffusers"
# The component folders the modular pipeline's blocks take; nothing else of the repo.
PIPELINE_FILES = [
    "model_index.json",
    "scheduler/*",
    "tokenizer/*",
    "text_encoder/*",
    "image_encoder/*",
    "transformer/*",
    "vae/*",
]
REFERENCE_PROMPT = "人物动作的参考视频"  # the library's default for the reference pass
# Generation areas as (height, width): the published 800 x 640 fits one 80 GB card; 1280 x
# 720 is what the official code runs on two (tensor parallel).
AREAS = {"800x640": (800, 640), "1280x720": (1280, 720)}


@dataclass(frozen=True)
class Wan2Defaults:
    """Sampling defaults of a Wan-Animate-2 preset (the library's own)."""

    num_inference_steps: int = 40
    guidance_scale: float = 3.0  # > 1: classifier-free guidance (two passes a step)
    segment_frame_length: int = 81  # frames per segment, 4N+1
    prev_segment_conditioning_frames: int = 1  # frames carried from one segment to the next
    fps: float = 24.0  # the frame rate the model generates at (the driver is resampled to it)
    area: str = "800x640"


@dataclass(frozen=True)
class Wan2Preset:
    """One Wan-Animate-2 generator: where its files are, their terms and its defaults."""

    name: str
    description: str
    files: hub.RemoteFiles
    license: str
    distilled: bool  # which of the library's two pipelines runs it
    sizes_gb: dict[str, float] = field(default_factory=dict)  # about, per folder, bf16
    defaults: Wan2Defaults = Wan2Defaults()

    @property
    def pipeline_class(self) -> str:
        return ("WanAnimate2DistilledModularPipeline" if self.distilled
                else "WanAnimate2ModularPipeline")


LOCAL_CLASSES = ("WanAnimate2ModularPipeline", "WanAnimate2DistilledModularPipeline")
# From the configurations (cost.parameter_counts, bf16): transformer 16.4 B parameters,
# umT5-XXL 5.7 B, CLIP ViT-H/14 0.63 B, the Wan VAE 0.13 B (stored in float32).
_SIZES = {"transformer": 32.8, "text_encoder": 11.4, "image_encoder": 1.3, "vae": 0.5}


def _license(repo: str) -> str:
    return f"Apache-2.0 (https://huggingface.co/{repo})"


PRESETS: dict[str, Wan2Preset] = {
    "wan-animate-2": Wan2Preset(
        name="wan-animate-2",
        description="Wan-Animate-2 14B (diffusers' modular pipeline): the portrait does the "
                    "raw driving video's motion, no skeleton; 40 steps with guidance; needs "
                    "a large GPU (an 80 GB card at 800x640 with group offload).",
        files=hub.RemoteFiles(BASE_REPO, PIPELINE_FILES), license=_license(BASE_REPO),
        distilled=False, sizes_gb=dict(_SIZES)),
    "wan-animate-2-distilled": Wan2Preset(
        name="wan-animate-2-distilled",
        description="Wan-Animate-2 14B distilled: the same, in 10 steps without guidance "
                    "(about 8x less compute).",
        files=hub.RemoteFiles(DISTILLED_REPO, PIPELINE_FILES), license=_license(DISTILLED_REPO),
        distilled=True, sizes_gb=dict(_SIZES),
        defaults=Wan2Defaults(num_inference_steps=10, guidance_scale=1.0)),
}


def get_preset(name: str, pipeline_class: str | None = None) -> Wan2Preset:
    """The preset called `name`; a `local:<folder>` takes the settings of the pipeline class
    its model_index.json names (`pipeline_class`)."""
    if name.startswith("local:"):
        base = PRESETS["wan-animate-2-distilled" if pipeline_class == LOCAL_CLASSES[1]
                       else "wan-animate-2"]
        return Wan2Preset(name=name, description=f"Wan-Animate-2 pipeline saved in "
                          f"{name[len('local:'):]}", files=base.files,
                          license="See the terms of the weights this pipeline was made from.",
                          distilled=base.distilled, defaults=base.defaults)
    if name not in PRESETS:
        raise InputError(f"Unknown Wan-Animate-2 preset {name!r}: choose one of "
                         f"{', '.join(PRESETS)}.")
    return PRESETS[name]


def download_summary(preset: Wan2Preset) -> str:
    """What a download fetches, about how big, and under which terms: shown first."""
    total = sum(preset.sizes_gb.values())
    listed = ", ".join(f"{k} {v:.1f} GB" for k, v in preset.sizes_gb.items())
    return (f"{preset.name} downloads about {total:.0f} GB from {preset.files.repo_id} "
            f"({listed}; only the pipeline's folders). License: {preset.license}")
