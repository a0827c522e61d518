"""Loading `wan-animate`: files from the hub (only the diffusers folders), a weights folder
or a `local:` folder, into diffusers' own `WanAnimatePipeline`, with a memory mode.

Memory modes (the transformer is about 33 GB in bf16, the text encoder 11 GB):
- "none": everything on the GPU (an 80 GB card);
- "model": diffusers' model CPU offload: each model moves to the GPU while it runs;
- "group": diffusers' group offloading of the transformer block by block (with CUDA
  streams, so transfers overlap compute) and of the other models as a whole: for 24 GB;
- `fp8=True` (with any mode): the transformer's weights stored in float8 and cast per
  layer to bf16 when used (diffusers' layerwise casting), halving their memory.
Always: the text encoder is not kept (text.py), the VAE runs in float32 as the pipeline's
docstring suggests and decodes in spatial tiles on a GPU, so segment ends never spike.
`fast=True` loads LightX2V's 4-step distillation LoRA through diffusers' LoRA loader (needs
`peft`), fuses it, and switches the defaults to its 4 steps, shift 5 and guidance 1.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

import torch

from animator.errors import InputError
from animator.families import base, hub
from animator.families.loading import check_local_folder
from animator.families.wan.generator import WanGenerator
from animator.families.wan.presets import LOCAL_CLASSES, WanPreset, download_summary, get_preset
from animator.families.wan.text import PromptEmbeddings

LOCAL = "local:"


def _not_there(preset: WanPreset, folder: Path, missing: list[str], what: str) -> InputError:
    return InputError(
        f"{folder} lacks {what} of the {preset.name} preset: {', '.join(missing[:6])}. Run "
        f"`python -m animator download --preset {preset.name} --weights-dir {folder}` to fill "
        "it, or point --weights-dir at the folder that holds them.")


def pipeline_folder(preset: WanPreset, *, weights_dir: str | Path | None = None,
                    allow_download: bool = True, progress=None) -> Path:
    """The folder holding the diffusers pipeline: `local:` itself, `weights_dir` (same
    layout as the repository), or the hub cache (fetched if allowed and needed)."""
    if preset.name.startswith(LOCAL):
        folder = Path(preset.name[len(LOCAL):]).expanduser()
        check_local_folder(folder, LOCAL_CLASSES)  # nothing in it is run or unpickled
        return folder
    if weights_dir is not None:
        folder = Path(weights_dir).expanduser()
        missing = hub.missing_files(preset.files, folder)
        if missing:
            raise _not_there(preset, folder, missing, "files")
        return folder
    with _naming_the_download(preset):
        return hub.fetch(preset.files, allow_download=allow_download, progress=progress)


@contextlib.contextmanager
def _naming_the_download(preset: WanPreset, fast: bool = False):
    """hub's "not on this machine" message, with the download command of this preset (the
    command's default preset is an SVD one)."""
    try:
        yield
    except InputError as error:
        command = f"python -m animator download --preset {preset.name}" + (
            " --fast" if fast else "")
        text = str(error).replace("`python -m animator download`", f"`{command}`")
        raise InputError(text) from error


def lora_file(preset: WanPreset, *, weights_dir: str | Path | None = None,
              allow_download: bool = True, progress=None) -> Path:
    """The `fast` LoRA file, from `weights_dir` or the hub cache."""
    name = preset.lora.filenames[0]
    if weights_dir is not None:
        path = Path(weights_dir).expanduser() / name
        if not path.is_file():
            raise _not_there(preset, Path(weights_dir), [name], "the fast option's LoRA")
        return path
    with _naming_the_download(preset, fast=True):
        return hub.fetch(preset.lora, allow_download=allow_download, progress=progress) / name


def download(name: str, *, weights_dir: str | Path | None = None, fast: bool = False,
             progress=None, notify=print) -> list[Path]:
    """Fetch what the preset needs (after saying what, how big, and under which terms)."""
    preset = get_preset(name)
    if preset.name.startswith(LOCAL):
        return [pipeline_folder(preset)]
    notify(download_summary(preset, fast))
    folders = [hub.fetch(preset.files, local_dir=weights_dir, progress=progress)]
    if fast:
        folders.append(hub.fetch(preset.lora, local_dir=weights_dir, progress=progress))
    return folders


def apply_memory_mode(pipe, mode: str, device: str, fp8: bool = False) -> str:
    """Put the pipeline on `device` in a memory mode (the families' shared ones,
    `families.base.apply_memory_mode`); returns the mode used."""
    return base.apply_memory_mode(pipe, mode, device, fp8)


def build(pipe, preset: WanPreset, *, device: str = "cpu", memory: str = "auto",
          fp8: bool = False, fast_lora: str | Path | None = None,
          text_encoder_folder: str | Path | None = None, notices=()) -> WanGenerator:
    """A generator around an assembled pipeline (loaded or built in code): the VAE upcast,
    the LoRA fused, the memory mode applied, the text encoder left to `PromptEmbeddings`."""
    if pipe.vae.dtype != torch.float32:
        pipe.vae.to(torch.float32)
    defaults = preset.defaults
    if fast_lora is not None:
        pipe.load_lora_weights(str(fast_lora), adapter_name="fast")
        pipe.fuse_lora(lora_scale=1.0, components=["transformer"])
        pipe.unload_lora_weights()
        defaults = preset.fast
    loader = None
    if text_encoder_folder is not None:
        from transformers import UMT5EncoderModel

        dtype = pipe.transformer.dtype
        pipe.text_encoder = None

        def loader():
            return UMT5EncoderModel.from_pretrained(text_encoder_folder, dtype=dtype,
                                                    use_safetensors=True).eval()
    used = apply_memory_mode(pipe, memory, device, fp8)
    pipe.set_progress_bar_config(desc="Denoising")
    options = {"memory": used, "fp8": fp8, "fast": fast_lora is not None}
    return WanGenerator(pipe, preset, defaults=defaults,
                        embeddings=PromptEmbeddings(pipe, loader), notices=notices,
                        load_options=options)


def load(name: str, *, device: str = "cpu", dtype=None, weights_dir=None,
         low_memory: bool = False, allow_download: bool = True, progress=None,
         memory: str = "auto", fp8: bool = False, fast: bool = False) -> WanGenerator:
    """Fetch (unless downloads are off) and load a Wan preset as a generator.

    `dtype` defaults to bfloat16 on CUDA and float32 elsewhere; `low_memory` means the
    "group" memory mode unless `memory` names one.
    """
    from diffusers import WanAnimatePipeline

    preset = get_preset(name)
    if memory == "auto" and low_memory:
        memory = "group"
    if dtype is None:
        dtype = torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    folder = pipeline_folder(preset, weights_dir=weights_dir, allow_download=allow_download,
                             progress=progress)
    lora = (lora_file(preset, weights_dir=weights_dir, allow_download=allow_download,
                      progress=progress) if fast else None)
    pipe = WanAnimatePipeline.from_pretrained(folder, torch_dtype=dtype, text_encoder=None,
                                                use_safetensors=True)
    notices = []
    if not str(device).startswith("cuda"):
        notices.append("Wan-Animate on the CPU takes hours per second of video: use a GPU.")
    return build(pipe, replace(preset), device=device, memory=memory, fp8=fp8,
                 fast_lora=lora, text_encoder_folder=folder / "text_encoder", notices=notices)
