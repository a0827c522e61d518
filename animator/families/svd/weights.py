"""A preset's weights: which files it needs, how to fetch, convert, assemble and load them.

Downloads fetch only what a preset (presets.py) needs. The public controllers ship the whole
fine-tuned UNet, so from the base SVD-xt folder only the UNet's config.json is taken; fp16
copies of the VAE and CLIP weights are preferred when the repository has them; the single-file
`svd_xt*.safetensors` checkpoints are never fetched. A folder whose place inside a repository
varies between versions (StableAnimator's SVD copy, its antelopev2 models) is found from the
repository's file list when online and from the cache when offline.

`weights_dir` is a local folder with the same relative layout as the repositories (for
presets built from several repositories, their files side by side), used instead of the hub.
(Just over 400 lines: finding, fetching and loading share the file-placement helpers.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from huggingface_hub import constants, get_cached_repo_tree, snapshot_download
from huggingface_hub.errors import CachedRepoTreeNotFoundError, LocalEntryNotFoundError

from animator.errors import InputError
from animator.face import FaceEmbedder, find_face_model_dir
from animator.face_retry import facexlib_aligner
from animator.families import hub
from animator.families.loading import check_local_folder, files_in
from animator.families.svd import convert
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.presets import LOCAL, Preset, get_preset
from animator.pose.detect import DWPOSE_FILES, find_dwpose_weights

ProgressCallback = Callable[[float, str], object]


@dataclass
class LoadedPreset:
    """What `load_preset` returns: the generator and the helpers that go with it."""

    preset: Preset
    pipeline: AnimationPipeline
    face: FaceEmbedder | None  # None: no face model, generation runs without identity
    dwpose_dir: Path | None  # folder holding the DWPose ONNX pair; None: not on this machine
    notices: list[str]  # things the user should know (what was left out and why)


def _load_local(folder: Path, dtype: torch.dtype) -> AnimationPipeline:
    """A saved pipeline, after the shared checks (`families.loading`): nothing in the folder
    is run or unpickled."""
    check_local_folder(folder, ("AnimationPipeline",))
    try:
        return AnimationPipeline.from_pretrained(folder, torch_dtype=dtype, use_safetensors=True)
    except (OSError, ValueError, KeyError) as error:
        raise InputError(f"The pipeline in {folder} could not be loaded ({error}); save it "
                         "again with save_pretrained, or check the folder.") from error


def _known_paths(files: hub.RemoteFiles, local_dir: Path | None) -> set[str]:
    """Paths of `files`' repository known without the network: the listing the hub cached
    when it was last online, plus what is on disk."""
    try:
        tree = get_cached_repo_tree(files.repo_id, revision=files.revision, local_dir=local_dir)
        paths = {f.path for f in tree}
    except CachedRepoTreeNotFoundError:
        paths = set()
    if local_dir is not None:
        return paths | files_in(local_dir)
    try:
        folder = snapshot_download(files.repo_id, revision=files.revision, allow_patterns=[],
                                   local_files_only=True)
    except LocalEntryNotFoundError:
        return paths
    return paths | files_in(Path(folder))


def _place(files: hub.RemoteFiles, dirs: tuple[str, ...], paths: set[str]) -> hub.RemoteFiles:
    """`files` inside the first of `dirs` that holds its first file (else the first dir), each
    `.fp16.` name swapped for the plain one when only that one is known."""
    folder = next((d for d in dirs if d + files.filenames[0] in paths), dirs[0])
    names = []
    for name in files.filenames:
        path, plain = folder + name, folder + name.replace(".fp16.", ".")
        names.append(plain if path not in paths and plain in paths else path)
    return replace(files, filenames=names)


def _resolve(files: hub.RemoteFiles, dirs: tuple[str, ...], *, weights_dir: Path | None = None,
             local_dir: Path | None = None, online: bool = False) -> hub.RemoteFiles:
    """`_place` against the best file list at hand: `weights_dir`'s files; or, online, the
    repository's listing (which the hub caches while fetching the small first file); or the
    listing and files already in the cache."""
    if weights_dir is not None:
        return _place(files, dirs, files_in(weights_dir))
    if online and (len(dirs) > 1 or any(".fp16." in f for f in files.filenames)):
        hub.fetch(replace(files, filenames=["*" + files.filenames[0]]), local_dir=local_dir)
    return _place(files, dirs, _known_paths(files, local_dir))


def _online(allow_download: bool) -> bool:
    return allow_download and not constants.is_offline_mode()


def preset_files(preset: Preset, *, weights_dir: str | Path | None = None,
                 allow_download: bool = False, local_dir: str | Path | None = None
                 ) -> list[hub.RemoteFiles]:
    """Files the preset needs, per repository: base, controller, DWPose, face model.

    Folders whose place varies are found in `weights_dir`, else in the cache's file list (or
    `local_dir`'s); with `allow_download=True` the repository's listing is fetched first
    (along with its small first file). Without one, the first candidate folder is assumed.
    """
    weights_dir = None if weights_dir is None else Path(weights_dir)
    local_dir = None if local_dir is None else Path(local_dir)
    kwargs = dict(weights_dir=weights_dir, local_dir=local_dir, online=_online(allow_download))
    out = []
    if preset.base is not None:
        out.append(_resolve(preset.base, preset.base_dirs, **kwargs))
    out += [f for f in (preset.controller, preset.dwpose) if f is not None]
    if preset.face_model is not None:
        out.append(_resolve(preset.face_model, preset.face_dirs, **kwargs))
    return out


def _not_on_machine(preset: Preset, repos: list[str], where: Path, hint: str = "") -> InputError:
    why = " (HF_HUB_OFFLINE=1)" if constants.is_offline_mode() else ""
    parts = (preset.base, preset.controller, preset.dwpose, preset.face_model)
    gated = [f for f in parts if f is not None and f.gated and f.repo_id in repos]
    access = "".join(
        f" {f.repo_id} is gated: before downloading, accept its license at {f.page} while "
        "logged in to huggingface.co and give that machine your token (set HF_TOKEN, or run "
        "`hf auth login`)." for f in gated)
    return InputError(
        f"The {preset.name} weights are not on this machine (files of {', '.join(repos)} are "
        f"missing in {where}) and downloads are off{why}.{hint} Run `python -m animator "
        f"download --preset {preset.name}` on a machine with internet access and copy its "
        f"cache here, or pass --weights-dir with a folder that holds them.{access}")


def download_preset(name: str, *, weights_dir: str | Path | None = None,
                    progress: ProgressCallback | None = None) -> list[Path]:
    """Fetch everything the preset needs (SVD parts, controllers, DWPose, face models) into
    the HF cache, or as plain files into `weights_dir`; return the folders that hold them."""
    preset = get_preset(name)
    if preset.name.startswith(LOCAL):
        return [Path(preset.name[len(LOCAL):])]
    local_dir = None if weights_dir is None else Path(weights_dir)
    if constants.is_offline_mode():
        needed = preset_files(preset, local_dir=local_dir)
        missing = [f.repo_id for f in needed if not hub.is_cached(f, local_dir=local_dir)]
        if missing:
            raise _not_on_machine(preset, list(dict.fromkeys(missing)),
                                  local_dir or Path(constants.HF_HUB_CACHE),
                                  " Unset HF_HUB_OFFLINE to download them.")
    folders = []
    for files in preset_files(preset, allow_download=True, local_dir=local_dir):
        folder = hub.fetch(files, local_dir=local_dir, progress=progress)
        if folder not in folders:
            folders.append(folder)
    return folders


def load_preset(name: str, *, device: str = "cpu", dtype: torch.dtype | None = None,
                weights_dir: str | Path | None = None, allow_download: bool = True,
                progress: ProgressCallback | None = None) -> LoadedPreset:
    """Fetch (unless downloads are off), convert (first start only) and load a preset.

    `dtype` defaults to float16 on CUDA and float32 elsewhere. `weights_dir` replaces the hub
    (and is searched first for DWPose and face models). A missing face model or DWPose pair is
    not an error: the result says so in `notices` and leaves `face` / `dwpose_dir` None.
    """
    preset = get_preset(name)
    if dtype is None:
        dtype = torch.float16 if str(device).startswith("cuda") else torch.float32
    weights_dir = None if weights_dir is None else Path(weights_dir).expanduser()
    notices: list[str] = []
    if preset.name.startswith(LOCAL):
        pipeline = _load_local(Path(preset.name[len(LOCAL):]), dtype)
        preset = replace(preset, identity=pipeline.face_projector is not None,
                         identity_mode=pipeline.config.identity_mode)
    elif preset.base is None:  # no weights to fetch: the tiny random model
        from animator.families.svd.models.tiny import tiny_pipeline

        pipeline = tiny_pipeline(dtype=dtype, identity_mode=preset.identity_mode,
                                 random_init=True)
    else:
        svd, controller = _fetch_model(preset, weights_dir, allow_download, progress)
        pipeline = assemble(preset, svd, controller, dtype=dtype, device=device,
                            progress=progress)
    pipeline.to(device)
    face = _face_embedder(preset, weights_dir, device, allow_download, progress, notices)
    dwpose_dir = _dwpose_dir(preset, weights_dir, allow_download, progress, notices)
    return LoadedPreset(preset, pipeline, face, dwpose_dir, notices)


def _fetch_model(preset: Preset, weights_dir: Path | None, allow_download: bool,
                 progress: ProgressCallback | None) -> tuple[Path, Path]:
    """(SVD folder, folder the controller paths are relative to). Files already in the cache
    are used without asking the hub anything; the rest is fetched if allowed."""
    base = _resolve(preset.base, preset.base_dirs, weights_dir=weights_dir)
    needed = [base, preset.controller]
    if weights_dir is not None:
        missing = [p for f in needed for p in hub.missing_files(f, weights_dir)]
        if missing:
            raise InputError(
                f"{weights_dir} lacks files of the {preset.name} preset: "
                f"{', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}. Run `python -m "
                f"animator download --preset {preset.name} --weights-dir {weights_dir}` to "
                "fill it, or point --weights-dir at the folder that holds them.")
        roots = [weights_dir, weights_dir]
    else:
        missing = [f.repo_id for f in needed if not hub.is_cached(f)]
        if missing and not _online(allow_download):
            raise _not_on_machine(preset, list(dict.fromkeys(missing)),
                                  Path(constants.HF_HUB_CACHE))
        if missing:
            base = _resolve(preset.base, preset.base_dirs, online=True)
            needed = [base, preset.controller]
        roots = [hub.fetch(f, allow_download=bool(missing), progress=progress) for f in needed]
    return roots[0] / base.filenames[0].rpartition("/")[0], roots[1]


def _variant(folder: Path) -> str | None:
    return "fp16" if any(".fp16." in p.name for p in folder.iterdir()) else None


@torch.no_grad()
def assemble(preset: Preset, svd: Path, controller: Path, *, dtype: torch.dtype,
             device: str = "cpu", progress: ProgressCallback | None = None
             ) -> AnimationPipeline:
    """Build the pipeline from an SVD diffusers folder and the preset's controller files
    (paths in `preset.converter`, relative to `controller`). Sizes come from the folder's
    configs, so a tiny folder gives a tiny pipeline.

    The UNet and the controls are created on the meta device and take the converted tensors,
    already in `dtype` on `device`, as they are: no second copy, no random init of 1.5 B
    parameters.
    """
    from animator.families.svd.models.unet import load_identity_state_dict

    def report(fraction: float, desc: str) -> None:
        if progress is not None:
            progress(fraction, desc)

    report(0.0, "Loading SVD")
    unet, image_encoder, vae, scheduler, feature_extractor = _svd_parts(svd, dtype)
    pose_encoder, face_projector, modules, expected = _meta_controls(preset, unet, image_encoder)
    loaded = _converted(preset, controller, expected, dtype, device, report)
    for name, module in modules.items():
        module.load_state_dict(loaded.pop(name), strict=True, assign=True)
    pipeline = AnimationPipeline(vae=vae, image_encoder=image_encoder, unet=unet.eval(),
                                 scheduler=scheduler, feature_extractor=feature_extractor,
                                 pose_encoder=pose_encoder.eval(),
                                 face_projector=None if face_projector is None
                                 else face_projector.eval(),
                                 identity_mode=preset.identity_mode)
    if "identity" in loaded:
        load_identity_state_dict(unet, loaded.pop("identity"))
    pipeline.to(device).reallocate_weights()
    report(1.0, "Model loaded")
    return pipeline


def _svd_parts(svd: Path, dtype: torch.dtype) -> tuple:
    """(UNet on the meta device, CLIP image encoder, VAE, scheduler, feature extractor) of an
    SVD diffusers folder; the UNet's weights come from the controller."""
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessorPil, CLIPVisionModelWithProjection

    config = UNetSpatioTemporalConditionModel.load_config(svd / "unet")
    with torch.device("meta"):
        unet = UNetSpatioTemporalConditionModel.from_config(config)
    image_encoder = CLIPVisionModelWithProjection.from_pretrained(
        svd / "image_encoder", variant=_variant(svd / "image_encoder"), dtype=dtype)
    vae = AutoencoderKLTemporalDecoder.from_pretrained(
        svd / "vae", variant=_variant(svd / "vae"), torch_dtype=dtype)
    scheduler = EulerDiscreteScheduler.from_pretrained(svd / "scheduler")
    feature_extractor = CLIPImageProcessorPil.from_pretrained(svd / "feature_extractor")
    return unet, image_encoder, vae, scheduler, feature_extractor


def _meta_controls(preset: Preset, unet, image_encoder) -> tuple:
    """(pose encoder, face projector or None, the modules the converted files fill by target
    name, the shapes each target expects), the controls on the meta device."""
    from animator.families.svd.models.identity import FaceProjector
    from animator.families.svd.models.pose_encoder import FusedPoseEncoder
    from animator.families.svd.models.unet import (
        identity_state_dict,
        install_identity,
        remove_identity,
    )

    with torch.device("meta"):
        pose_encoder = FusedPoseEncoder(out_channels=unet.config.block_out_channels[0],
                                        with_dense=False)
    modules = {"unet": unet, "skeleton": pose_encoder.skeleton}
    expected = {name: convert.expected_shapes(m) for name, m in modules.items()}
    face_projector = None
    if preset.identity:
        dim = unet.config.cross_attention_dim
        with torch.device("meta"):
            face_projector = FaceProjector(
                cross_attention_dim=dim, clip_embeddings_dim=image_encoder.config.projection_dim,
                heads=max(1, dim // 64), dim_head=64)
        modules["face_projector"] = face_projector
        expected["face_projector"] = convert.expected_shapes(face_projector)
        install_identity(unet)  # on the meta UNet, only to learn the processors' shapes
        expected["identity"] = {k: tuple(v.shape) for k, v in identity_state_dict(unet).items()}
        remove_identity(unet)
    return pose_encoder, face_projector, modules, expected


def _converted(preset: Preset, controller: Path, expected: dict, dtype: torch.dtype,
               device: str, report: ProgressCallback) -> dict[str, dict[str, torch.Tensor]]:
    """The preset's controller files converted (first start only) and loaded, by target."""
    loaded: dict[str, dict[str, torch.Tensor]] = {}
    for i, (relative, layout) in enumerate(preset.converter.items()):
        report(0.1 + 0.8 * i / len(preset.converter),
               f"Loading {relative} (converted on the first start only)")
        targets = convert.LAYOUTS[layout].targets
        path = convert.convert(controller / relative, layout,
                               {t: expected[t] for t in targets}, name=relative)
        for target in targets:
            loaded[target] = convert.load_converted(path, target, dtype=dtype, device=device)
    if set(loaded) != set(expected):
        raise ValueError(f"preset {preset.name} fills {sorted(loaded)}, its model needs "
                         f"{sorted(expected)}")
    return loaded


def _face_embedder(preset: Preset, weights_dir: Path | None, device: str, allow_download: bool,
                   progress: ProgressCallback | None, notices: list[str]) -> FaceEmbedder | None:
    """The preset's face model, found locally or fetched; None plus a notice when unavailable."""
    if not preset.identity:
        return None
    without = "Generating without identity guidance (the face may drift)."
    folder = find_face_model_dir(weights_dir)
    if folder is None and preset.face_model is not None and weights_dir is None:
        try:
            files = _resolve(preset.face_model, preset.face_dirs, online=_online(allow_download))
            root = hub.fetch(files, allow_download=allow_download, progress=progress)
        except InputError as error:
            notices.append(f"No face model: {error} {without}")
            return None
        folder = root / files.filenames[0].rpartition("/")[0]
    if folder is None:
        notices.append("No face model (insightface antelopev2) on this machine: run `python -m "
                       "animator download`, or put it in --weights-dir. " + without)
        return None
    device = "cuda" if str(device).startswith("cuda") else "cpu"
    retry, how = (facexlib_aligner(weights_dir, device) if preset.face_retry
                  else (None, None))
    try:
        return FaceEmbedder(folder, device=device, channels=preset.face_channels, retry=retry,
                            retry_notice=how)
    except InputError as error:
        notices.append(f"{error} {without}")
        return None


def _dwpose_dir(preset: Preset, weights_dir: Path | None, allow_download: bool,
                progress: ProgressCallback | None, notices: list[str]) -> Path | None:
    """Folder with the DWPose pair, found locally or fetched; None plus a notice if absent."""
    found = find_dwpose_weights(weights_dir)
    if found is not None:
        return found[0].parent
    if preset.dwpose is None:  # tiny and saved pipelines: the detector finds its own
        return None
    fallback = "Poses come from the fallback detector."
    if weights_dir is not None:
        notices.append(f"No DWPose weights ({', '.join(DWPOSE_FILES)}) in {weights_dir} or its "
                       f"DWPose/ folder. {fallback}")
        return None
    try:
        root = hub.fetch(preset.dwpose, allow_download=allow_download, progress=progress)
    except InputError as error:
        notices.append(f"No DWPose weights: {error} {fallback}")
        return None
    return (root / preset.dwpose.filenames[0]).parent


__all__ = ["LoadedPreset", "assemble", "download_preset", "load_preset", "preset_files"]
