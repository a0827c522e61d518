"""Named presets of the SVD family: which public weights make a generator and the conventions
they were trained with.

A preset is everything that must agree with the weights: where the files are, how their keys
map to our modules (convert.py), how the skeletons were drawn in training (channel
order, style), whether the portrait's pose opens every window, and the sampling settings the
weights were made for. The app, the CLI and batch jobs pick a preset by name and use its
fields; nothing else hard-codes these facts. A pipeline saved with `save_pretrained` is the
preset `local:<folder>`, its conventions read from the `animator_preset.json` next to it.
Fetching, assembling and loading the files is weights.py.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, replace
from pathlib import Path

from animator.errors import InputError
from animator.face import FACE_CHANNELS
from animator.families import hub
from animator.families.loading import read_model_index
from animator.families.svd.config import GenerationConfig
from animator.pose.detect import DWPOSE_FILES, DWPOSE_REPO
from animator.pose.render import STYLES

PRESET_JSON = "animator_preset.json"
STABLEANIMATOR_REPO = "FrancisRing/StableAnimator"
SVD_XT_1_1_REPO = "stabilityai/stable-video-diffusion-img2vid-xt-1-1"
# The parts of an SVD-xt diffusers folder a preset with a whole-UNet controller needs, relative
# to that folder. `.fp16.` names fall back to the plain ones when a repository lacks them.
SVD_FILES = [
    "model_index.json",
    "feature_extractor/preprocessor_config.json",
    "scheduler/scheduler_config.json",
    "image_encoder/config.json",
    "image_encoder/model.fp16.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.fp16.safetensors",
    "unet/config.json",
]
FACE_FILES = ["scrfd_10g_bnkps.onnx", "glintr100.onnx"]  # antelopev2's detector, recogniser


@dataclass(frozen=True)
class Preset:
    """One generator: its files, their conversion, and the conventions they were trained with."""

    name: str  # what --preset takes
    description: str  # one line for menus and --help
    base: hub.RemoteFiles | None  # SVD-xt diffusers files, named relative to the folder below
    base_dirs: tuple[str, ...]  # where that folder may sit in base's repo; first present wins
    controller: hub.RemoteFiles | None  # the animator's own checkpoints
    converter: dict[str, str]  # controller file -> convert.LAYOUTS name
    swap_rb: bool  # skeletons drawn with red and blue swapped, as the pose encoder was trained
    style: str  # skeleton drawing, render.STYLES: "dwpose" (plain) or "confidence" (shaded)
    reference_anchor: bool  # the portrait's own pose opens every window (output frame dropped)
    defaults: GenerationConfig  # the sampling settings the weights were made for
    sizes: tuple[tuple[int, int], ...]  # (height, width) trained at; the app picks by aspect
    identity: bool  # face projector + identity attention installed
    identity_mode: str  # how face attention is added: "normalized" (StableAnimator) or "sum"
    dwpose: hub.RemoteFiles | None  # DWPose ONNX pair for pose detection
    face_model: hub.RemoteFiles | None  # insightface models, named relative to face_dirs
    face_dirs: tuple[str, ...] = ("",)  # where those may sit in face_model's repo
    # Channel order of the portrait handed to the face models (face.FaceEmbedder): "bgr",
    # insightface's own convention, or "rgb" (the image as read, red and blue swapped for it).
    face_channels: str = "bgr"
    # The portrait goes to [-1, 1] in float32 and back to uint8 by truncation before the
    # pipeline sees it, as MimicMotion's inference.py hands it over (a quarter of the values
    # lose 1: about 1e-2 relative on the image latent).
    portrait_round_trip: bool = False
    # No face found by insightface: retry with facexlib's detector and alignment first, as
    # StableAnimator's inference_basic.py (face_retry.py), when facexlib is installed.
    face_retry: bool = False
    license: str = ""  # terms and access steps, shown to users before downloading


# The face models' channel order for the identity weights (StableAnimator's inference
# script hands insightface RGB; see its preset): the one source for generation and training.
IDENTITY_FACE_CHANNELS = "rgb"

PRESETS: dict[str, Preset] = {
    "stableanimator": Preset(
        name="stableanimator",
        description="StableAnimator (SVD-xt + pose net + face encoder): identity-preserving "
                    "animation, 16-frame windows; 576x1024 or 512x512.",
        base=hub.RemoteFiles(STABLEANIMATOR_REPO, SVD_FILES),
        base_dirs=("SVD/", "SVD/stable-video-diffusion-img2vid-xt/",
                   "stable-video-diffusion-img2vid-xt/"),
        controller=hub.RemoteFiles(STABLEANIMATOR_REPO, [
            "Animation/pose_net.pth", "Animation/face_encoder.pth", "Animation/unet.pth"]),
        converter={"Animation/pose_net.pth": "stableanimator-pose_net",
                   "Animation/face_encoder.pth": "stableanimator-face_encoder",
                   "Animation/unet.pth": "stableanimator-unet"},
        # Its training skeletons were RGB drawings written by an OpenCV (BGR) writer.
        swap_rb=True,
        style="dwpose",
        reference_anchor=False,
        # As command_basic_infer.sh runs inference_basic.py: --decode_chunk_size=4; its
        # pipeline draws one 16-frame window's noise and repeats it along the clip; the seed
        # goes to a CUDA generator ("auto": the model's device, so CPU runs still work).
        defaults=GenerationConfig(height=1024, width=576, num_inference_steps=25,
                                  min_guidance_scale=3.0, max_guidance_scale=3.0, fps=7,
                                  motion_bucket_id=127, noise_aug_strength=0.02, window=16,
                                  overlap=4, decode_chunk_size=4, window_noise="repeat",
                                  windows="public",
                                  generator_device="auto"),
        sizes=((1024, 576), (512, 512)),
        identity=True,
        identity_mode="normalized",
        dwpose=hub.RemoteFiles(STABLEANIMATOR_REPO, [f"DWPose/{f}" for f in DWPOSE_FILES]),
        face_model=hub.RemoteFiles(STABLEANIMATOR_REPO, FACE_FILES),
        face_dirs=("antelopev2/", "models/antelopev2/"),
        # inference_basic.py reads the portrait with cv2.imread (BGR), then converts it with
        # COLOR_RGB2BGR before face_model.app.get: insightface gets RGB. Its training loader
        # (animation_dataset.py) hands app.get the cv2.imread BGR frame unconverted. We follow
        # the inference script, which made the published clips. (Our trainer's face caches
        # use this same embedder, loaded.face, unless face_model_dir names another folder.)
        face_channels=IDENTITY_FACE_CHANNELS,
        face_retry=True,
        license="StableAnimator weights: see https://huggingface.co/FrancisRing/StableAnimator "
                "(model card). They build on Stable Video Diffusion (Stability AI's license, "
                "see its model card). The insightface antelopev2 face models are for "
                "non-commercial research use only.",
    ),
    "mimicmotion": Preset(
        name="mimicmotion",
        description="MimicMotion 1.1 (SVD-xt-1.1 + pose net): long 72-frame windows anchored "
                    "on the portrait's pose; no identity module; 576x1024.",
        base=hub.RemoteFiles(SVD_XT_1_1_REPO, SVD_FILES, gated=True,
                             license_url=f"https://huggingface.co/{SVD_XT_1_1_REPO}"),
        base_dirs=("",),
        controller=hub.RemoteFiles("tencent/MimicMotion", ["MimicMotion_1-1.pth"]),
        converter={"MimicMotion_1-1.pth": "mimicmotion"},
        # checkpoints.md says RGB, but MimicMotion's draw_pose paints the RGB palette and then
        # returns cv2.cvtColor(canvas, COLOR_BGR2RGB): its pose net saw red and blue swapped.
        swap_rb=True,
        style="confidence",
        reference_anchor=True,
        portrait_round_trip=True,
        # As inference.py with configs/test.yaml: decode_chunk_size=8 over all latents (the
        # anchor's included); one 72-frame window's noise repeated along the clip; the seed
        # on torch.Generator(device=device), CUDA when there is one ("auto").
        defaults=GenerationConfig(height=1024, width=576, num_inference_steps=25,
                                  min_guidance_scale=2.0, max_guidance_scale=2.0, fps=7,
                                  motion_bucket_id=127, noise_aug_strength=0.0, window=72,
                                  overlap=6, decode_chunk_size=8, window_noise="repeat",
                                  windows="public",
                                  generator_device="auto"),
        sizes=((1024, 576),),
        identity=False,
        identity_mode="sum",
        dwpose=hub.RemoteFiles(DWPOSE_REPO, list(DWPOSE_FILES)),
        face_model=None,
        license=f"Needs {SVD_XT_1_1_REPO}, a gated repository: accept Stability AI's license "
                f"at https://huggingface.co/{SVD_XT_1_1_REPO} while logged in and give this "
                "machine your token (HF_TOKEN or `hf auth login`). MimicMotion weights: see "
                "https://huggingface.co/tencent/MimicMotion (model card).",
    ),
    "tiny": Preset(
        name="tiny",
        description="Tiny random model for smoke tests: runs anywhere in seconds, its output "
                    "is noise.",
        base=None,
        base_dirs=("",),
        controller=None,
        converter={},
        swap_rb=False,
        style="dwpose",
        reference_anchor=False,
        defaults=GenerationConfig(height=64, width=64, num_inference_steps=4, window=8,
                                  overlap=2, decode_chunk_size=4),
        sizes=((64, 64),),
        identity=True,
        identity_mode="sum",
        dwpose=None,
        face_model=None,
        license="Random weights built in code; no terms.",
    ),
}
LOCAL = "local:"
_NAMES = ", ".join(PRESETS) + f", or {LOCAL}<folder> (a pipeline saved with save_pretrained)"


def get_preset(name: str) -> Preset:
    """The preset called `name`; `local:<dir>` reads the folder's animator_preset.json."""
    if name.startswith(LOCAL):
        return _local_preset(Path(name[len(LOCAL):]).expanduser())
    if name not in PRESETS:
        raise InputError(f"Unknown preset {name!r}: choose one of {_NAMES}.")
    return PRESETS[name]


def _settings(preset: Preset) -> dict:
    return {"description": preset.description, "swap_rb": preset.swap_rb,
            "style": preset.style, "reference_anchor": preset.reference_anchor,
            "face_channels": preset.face_channels,
            "defaults": dataclasses.asdict(preset.defaults),
            "sizes": [list(s) for s in preset.sizes], "license": preset.license}


def save_preset_json(preset: Preset, directory: str | Path) -> Path:
    """Write the preset's conventions next to a saved pipeline, for `local:<dir>`."""
    path = Path(directory) / PRESET_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_settings(preset), indent=2) + "\n")
    return path


def _local_preset(folder: Path) -> Preset:
    """A saved pipeline's preset: its JSON settings over StableAnimator-like conventions."""
    read_model_index(folder)  # a folder without a readable index is refused here
    base = replace(PRESETS["stableanimator"], base=None, controller=None, converter={},
                   dwpose=None, face_model=None, face_dirs=("",),
                   description=f"Pipeline saved in {folder}",
                   license="See the terms of the weights this pipeline was made from.")
    path = folder / PRESET_JSON
    if not path.is_file():
        return replace(base, name=f"{LOCAL}{folder}")
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        settings = {key: data[key] for key in _settings(base) if key in data}
        if "defaults" in settings:
            settings["defaults"] = GenerationConfig(**settings["defaults"])
        if "sizes" in settings:
            settings["sizes"] = tuple(tuple(s) for s in settings["sizes"])
    except (ValueError, TypeError, RecursionError) as error:
        reason = "nested too deeply" if isinstance(error, RecursionError) else error
        raise InputError(f"{path} is not a valid preset file ({reason}): fix it, or delete it "
                         "to use the default settings.") from None
    if settings.get("style", base.style) not in STYLES:
        raise InputError(f"{path}: style must be one of {', '.join(STYLES)}.")
    if settings.get("face_channels", base.face_channels) not in FACE_CHANNELS:
        raise InputError(f"{path}: face_channels must be one of {', '.join(FACE_CHANNELS)}.")
    return replace(base, name=f"{LOCAL}{folder}", **settings)


__all__ = ["LOCAL", "PRESETS", "PRESET_JSON", "Preset", "get_preset", "save_preset_json"]
