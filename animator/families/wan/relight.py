"""Replace mode's relighting LoRA, as Wan2.2's `--use_relighting_lora` has it: the file
`relighting_lora.ckpt` of Wan-AI/Wan2.2-Animate-14B is a PEFT state dict (rank 128, alpha
128) over every linear layer of the transformer's blocks except the face and modulation
ones, in the original Wan module names. It is read once with `weights_only=True`, its names
mapped to diffusers' `WanAnimateTransformer3DModel`, cached beside it as safetensors, and
loaded through diffusers' own LoRA loading as the adapter "relight", switched on only for
the replace-mode calls that ask for it.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from animator.errors import InputError
from animator.families import hub

RELIGHT_REPO = "Wan-AI/Wan2.2-Animate-14B"
RELIGHT_FILE = "relighting_lora.ckpt"
RELIGHT = hub.RemoteFiles(RELIGHT_REPO, [RELIGHT_FILE])
ADAPTER = "relight"
CACHED_SUFFIX = ".diffusers.safetensors"

# original module (inside blocks.N.) -> diffusers' module
_MODULES = {
    "self_attn.q": "attn1.to_q", "self_attn.k": "attn1.to_k", "self_attn.v": "attn1.to_v",
    "self_attn.o": "attn1.to_out.0",
    "cross_attn.q": "attn2.to_q", "cross_attn.k": "attn2.to_k", "cross_attn.v": "attn2.to_v",
    "cross_attn.o": "attn2.to_out.0",
    "cross_attn.k_img": "attn2.add_k_proj", "cross_attn.v_img": "attn2.add_v_proj",
    "ffn.0": "ffn.net.0.proj", "ffn.2": "ffn.net.2",
}  # fmt: skip
_KEY = re.compile(r"^(?:diffusion_model\.|base_model\.model\.)?blocks\.(\d+)\.(.+)\."
                  r"(lora_A|lora_B)(?:\.default)?\.weight$")


def to_diffusers(state: dict[str, torch.Tensor], alpha: float | None = None
                 ) -> dict[str, torch.Tensor]:
    """The PEFT state dict in Wan's names as diffusers LoRA keys ("transformer.blocks.N.
    attn1.to_q.lora_A.weight", ...). `alpha` (None: equal to the rank, the public file's
    128/128) is folded into lora_B, so diffusers' default scale of 1 gives the same update."""
    out, unknown = {}, []
    for key, value in state.items():
        found = _KEY.match(key)
        if found is None or found[2] not in _MODULES:
            unknown.append(key)
            continue
        block, module, part = found[1], _MODULES[found[2]], found[3]
        out[f"transformer.blocks.{block}.{module}.{part}.weight"] = value
    if unknown:
        raise InputError(f"The relighting LoRA has {len(unknown)} entries that are not Wan "
                         f"block layers (e.g. {unknown[0]!r}): fetch it again with "
                         "`python -m animator download --preset wan-animate`.")
    if not out:
        raise InputError("The relighting LoRA file holds no LoRA weights: fetch it again "
                         "with `python -m animator download --preset wan-animate`.")
    if alpha is not None:
        for key in [k for k in out if k.endswith("lora_B.weight")]:
            rank = out[key.replace("lora_B", "lora_A")].shape[0]
            out[key] = out[key] * (alpha / rank)
    return {k: v.contiguous() for k, v in out.items()}


def cached(ckpt: str | Path) -> Path:
    """The diffusers-named safetensors beside `ckpt`, made once (read with
    `weights_only=True`: tensors only, nothing unpickled beyond them)."""
    ckpt = Path(ckpt)
    target = ckpt.with_name(ckpt.stem + CACHED_SUFFIX)
    if target.is_file() and target.stat().st_mtime >= ckpt.stat().st_mtime:
        return target
    try:
        data = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged or non-tensor pickle
        raise InputError(f"Could not read the relighting LoRA {ckpt.name} as tensors "
                         f"({error}); fetch it again with `python -m animator download "
                         "--preset wan-animate`.") from error
    state = data.get("state_dict", data) if isinstance(data, dict) else None
    if not isinstance(state, dict):
        raise InputError(f"{ckpt.name} is not a LoRA state dict.")
    converted = to_diffusers(state)
    temp = target.with_name(f".{target.name}.tmp")
    save_file(converted, temp)
    temp.replace(target)
    return target


def attach(pipe, ckpt: str | Path) -> None:
    """Load the relighting LoRA into `pipe` as adapter "relight", switched off."""
    pipe.load_lora_weights(load_file(cached(ckpt)), adapter_name=ADAPTER)
    pipe.disable_lora()


def relight_file(weights_dir: str | Path | None = None) -> Path | None:
    """The relighting LoRA on this machine (WEIGHTS_DIR/relighting_lora.ckpt or the hub
    cache), None when it is not; nothing is downloaded."""
    if weights_dir is not None:
        path = Path(weights_dir).expanduser() / RELIGHT_FILE
        return path if path.is_file() else None
    try:
        return hub.fetch(RELIGHT, allow_download=False) / RELIGHT_FILE
    except InputError:
        return None
