"""Loading Wan-Animate-2: the component folders from the hub, a weights folder or a
`local:` folder, into diffusers' own modular pipeline (base or distilled), with a memory
mode (the families' shared ones, `families.base.apply_memory_mode`).

Each component is loaded by the class the library's blocks expect, from its subfolder,
from safetensors only, so nothing a folder names is imported: the folder's index is read
by `families.loading.check_local_folder` first (`local:`), and the scheduler's class must be
one of diffusers' schedulers whose step takes a generator (the segment loop passes one;
another is refused, never swapped).
The text encoder is not kept in the pipeline: `text.PromptEmbeddings` loads it for a new
prompt and drops it again. "model" offload on a modular pipeline is diffusers'
`ComponentsManager` moving each model to the GPU while it runs; "auto" picks the lightest
mode in which the published size fits with its KV cache. On a GPU the transformer's blocks
are compiled (`compile_repeated_blocks`), as its flex attention needs.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from pathlib import Path

import torch

from animator.errors import InputError
from animator.families import base, hub
from animator.families.loading import check_local_folder, read_model_index
from animator.families.wan2.generator import Wan2Generator
from animator.families.wan2.presets import LOCAL_CLASSES, Wan2Preset, download_summary, get_preset

LOCAL = "local:"
MODELS = ("vae", "transformer", "image_encoder")  # loaded with the pipeline (text: on demand)


def _not_there(preset: Wan2Preset, folder: Path, missing: list[str]) -> InputError:
    return InputError(
        f"{folder} lacks files of the {preset.name} preset: {', '.join(missing[:6])}. Run "
        f"`python -m animator download --preset {preset.name} --weights-dir {folder}` to fill "
        "it, or point --weights-dir at the folder that holds them.")


@contextlib.contextmanager
def _naming_the_download(preset: Wan2Preset):
    """hub's "not on this machine" message, with this preset's download command."""
    try:
        yield
    except InputError as error:
        command = f"python -m animator download --preset {preset.name}"
        text = str(error).replace("`python -m animator download`", f"`{command}`")
        raise InputError(text) from error


def pipeline_folder(preset: Wan2Preset, *, weights_dir=None, allow_download: bool = True,
                    progress=None) -> Path:
    """The folder with the component subfolders: `local:` itself (checked), `weights_dir`
    (the repository's layout), or the hub cache (fetched if allowed and needed)."""
    if preset.name.startswith(LOCAL):
        folder = Path(preset.name[len(LOCAL):]).expanduser()
        check_local_folder(folder, LOCAL_CLASSES)  # nothing in it is run or unpickled
        return folder
    if weights_dir is not None:
        folder = Path(weights_dir).expanduser()
        missing = hub.missing_files(preset.files, folder)
        if missing:
            raise _not_there(preset, folder, missing)
        return folder
    with _naming_the_download(preset):
        return hub.fetch(preset.files, allow_download=allow_download, progress=progress)


def download(name: str, *, weights_dir=None, progress=None, notify=print) -> list[Path]:
    """Fetch what the preset needs (after saying what, how big, and under which terms)."""
    preset = get_preset(name)
    if preset.name.startswith(LOCAL):
        return [pipeline_folder(preset)]
    notify(download_summary(preset))
    return [hub.fetch(preset.files, local_dir=weights_dir, progress=progress)]


def _scheduler(folder: Path):
    """The folder's scheduler: one of diffusers' whose `step` takes a generator (the
    segment loop passes one); any other is refused rather than swapped for another."""
    import diffusers

    config = json.loads((folder / "scheduler_config.json").read_text(encoding="utf-8"))
    name = str(config.get("_class_name"))
    cls = getattr(diffusers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, diffusers.SchedulerMixin)
            and "generator" in inspect.signature(cls.step).parameters):
        raise InputError(f"{folder} names the scheduler {name!r}, which the Wan-Animate-2 "
                         "segment loop cannot drive (its step takes no generator). Fetch the "
                         "weights again with `python -m animator download` (the repository's "
                         "scheduler was corrected).")
    return cls.from_pretrained(folder)


def assemble(folder: Path, preset: Wan2Preset, dtype) -> object:
    """The library's modular pipeline over the folder's components (no text encoder)."""
    from diffusers import AutoencoderKLWan, WanAnimate2Transformer3DModel
    from diffusers.modular_pipelines import (
        WanAnimate2DistilledModularPipeline,
        WanAnimate2ModularPipeline,
    )
    from transformers import AutoTokenizer, CLIPVisionModel

    cls = WanAnimate2DistilledModularPipeline if preset.distilled else WanAnimate2ModularPipeline
    pipe = cls()
    pipe.update_components(
        transformer=WanAnimate2Transformer3DModel.from_pretrained(
            folder / "transformer", torch_dtype=dtype, use_safetensors=True),
        vae=AutoencoderKLWan.from_pretrained(folder / "vae", torch_dtype=torch.float32,
                                             use_safetensors=True),
        image_encoder=CLIPVisionModel.from_pretrained(folder / "image_encoder", dtype=dtype,
                                                      use_safetensors=True),
        tokenizer=AutoTokenizer.from_pretrained(folder / "tokenizer"),
        scheduler=_scheduler(folder / "scheduler"))
    return pipe


def _model_offload(pipe, device: str) -> None:
    from diffusers import ComponentsManager

    manager = ComponentsManager()
    for name in MODELS:
        module = getattr(pipe, name, None)
        if module is not None:
            manager.add(name, module)
    manager.enable_auto_cpu_offload(device=device)
    pipe._wan2_components_manager = manager  # kept alive with the pipeline


def auto_mode(device: str, fp8: bool = False) -> str:
    """The lightest memory mode in which the published size (800x640, 81-frame segments)
    fits this GPU with its KV cache ("group" when none does: the run then says why)."""
    from animator.families.wan2 import cost

    total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    for mode in ("none", "model"):
        if cost.peak_memory(800, 640, 81, mode, fp8) < 0.95 * total:
            return mode
    return "group"


def build(pipe, preset: Wan2Preset, *, device: str = "cpu", memory: str = "auto",
          fp8: bool = False, text_encoder_folder: str | Path | None = None,
          notices=()) -> Wan2Generator:
    """A generator around an assembled pipeline (loaded or built in code): the VAE in
    float32, the memory mode applied, the text encoder left to `PromptEmbeddings`."""
    if pipe.vae.dtype != torch.float32:
        pipe.vae.to(torch.float32)
    loader = None
    if text_encoder_folder is not None:
        from transformers import UMT5EncoderModel

        dtype = pipe.transformer.dtype

        def loader():
            return UMT5EncoderModel.from_pretrained(text_encoder_folder, dtype=dtype,
                                                    use_safetensors=True).eval()
    on_gpu = str(device).startswith("cuda")
    if memory == "auto" and on_gpu:
        memory = auto_mode(device, fp8)
    used = base.apply_memory_mode(pipe, memory, device, fp8, model_offload=_model_offload)
    if on_gpu:
        # the generation pass's flex attention must be compiled: uncompiled it builds the
        # whole attention matrix (the library's processor says so)
        pipe.transformer.compile_repeated_blocks()
    generator = Wan2Generator(pipe, preset, notices=notices,
                              load_options={"memory": used, "fp8": fp8})
    if loader is not None:
        generator.embeddings.load_encoder = loader
    return generator


def load(name: str, *, device: str = "cpu", dtype=None, weights_dir=None,
         low_memory: bool = False, allow_download: bool = True, progress=None,
         memory: str = "auto", fp8: bool = False) -> Wan2Generator:
    """Fetch (unless downloads are off) and load a Wan-Animate-2 preset as a generator.

    `dtype` defaults to bfloat16 on CUDA and float32 elsewhere; `low_memory` means the
    "group" memory mode unless `memory` names one.
    """
    pipeline_class = None
    if name.startswith(LOCAL):
        pipeline_class = read_model_index(Path(name[len(LOCAL):]).expanduser())["_class_name"]
    preset = get_preset(name, pipeline_class)
    if memory == "auto" and low_memory:
        memory = "group"
    if dtype is None:
        dtype = torch.bfloat16 if str(device).startswith("cuda") else torch.float32
    folder = pipeline_folder(preset, weights_dir=weights_dir, allow_download=allow_download,
                             progress=progress)
    pipe = assemble(folder, preset, dtype)
    notices = []
    if not str(device).startswith("cuda"):
        notices.append("Wan-Animate-2 on the CPU takes days per second of video: use a GPU.")
    return build(pipe, preset, device=device, memory=memory, fp8=fp8,
                 text_encoder_folder=folder / "text_encoder", notices=notices)


def save_local(pipe, folder: str | Path) -> Path:
    """Write a pipeline's components as a `local:` folder this family loads: one subfolder
    each (safetensors) and a model_index.json naming the pipeline class and theirs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    index = {"_class_name": type(pipe).__name__}
    for name in ("transformer", "vae", "image_encoder", "text_encoder", "tokenizer",
                 "scheduler"):
        component = getattr(pipe, name, None)
        if component is None:
            continue
        component.save_pretrained(folder / name)
        library = "transformers" if type(component).__module__.startswith("transformers") \
            else "diffusers"
        index[name] = [library, type(component).__name__]
    (folder / "model_index.json").write_text(json.dumps(index, indent=2), encoding="utf-8")
    return folder
