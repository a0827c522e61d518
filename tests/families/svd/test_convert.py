"""animator.families.svd.convert on synthetic checkpoints with exactly the public keys and shapes.

The key lists below are written from shared/reference/checkpoints.md, not from our modules,
so a drift between our modules and the public layouts fails here. Values are random; the
tests check that they land where they belong and that the converted modules compute what
the same tensors compute when used by hand.
"""

from __future__ import annotations

import errno
import os
import pickle

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open

from animator.errors import InputError
from animator.families.svd import convert
from animator.families.svd.convert import (
    cache_path,
    expected_shapes,
    load_converted,
    read_checkpoint,
)
from animator.families.svd.models.identity import FaceProjector
from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.tiny import tiny_components

# (out, in, kernel, stride) of the public pose net's convs at conv_layers.0, 2, ..., 14.
POSE_CONVS = [(3, 3, 3, 1), (16, 3, 4, 2), (16, 16, 3, 1), (32, 16, 4, 2), (32, 32, 3, 1),
              (64, 32, 4, 2), (64, 64, 3, 1), (128, 64, 3, 1)]


def pose_net_shapes(out: int = 320) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for i, (o, c, k, _) in enumerate(POSE_CONVS):
        shapes[f"conv_layers.{2 * i}.weight"] = (o, c, k, k)
        shapes[f"conv_layers.{2 * i}.bias"] = (o,)
    shapes |= {"final_proj.weight": (out, 128, 1, 1), "final_proj.bias": (out,), "scale": (1,)}
    return shapes


def face_encoder_shapes(dim: int = 1024, clip: int = 1024, inner: int = 1024,
                        tokens: int = 4) -> dict[str, tuple[int, ...]]:
    """FusionFaceId(cross_attention_dim=dim, id_embeddings_dim=512, clip_embeddings_dim=clip)."""
    shapes = {"proj.0.weight": (1024, 512), "proj.0.bias": (1024,),
              "proj.2.weight": (dim * tokens, 1024), "proj.2.bias": (dim * tokens,),
              "norm.weight": (dim,), "norm.bias": (dim,),
              "fusion_model.proj_in.weight": (dim, clip), "fusion_model.proj_in.bias": (dim,),
              "fusion_model.proj_out.weight": (dim, dim), "fusion_model.proj_out.bias": (dim,),
              "fusion_model.norm_out.weight": (dim,), "fusion_model.norm_out.bias": (dim,)}
    for i in range(4):
        attn, ff = f"fusion_model.layers.{i}.0", f"fusion_model.layers.{i}.1"
        for norm in ("norm1", "norm2"):
            shapes |= {f"{attn}.{norm}.weight": (dim,), f"{attn}.{norm}.bias": (dim,)}
        shapes |= {f"{attn}.to_q.weight": (inner, dim), f"{attn}.to_kv.weight": (2 * inner, dim),
                   f"{attn}.to_out.weight": (dim, inner),
                   f"{ff}.0.weight": (dim,), f"{ff}.0.bias": (dim,),
                   f"{ff}.1.weight": (4 * dim, dim), f"{ff}.3.weight": (dim, 4 * dim)}
    return shapes


def random_state(shapes, dtype=torch.float32, std=0.05, seed=0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {k: (torch.randn(s, generator=g) * std).to(dtype) for k, s in shapes.items()}


def identity_keys(unet_state) -> dict[str, torch.Tensor]:
    """StableAnimator's id_to_k / id_to_v keys next to every spatial attn2, shaped like it."""
    out = {}
    for key, value in unet_state.items():
        if ".transformer_blocks.0.attn2.to_k.weight" in key and ".temporal_" not in key:
            for kv in ("k", "v"):
                name = key.replace("attn2.to_k.weight", f"attn2.processor.id_to_{kv}.weight")
                out[name] = torch.randn_like(value) * 0.05
    return out


def conv_by_hand(state, x):
    """The public pose net, written from checkpoints.md with plain functional ops."""
    for i, (*_, stride) in enumerate(POSE_CONVS):
        x = F.silu(F.conv2d(x, state[f"conv_layers.{2 * i}.weight"],
                            state[f"conv_layers.{2 * i}.bias"], stride=stride, padding=1))
    return F.conv2d(x, state["final_proj.weight"], state["final_proj.bias"]) * state["scale"]


@pytest.fixture(scope="module")
def tiny_unet():
    return tiny_components()["unet"]


def test_pose_net_layout_matches_the_public_one(tmp_path):
    shapes = pose_net_shapes()
    assert sum(torch.Size(s).numel() for s in shapes.values()) == 205_557
    state = random_state(shapes)
    torch.save(state, tmp_path / "pose_net.pth")
    encoder = FusedPoseEncoder(out_channels=320, with_dense=False)
    path = convert.convert(tmp_path / "pose_net.pth", "stableanimator-pose_net",
                           {"skeleton": expected_shapes(encoder.skeleton)})
    assert path == tmp_path / "pose_net.pth.animator.safetensors"
    encoder.skeleton.load_state_dict(load_converted(path, "skeleton"), strict=True)
    x = torch.rand(2, 3, 64, 48) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(encoder(x), conv_by_hand(state, x), atol=1e-6)
    assert encoder(x).shape == (2, 320, 8, 6)


def test_face_encoder_layout_matches_the_public_one(tmp_path):
    shapes = face_encoder_shapes()
    state = random_state(shapes)
    torch.save(state, tmp_path / "face_encoder.pth")
    projector = FaceProjector()
    assert expected_shapes(projector) == shapes  # same keys, same shapes, nothing else
    path = convert.convert(tmp_path / "face_encoder.pth", "stableanimator-face_encoder",
                           {"face_projector": shapes})
    loaded = load_converted(path, "face_projector")
    assert all(v.dtype == torch.float32 and torch.equal(v, state[k]) for k, v in loaded.items())
    half = load_converted(path, "face_projector", dtype=torch.float16)  # cast on request
    assert all(torch.equal(half[k], state[k].half()) for k in state)


def test_stableanimator_unet_splits_identity_weights(tmp_path, tiny_unet):
    unet_state = {k: torch.randn_like(v) for k, v in tiny_unet.state_dict().items()}
    ids = identity_keys(unet_state)
    assert len(ids) == 12  # 6 spatial cross-attentions in the tiny UNet, k and v
    torch.save(unet_state | ids, tmp_path / "unet.pth")
    expected = {"unet": expected_shapes(tiny_unet),
                "identity": {k: v.shape for k, v in ids.items()}}
    path = convert.convert(tmp_path / "unet.pth", "stableanimator-unet", expected)
    unet = load_converted(path, "unet")
    identity = load_converted(path, "identity")
    assert unet.keys() == unet_state.keys() and identity.keys() == ids.keys()
    assert all(torch.equal(unet[k], unet_state[k]) for k in unet)
    assert all(torch.equal(identity[k], ids[k]) for k in ids)


def test_mimicmotion_prefixes_and_fp16_kept(tmp_path, tiny_unet):
    unet_state = {f"unet.{k}": torch.randn_like(v).half()
                  for k, v in tiny_unet.state_dict().items()}
    pose_state = {f"pose_net.{k}": v for k, v in random_state(pose_net_shapes(32),
                                                              torch.float16).items()}
    torch.save(unet_state | pose_state, tmp_path / "MimicMotion_1-1.pth")
    encoder = FusedPoseEncoder(out_channels=32, with_dense=False)
    path = convert.convert(tmp_path / "MimicMotion_1-1.pth", "mimicmotion",
                           {"unet": expected_shapes(tiny_unet),
                            "skeleton": expected_shapes(encoder.skeleton)})
    skeleton = load_converted(path, "skeleton")
    assert skeleton["scale"].dtype == torch.float16  # preserved
    assert torch.equal(skeleton["final_proj.weight"], pose_state["pose_net.final_proj.weight"])
    unet = load_converted(path, "unet", dtype=torch.float32)
    assert len(unet) == len(unet_state) and unet["conv_in.weight"].dtype == torch.float32


def test_second_start_reads_the_cache_only(tmp_path, monkeypatch):
    state = random_state(pose_net_shapes())
    source = tmp_path / "pose_net.pth"
    torch.save(state, source)
    expected = {"skeleton": pose_net_shapes()}
    first = convert.convert(source, "stableanimator-pose_net", expected)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the pickle was opened again")

    monkeypatch.setattr(torch, "load", no_unpickling)
    assert convert.convert(source, "stableanimator-pose_net", expected) == first
    assert torch.equal(load_converted(first, "skeleton")["scale"], state["scale"])
    # A changed source (new mtime) is converted again.
    os.utime(source, ns=(0, 0))
    with pytest.raises(AssertionError, match="opened again"):
        convert.convert(source, "stableanimator-pose_net", expected)


def test_damaged_cache_is_redone(tmp_path):
    source = tmp_path / "pose_net.pth"
    torch.save(random_state(pose_net_shapes()), source)
    expected = {"skeleton": pose_net_shapes()}
    path = convert.convert(source, "stableanimator-pose_net", expected)
    path.write_bytes(path.read_bytes()[:100])  # a crash mid-write
    assert convert.convert(source, "stableanimator-pose_net", expected) == path
    with safe_open(path, "pt") as f:
        assert len(list(f.keys())) == len(expected["skeleton"])


def test_read_only_folder_caches_elsewhere(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    path = cache_path(tmp_path / "w" / "unet.pth")
    assert path.parent == tmp_path / "home" / "animator" / "converted"
    assert path.name.endswith("-unet.pth.animator.safetensors")


def convert_error(tmp_path, state, layout="stableanimator-pose_net", expected=None) -> str:
    torch.save(state, tmp_path / "x.pth")
    with pytest.raises(InputError) as info:
        convert.convert(tmp_path / "x.pth", layout, expected or {"skeleton": pose_net_shapes()},
                        name="Animation/pose_net.pth")
    assert not list(tmp_path.glob("*.safetensors*")), "nothing cached for a refused file"
    return str(info.value)


def test_wrong_key_is_named(tmp_path):
    state = random_state(pose_net_shapes())
    state["conv_layers.1.weight"] = state.pop("conv_layers.2.weight")
    message = convert_error(tmp_path, state)
    assert message.startswith("Animation/pose_net.pth does not fit the StableAnimator "
                              "pose_net.pth layout: 1 missing key(s): conv_layers.2.weight; "
                              "1 unexpected key(s): conv_layers.1.weight.")
    assert "python -m animator download" in message


def test_wrong_shape_is_named(tmp_path):
    state = random_state(pose_net_shapes(out=1280))
    message = convert_error(tmp_path, state)
    assert "2 wrong shape(s): final_proj.weight is [1280, 128, 1, 1] in the file, " \
           "[320, 128, 1, 1] in the model; final_proj.bias is [1280]" in message


def test_many_keys_are_grouped(tmp_path, tiny_unet):
    """A file of the wrong kind: hundreds of keys, a few readable groups."""
    state = {k: torch.zeros(1) for k in tiny_unet.state_dict()}
    message = convert_error(tmp_path, state)
    assert "19 missing key(s): conv_layers.*.weight (8 keys), conv_layers.*.bias (8 keys), " \
           "final_proj.weight, final_proj.bias, and 1 more groups; " in message
    assert f"{len(state)} unexpected key(s): conv_in.weight, " in message
    assert len(message) < 600


def test_non_tensor_entries_are_named(tmp_path):
    state = random_state(pose_net_shapes()) | {"epoch": 3}
    assert "1 entries that are not tensors: epoch (int)" in convert_error(tmp_path, state)


class Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


class Holder:
    pass


@pytest.mark.parametrize("extra, named", [(Payload(), "posix.system"),
                                          (Holder(), "Holder")])
def test_pickles_with_objects_are_refused(tmp_path, extra, named, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "evil.pth"
    torch.save({"scale": torch.ones(1), "x": extra}, source)
    with pytest.raises(InputError) as info:
        read_checkpoint(source)
    assert "holds Python objects besides tensors" in str(info.value)
    assert named in str(info.value) and "could run code" in str(info.value)
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)
    assert not (tmp_path / "PWNED").exists()


def test_damaged_pickle_is_refused(tmp_path):
    source = tmp_path / "cut.pth"
    torch.save(random_state(pose_net_shapes()), source)
    source.write_bytes(source.read_bytes()[:5000])
    with pytest.raises(InputError, match="is not a readable PyTorch checkpoint"):
        read_checkpoint(source)
    (tmp_path / "list.pth").unlink(missing_ok=True)
    torch.save([torch.ones(1)], tmp_path / "list.pth")
    with pytest.raises(InputError, match="holds a list, not a state dict"):
        read_checkpoint(tmp_path / "list.pth")


def test_missing_source_and_full_disk(tmp_path, monkeypatch):
    expected = {"skeleton": pose_net_shapes()}
    with pytest.raises(InputError, match=r"^Animation/pose_net.pth is missing \("):
        convert.convert(tmp_path / "nothing.pth", "stableanimator-pose_net", expected,
                        name="Animation/pose_net.pth")
    torch.save(random_state(pose_net_shapes()), tmp_path / "pose_net.pth")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(convert, "save_file", full)
    with pytest.raises(InputError, match=f"The disk is full: converting .* free in {tmp_path}"):
        convert.convert(tmp_path / "pose_net.pth", "stableanimator-pose_net", expected)
