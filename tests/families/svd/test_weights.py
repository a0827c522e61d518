"""Presets end to end on tiny folders in the public repositories' layouts, with no network.

The fake folders hold a tiny SVD diffusers copy (saved by diffusers itself, UNet weights
removed: the presets must not need them) and synthetic controller pickles with the public
keys (tests/test_convert.py). Hub behaviour (downloads, offline, gated) runs through the real
huggingface_hub code against an in-process fake Hub, as in tests/test_hub.py.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import httpx2
import numpy as np
import pytest
import torch
from diffusers import StableVideoDiffusionPipeline
from huggingface_hub import constants, set_client_factory
from huggingface_hub.utils._http import default_client_factory, hf_request_event_hook

from animator.cli import main
from animator.errors import InputError
from animator.families.svd import presets, weights
from animator.families.svd.config import GenerationConfig
from animator.families.svd.models.identity import FaceProjector
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.tiny import tiny_components, tiny_pipeline
from animator.families.svd.models.unet import identity_processors, load_identity_state_dict
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.presets import PRESETS, get_preset, save_preset_json
from animator.families.svd.weights import download_preset, load_preset, preset_files
from tests.families.svd.test_convert import (
    face_encoder_shapes,
    identity_keys,
    pose_net_shapes,
    random_state,
)

SA_SVD = "SVD/stable-video-diffusion-img2vid-xt/"  # the less obvious of the two layouts
CALL = dict(height=64, width=64, num_inference_steps=2, seed=0, window=4, overlap=1)


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """No face models or hub cache from the machine leak in."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_HOME", str(home / "hf"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def save_svd(folder: Path, variant: str | None = None) -> None:
    StableVideoDiffusionPipeline(**tiny_components()).save_pretrained(folder, variant=variant)
    for path in (folder / "unet").glob("*.safetensors"):
        path.unlink()


@pytest.fixture(scope="module")
def sa_state():
    """Synthetic StableAnimator tensors for the tiny model (pose net out 32, face dim 32)."""
    unet = tiny_components()["unet"].state_dict()
    unet = {k: v + 0.01 * torch.randn_like(v) for k, v in unet.items()}
    return {"unet": unet, "identity": identity_keys(unet),
            "pose": random_state(pose_net_shapes(32), seed=1),
            "face": random_state(face_encoder_shapes(32, 32, 64), seed=2)}


@pytest.fixture(scope="module")
def sa_dir(tmp_path_factory, sa_state):
    root = tmp_path_factory.mktemp("stableanimator")
    save_svd(root / SA_SVD)
    (root / "Animation").mkdir()
    torch.save(sa_state["pose"], root / "Animation" / "pose_net.pth")
    torch.save(sa_state["face"], root / "Animation" / "face_encoder.pth")
    torch.save(sa_state["unet"] | sa_state["identity"], root / "Animation" / "unet.pth")
    return root


@pytest.fixture(scope="module")
def mm_state():
    unet = tiny_components()["unet"].state_dict()
    return {"unet": {k: (v + 0.01 * torch.randn_like(v)).half() for k, v in unet.items()},
            "pose": random_state(pose_net_shapes(32), torch.float16, seed=3)}


@pytest.fixture(scope="module")
def mm_dir(tmp_path_factory, mm_state):
    root = tmp_path_factory.mktemp("mimicmotion")
    save_svd(root, variant="fp16")  # names only: the tensors stay float32
    torch.save({f"unet.{k}": v for k, v in mm_state["unet"].items()}
               | {f"pose_net.{k}": v for k, v in mm_state["pose"].items()},
               root / "MimicMotion_1-1.pth")
    return root


def inputs(frames: int = 3):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    skeleton = rng.integers(0, 256, (frames, 64, 64, 3), dtype=np.uint8)
    face = rng.standard_normal(512).astype(np.float32)
    return image, skeleton, face


def by_hand(unet_state, pose_state, face_state=None, identity_state=None) -> AnimationPipeline:
    """The pipeline the presets should build, assembled from the same tensors directly."""
    parts = tiny_components()
    parts["unet"].load_state_dict({k: v.float() for k, v in unet_state.items()})
    pose = FusedPoseEncoder(out_channels=32, with_dense=False).eval()
    pose.skeleton.load_state_dict({k: v.float() for k, v in pose_state.items()})
    face = None
    if face_state is not None:
        face = FaceProjector(cross_attention_dim=32, clip_embeddings_dim=32, heads=1,
                             dim_head=64).eval()
        face.load_state_dict(face_state)
    pipe = AnimationPipeline(**parts, pose_encoder=pose, face_projector=face,
                             identity_mode="normalized")
    if identity_state is not None:
        load_identity_state_dict(pipe.unet, identity_state)
    return pipe


def assert_same_frames(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_array_equal(a, b)
    assert a.std() > 1  # not a blank or NaN-made picture


# ----------------------------------------------------------------------------- presets


def test_face_embedder_gets_the_preset_channel_order(tmp_path, monkeypatch):
    made = []

    class Recorder:
        def __init__(self, folder, device="cpu", channels="bgr", retry=None,
                     retry_notice=None):
            made.append((folder, device, channels))

    (tmp_path / "antelopev2").mkdir()
    (tmp_path / "antelopev2" / "model.onnx").write_bytes(b"")
    monkeypatch.setattr(weights, "FaceEmbedder", Recorder)
    notices = []
    for name in ("stableanimator", "tiny"):
        weights._face_embedder(PRESETS[name], tmp_path, "cpu", False, None, notices)
    assert [m[2] for m in made] == ["rgb", "bgr"] and not notices


def test_files_needed_never_include_the_big_unused_ones():
    files = preset_files(PRESETS["stableanimator"])  # nothing cached: first candidate folder
    names = [n for f in files for n in f.filenames]
    assert "SVD/unet/config.json" in names and "SVD/vae/diffusion_pytorch_model.fp16." \
        "safetensors" in names
    assert not any(n.startswith("SVD/unet/diffusion") or "svd_xt" in n for n in names)
    assert {"Animation/unet.pth", "DWPose/yolox_l.onnx", "antelopev2/glintr100.onnx"} <= set(names)


# ----------------------------------------------------------------------------- loading


def test_tiny_loads_offline():
    loaded = load_preset("tiny")
    assert loaded.preset is PRESETS["tiny"] and loaded.face is None and loaded.dwpose_dir is None
    assert any("No face model" in n for n in loaded.notices)
    image, skeleton, face = inputs(2)
    frames = loaded.pipeline(image, skeleton, face_embedding=face, **CALL).frames
    assert frames.shape == (2, 64, 64, 3)


def test_stableanimator_folder_end_to_end(sa_dir, sa_state):
    seen = []
    loaded = load_preset("stableanimator", weights_dir=sa_dir,
                         progress=lambda f, d: seen.append(d))
    pipe = loaded.pipeline
    assert loaded.face is None and loaded.dwpose_dir is None
    assert [n.split(" (")[0].split(":")[0] for n in loaded.notices] == [
        "No face model", "No DWPose weights"]
    assert "Loading Animation/unet.pth (converted on the first start only)" in seen
    procs = identity_processors(pipe.unet)
    assert len(procs) == 6 and all(p.mode == "normalized" for p in procs.values())
    assert pipe.pose_encoder.dense is None and pipe.unet.dtype == torch.float32
    tensors = [*pipe.unet.state_dict().values(), *pipe.pose_encoder.state_dict().values(),
               *pipe.face_projector.state_dict().values()]
    assert not any(t.is_meta for t in tensors)
    for key, value in sa_state["unet"].items():
        assert torch.equal(pipe.unet.state_dict()[key], value), key
    image, skeleton, face = inputs()
    frames = pipe(image, skeleton, face_embedding=face, **CALL).frames
    expected = by_hand(sa_state["unet"], sa_state["pose"], sa_state["face"],
                       sa_state["identity"])(image, skeleton, face_embedding=face, **CALL).frames
    assert_same_frames(frames, expected)
    assert (sa_dir / "Animation" / "unet.pth.animator.safetensors").is_file()


def test_mimicmotion_folder_end_to_end(mm_dir, mm_state):
    loaded = load_preset("mimicmotion", weights_dir=mm_dir)
    pipe = loaded.pipeline
    assert pipe.face_projector is None and not identity_processors(pipe.unet)
    assert loaded.face is None and [n.split(" (")[0] for n in loaded.notices] == [
        "No DWPose weights"]
    assert pipe.unet.dtype == torch.float32  # fp16 file, cast on request
    image, skeleton, _ = inputs()
    call = CALL | dict(reference_pose=skeleton[0])
    frames = pipe(image, skeleton, **call).frames
    expected = by_hand(mm_state["unet"], mm_state["pose"])(image, skeleton, **call).frames
    assert_same_frames(frames, expected)


def test_second_start_skips_the_pickles(sa_dir, monkeypatch):
    load_preset("stableanimator", weights_dir=sa_dir)  # converts, if no earlier test did

    def no_unpickling(*args, **kwargs):
        raise AssertionError("a pickle was opened again")

    monkeypatch.setattr(torch, "load", no_unpickling)
    assert load_preset("stableanimator", weights_dir=sa_dir).pipeline.face_projector is not None


def test_weights_dir_missing_files_names_them(tmp_path, sa_dir):
    shutil.copytree(sa_dir / "SVD", tmp_path / "SVD")
    with pytest.raises(InputError) as info:
        load_preset("stableanimator", weights_dir=tmp_path)
    assert str(info.value) == (
        f"{tmp_path} lacks files of the stableanimator preset: Animation/pose_net.pth, "
        "Animation/face_encoder.pth, Animation/unet.pth. Run `python -m animator download "
        f"--preset stableanimator --weights-dir {tmp_path}` to fill it, or point --weights-dir "
        "at the folder that holds them.")


def test_local_round_trip(tmp_path):
    pipe = tiny_pipeline(random_init=True, identity_mode="normalized")
    pipe.save_pretrained(tmp_path)
    preset = weights.replace(PRESETS["mimicmotion"], defaults=GenerationConfig(window=5))
    save_preset_json(preset, tmp_path)
    loaded = load_preset(f"local:{tmp_path}")
    assert loaded.preset.name == f"local:{tmp_path}"
    assert (loaded.preset.swap_rb, loaded.preset.style, loaded.preset.reference_anchor,
            loaded.preset.defaults, loaded.preset.sizes) == \
        (True, "confidence", True, GenerationConfig(window=5), ((1024, 576),))
    assert loaded.preset.identity and loaded.preset.identity_mode == "normalized"
    image, skeleton, face = inputs()
    kwargs = dict(dense=skeleton[::-1].copy(), face_embedding=face, **CALL)
    assert_same_frames(loaded.pipeline(image, skeleton, **kwargs).frames,
                       pipe(image, skeleton, **kwargs).frames)
    # Without the JSON: StableAnimator-like conventions.
    (tmp_path / presets.PRESET_JSON).unlink()
    assert get_preset(f"local:{tmp_path}").swap_rb is True
    with pytest.raises(InputError, match="holds no saved pipeline"):
        get_preset(f"local:{tmp_path / 'nothing'}")


# ----------------------------------------------------------------------------- the hub


OFFLINE = ("The stableanimator weights are not on this machine (files of FrancisRing/"
           "StableAnimator are missing in {cache}) and downloads are off (HF_HUB_OFFLINE=1).")
FIX = ("Run `python -m animator download --preset stableanimator` on a machine with internet "
       "access and copy its cache here, or pass --weights-dir with a folder that holds them.")


def test_offline_without_files_is_one_clear_error():
    with pytest.raises(InputError) as info:
        load_preset("stableanimator")
    assert str(info.value) == OFFLINE.format(cache=constants.HF_HUB_CACHE) + " " + FIX


def test_cli_download_offline(capsys):
    assert main(["download"]) == 2
    err = capsys.readouterr().err
    assert "\nerror: " + OFFLINE.format(cache=constants.HF_HUB_CACHE) in err
    assert "Unset HF_HUB_OFFLINE to download them. " + FIX in err


def test_mimicmotion_offline_names_its_download_and_the_gated_base(capsys, portrait_path,
                                                                   tmp_path):
    """SVD-xt-1.1 is gated: the message says how to get access, and the command to run."""
    for argv in (["download", "--preset", "mimicmotion"],
                 ["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                  "mimicmotion", "--out", str(tmp_path / "x.mp4")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "Run `python -m animator download --preset mimicmotion`" in err
        assert ("stabilityai/stable-video-diffusion-img2vid-xt-1-1 is gated: before "
                "downloading, accept its license at https://huggingface.co/stabilityai/"
                "stable-video-diffusion-img2vid-xt-1-1 while logged in") in err
        assert "HF_TOKEN" in err and "Traceback" not in err


COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Serves the files of local folders as Hub repositories; `gated` repos answer 401."""

    def __init__(self, repos: dict[str, Path], gated: tuple[str, ...] = ()):
        self.repos = {repo: {p.relative_to(root).as_posix(): p for p in root.rglob("*")
                             if p.is_file() and ".animator" not in p.name}
                      for repo, root in repos.items()}
        self.gated = gated
        self.downloaded: list[str] = []
        self.requests = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == "/api/agent-harnesses":  # the hub's own environment probe
            return httpx2.Response(404)
        self.requests += 1
        for repo, files in self.repos.items():
            if repo in self.gated and repo in path:
                return httpx2.Response(401, headers={"X-Error-Code": "GatedRepo"})
            if path == f"/api/models/{repo}/revision/main":
                return httpx2.Response(200, json={"id": repo, "sha": COMMIT})
            if path.startswith(f"/api/models/{repo}/tree/{COMMIT}"):
                return httpx2.Response(200, json=[
                    {"type": "file", "path": name, "size": file.stat().st_size,
                     "oid": hashlib.sha1(name.encode()).hexdigest()}
                    for name, file in files.items()])
            prefix = f"/{repo}/resolve/{COMMIT}/"
            if path.startswith(prefix):
                name = path.removeprefix(prefix)
                data = files[name].read_bytes()
                if request.method == "GET":
                    self.downloaded.append(f"{repo}/{name}")
                return httpx2.Response(200, content=b"" if request.method == "HEAD" else data,
                                       headers={"X-Repo-Commit": COMMIT,
                                                "Content-Length": str(len(data)),
                                                "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})
        return httpx2.Response(404, headers={"X-Error-Code": "RepoNotFound"})


@pytest.fixture
def fake_hub(monkeypatch):
    hubs = []

    def serve(repos, gated=()):
        fake = FakeHub(repos, gated)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        set_client_factory(lambda: httpx2.Client(
            transport=httpx2.MockTransport(fake), follow_redirects=True,
            event_hooks={"request": [hf_request_event_hook]}))
        hubs.append(fake)
        return fake

    yield serve
    set_client_factory(default_client_factory)


@pytest.fixture(scope="module")
def sa_repo(tmp_path_factory, sa_dir):
    """StableAnimator's repository as published: everything, including what we must skip."""
    root = tmp_path_factory.mktemp("sa_repo")
    shutil.copytree(sa_dir, root, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.animator*"))
    svd = root / SA_SVD
    for name in ("svd_xt.safetensors", "svd_xt_image_decoder.safetensors",
                 "unet/diffusion_pytorch_model.safetensors",
                 "unet/diffusion_pytorch_model.fp16.safetensors"):
        (svd / name).write_bytes(b"must not be downloaded")
    for part, name in (("vae", "diffusion_pytorch_model"), ("image_encoder", "model")):
        shutil.copy(svd / part / f"{name}.safetensors", svd / part / f"{name}.fp16.safetensors")
        (svd / part / f"{name}.safetensors").write_bytes(b"the fp16 copy is preferred")
    (root / "DWPose").mkdir()
    for name in ("yolox_l.onnx", "dw-ll_ucoco_384.onnx"):
        (root / "DWPose" / name).write_bytes(name.encode())
    (root / "models" / "antelopev2").mkdir(parents=True)
    for name in ("scrfd_10g_bnkps.onnx", "glintr100.onnx", "1k3d68.onnx", "genderage.onnx"):
        (root / "models" / "antelopev2" / name).write_bytes(b"damaged onnx " + name.encode())
    return root


def test_download_fetches_only_what_is_needed_then_loads_offline(fake_hub, sa_repo, sa_state):
    hub = fake_hub({"FrancisRing/StableAnimator": sa_repo})
    seen = []
    folders = download_preset("stableanimator", progress=lambda f, d: seen.append((f, d)))
    assert len(folders) == 1 and folders[0].name == COMMIT
    got = {name.removeprefix("FrancisRing/StableAnimator/") for name in hub.downloaded}
    svd = [f"{SA_SVD}{name}" for name in presets.SVD_FILES]
    assert got == {*svd, "Animation/pose_net.pth", "Animation/face_encoder.pth",
                   "Animation/unet.pth", "DWPose/yolox_l.onnx", "DWPose/dw-ll_ucoco_384.onnx",
                   "models/antelopev2/scrfd_10g_bnkps.onnx", "models/antelopev2/glintr100.onnx"}
    assert seen[-1][0] == 1.0
    # Everything is in the cache now: a start finds it all without asking the hub anything.
    hub.requests = 0
    loaded = load_preset("stableanimator")
    assert hub.requests == 0
    assert loaded.dwpose_dir == folders[0] / "DWPose"
    assert loaded.face is None and "damaged" in loaded.notices[0]  # our fake ONNX files
    assert (folders[0] / "Animation" / "unet.pth.animator.safetensors").is_file()
    image, skeleton, face = inputs(2)
    frames = loaded.pipeline(image, skeleton, face_embedding=face, **CALL).frames
    expected = by_hand(sa_state["unet"], sa_state["pose"], sa_state["face"],
                       sa_state["identity"])(image, skeleton, face_embedding=face, **CALL).frames
    assert_same_frames(frames, expected)


def test_cli_download_into_weights_dir(fake_hub, mm_dir, tmp_path, capsys):
    (mm_dir / "yolox_l.onnx").write_bytes(b"detector")
    (mm_dir / "dw-ll_ucoco_384.onnx").write_bytes(b"pose")
    fake_hub({presets.SVD_XT_1_1_REPO: mm_dir, "tencent/MimicMotion": mm_dir,
              "yzd-v/DWPose": mm_dir})
    try:
        target = tmp_path / "w"
        assert main(["download", "--preset", "mimicmotion", "--weights-dir", str(target)]) == 0
        out, err = capsys.readouterr()
        assert out == f"{target.resolve()}\n" and "gated repository" in err
        assert (target / "vae" / "diffusion_pytorch_model.fp16.safetensors").is_file()
        assert not (target / "unet" / "diffusion_pytorch_model.safetensors").exists()
        loaded = load_preset("mimicmotion", weights_dir=target, allow_download=False)
        assert loaded.dwpose_dir == target.resolve() and loaded.notices == []
    finally:
        for name in ("yolox_l.onnx", "dw-ll_ucoco_384.onnx"):
            (mm_dir / name).unlink()


def test_gated_base_names_token_and_license(fake_hub, mm_dir):
    fake_hub({presets.SVD_XT_1_1_REPO: mm_dir}, gated=(presets.SVD_XT_1_1_REPO,))
    with pytest.raises(InputError) as info:
        load_preset("mimicmotion")
    assert str(info.value) == (
        "stabilityai/stable-video-diffusion-img2vid-xt-1-1 is gated: accept its license at "
        "https://huggingface.co/stabilityai/stable-video-diffusion-img2vid-xt-1-1 while logged "
        "in, then give this machine your token (set HF_TOKEN, or run `hf auth login`).")
    assert main(["download", "--preset", "mimicmotion"]) == 2
