"""Public checkpoints -> our modules' weights, checked key by key, converted once, cached.

The public animators ship pickled state dicts (shared/reference/checkpoints.md). A pickle can
run code when it is read, so they are opened only with `torch.load(weights_only=True)`, which
refuses anything but tensors and plain containers. Each file's keys are then routed to our
modules by a `Layout` and checked strictly against those modules' own state dicts: every key
used, none missing, every shape equal. A mismatch means a wrong or damaged file, or a preset
that no longer matches its repository, and is reported with the offending keys grouped.

The result is written once as a safetensors file next to the source (`<file>.animator
.safetensors`, keys "<target>.<our key>"), tagged with the source's size and mtime; later
starts read that and never touch the pickle again. The pickle is memory-mapped and written out
from those pages, so converting a 6 GB checkpoint allocates no copy of it; casting to the
pipeline's dtype happens tensor by tensor when the cache is read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from animator.errors import InputError

FORMAT = "animator-convert/1"  # bump when a layout's routing changes: old caches are redone
# The identity processors' weights inside StableAnimator's unet.pth.
IDENTITY_SUFFIXES = (".processor.id_to_k.weight", ".processor.id_to_v.weight")
_REDOWNLOAD = ("Check that it is the right file and complete: delete it and run "
               "`python -m animator download` again.")

Shapes = Mapping[str, tuple[int, ...]]


@dataclass(frozen=True)
class Layout:
    """Where the keys of one public file go: our target modules and their key prefixes."""

    title: str  # how messages name the layout
    prefixes: dict[str, str]  # our target -> the prefix its keys carry in the file
    identity: bool = False  # keys ending in IDENTITY_SUFFIXES go to the "identity" target
    targets: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        extra = ("identity",) if self.identity else ()
        object.__setattr__(self, "targets", (*self.prefixes, *extra))

    def route(self, key: str) -> tuple[str, str] | None:
        """(target, key in the target) for a key of the file; None when nothing takes it."""
        if self.identity and key.endswith(IDENTITY_SUFFIXES):
            return "identity", key
        for target, prefix in self.prefixes.items():
            if key.startswith(prefix):
                return target, key[len(prefix):]
        return None

    def source_key(self, target: str, key: str) -> str:
        return key if target == "identity" else self.prefixes[target] + key


LAYOUTS = {
    # StableAnimator Animation/pose_net.pth: the skeleton encoder, no prefix.
    "stableanimator-pose_net": Layout("StableAnimator pose_net.pth", {"skeleton": ""}),
    # StableAnimator Animation/face_encoder.pth: FusionFaceId, no prefix.
    "stableanimator-face_encoder": Layout("StableAnimator face_encoder.pth",
                                          {"face_projector": ""}),
    # StableAnimator Animation/unet.pth: the whole UNet plus the identity processors.
    "stableanimator-unet": Layout("StableAnimator unet.pth", {"unet": ""}, identity=True),
    # MimicMotion_1-1.pth: `unet.` (the whole UNet) and `pose_net.` (the skeleton encoder).
    "mimicmotion": Layout("MimicMotion checkpoint", {"unet": "unet.", "skeleton": "pose_net."}),
}


def expected_shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    """{key: shape} of a module's state dict; works on a module built on the meta device."""
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """A pickled state dict, memory-mapped; refuses any pickle that holds more than data."""
    path = Path(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"GLOBAL (\S+)", str(error))
        what = f" (it refers to {found.group(1)})" if found else ""
        raise InputError(f"{path} holds Python objects besides tensors{what}, and loading it "
                         "could run code, so it was not loaded. Use the file from the preset's "
                         "official repository.") from error
    except (RuntimeError, OSError) as error:  # absent, not a zip archive, truncated, damaged
        raise InputError(f"{path} is not a readable PyTorch checkpoint ({str(error)[:120]}). "
                         + _REDOWNLOAD) from error
    if not isinstance(state, Mapping):
        raise InputError(f"{path} holds a {type(state).__name__}, not a state dict of tensors. "
                         + _REDOWNLOAD)
    return state


def _pattern(key: str) -> str:
    return re.sub(r"(?<=\.)\d+(?=\.|$)", "*", key)


def summarize_keys(keys: Iterable[str], limit: int = 4) -> str:
    """Keys grouped by their pattern with block numbers as `*`, at most `limit` groups shown."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(_pattern(key), []).append(key)
    parts = [members[0] if len(members) == 1 else f"{pattern} ({len(members)} keys)"
             for pattern, members in groups.items()]
    if len(parts) > limit:
        parts = parts[:limit] + [f"and {len(parts) - limit} more groups"]
    return ", ".join(parts)


def check_keys(items: Iterable[tuple[str, object]], layout: Layout,
               expected: Mapping[str, Shapes], name: str) -> None:
    """Raise one InputError listing what does not fit: (key, tensor or shape) pairs of the file
    against the state-dict shapes of each target in `expected`."""
    unexpected, not_tensors, wrong, seen = [], [], [], set()
    for key, value in items:
        if isinstance(value, torch.Tensor):
            shape = tuple(value.shape)
        elif isinstance(value, tuple):
            shape = value
        else:
            not_tensors.append(f"{key} ({type(value).__name__})")
            continue
        routed = layout.route(key)
        if routed is None or routed[1] not in expected.get(routed[0], {}):
            unexpected.append(key)
            continue
        seen.add(routed)
        want = tuple(expected[routed[0]][routed[1]])
        if shape != want:
            wrong.append(f"{key} is {list(shape)} in the file, {list(want)} in the model")
    missing = [layout.source_key(target, key) for target in layout.targets
               for key in expected[target] if (target, key) not in seen]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s): {summarize_keys(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s): {summarize_keys(unexpected)}")
    if not_tensors:
        problems.append(f"{len(not_tensors)} entries that are not tensors: "
                        f"{', '.join(not_tensors[:4])}")
    if wrong:
        problems.append(f"{len(wrong)} wrong shape(s): {'; '.join(wrong[:4])}"
                        + (f"; and {len(wrong) - 4} more" if len(wrong) > 4 else ""))
    if problems:
        raise InputError(f"{name} does not fit the {layout.title} layout: "
                         f"{'; '.join(problems)}. {_REDOWNLOAD}")


def cache_path(source: str | Path) -> Path:
    """Where the converted copy of `source` lives: next to it when that folder is writable,
    else in HF_HOME/animator/converted under a name unique to the source's path."""
    source = Path(source).absolute()
    name = f"{source.name}.animator.safetensors"
    if os.access(source.parent, os.W_OK):
        return source.parent / name
    from huggingface_hub import constants

    digest = hashlib.sha1(str(source).encode()).hexdigest()[:16]
    return Path(constants.HF_HOME) / "animator" / "converted" / f"{digest}-{name}"


def _metadata(source: Path, layout: str) -> dict[str, str]:
    stat = source.stat()
    return {"format": FORMAT, "layout": layout, "source_size": str(stat.st_size),
            "source_mtime_ns": str(stat.st_mtime_ns)}


def _write_safetensors(path: Path, tensors: dict[str, torch.Tensor],
                       metadata: dict[str, str]) -> None:
    """Write under a temporary name, then rename: a crash never leaves a half file behind.
    safetensors (0.8) writes straight from the tensors, here pages of the mapped pickle."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    try:
        save_file(tensors, partial, metadata=metadata)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _cached_shapes(path: Path, metadata: dict[str, str]) -> list[tuple[str, tuple]] | None:
    """(key, shape) pairs of a cache made from the same source by the same layout, else None."""
    try:
        with safe_open(path, "pt") as f:
            if f.metadata() != metadata:
                return None
            return [(key, tuple(f.get_slice(key).get_shape())) for key in f.keys()]
    except (OSError, SafetensorError):  # absent, or cut short by a crash mid-write
        return None


def convert(source: str | Path, layout: str, expected: Mapping[str, Shapes], *,
            name: str | None = None) -> Path:
    """Convert a public checkpoint once; return the cached safetensors file.

    `expected` holds {target: {key: shape}} for each of the layout's targets (see
    `expected_shapes`). Tensors keep the file's dtypes (`load_converted` casts). `name` is how
    messages call the file (default: its path). A valid cache is checked against `expected`
    too and returned without opening the pickle.
    """
    source = Path(source)
    name = name or str(source)
    if not source.is_file():
        raise InputError(f"{name} is missing ({source}): run `python -m animator download`.")
    spec = LAYOUTS[layout]
    missing_targets = set(spec.targets) - set(expected)
    if missing_targets:
        raise ValueError(f"expected shapes for {sorted(missing_targets)} are needed")
    path = cache_path(source)
    metadata = _metadata(source, layout)
    cached = _cached_shapes(path, metadata)
    if cached is not None:
        check_keys(cached, Layout(spec.title, {t: f"{t}." for t in spec.targets}), expected,
                   f"{name} (converted copy {path})")
        return path
    state = read_checkpoint(source)
    check_keys(state.items(), spec, expected, name)
    converted = {}
    for key, tensor in state.items():
        target, ours = spec.route(key)
        converted[f"{target}.{ours}"] = tensor.contiguous()
    try:
        _write_safetensors(path, converted, metadata)
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        raise InputError(f"The disk is full: converting {name} needs about "
                         f"{source.stat().st_size / 1e9:.1f} GB free in {path.parent}. Free "
                         "that much and start again.") from error
    return path


def load_converted(path: str | Path, target: str, *, dtype: torch.dtype | None = None,
                   device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """One target's tensors from a converted file, read one by one, cast and moved as read."""
    prefix = target + "."
    out = {}
    with safe_open(path, "pt", device="cpu") as f:
        for key in f.keys():
            if key.startswith(prefix):
                tensor = f.get_tensor(key)
                if dtype is not None and tensor.is_floating_point():
                    tensor = tensor.to(dtype)
                out[key[len(prefix):]] = tensor.to(device)
    return out


__all__ = ["LAYOUTS", "Layout", "cache_path", "check_keys", "convert", "expected_shapes",
           "load_converted", "read_checkpoint", "summarize_keys"]
