"""Saved pipeline folders (`local:<dir>`): read and checked before any class is resolved.

A folder written by `save_pretrained` names, in its `model_index.json`, the library and
class of every component, and diffusers imports what it names. A folder from someone else
could name any importable callable (`os.system`), hold pickles (which run code when
unpickled) or ask for custom pipeline code. Every family hands its `local:` folders to
`check_local_folder` first, so all of them refuse the same things with the same messages,
and a malformed index (not an object, a class name that is not text, nested thousands
deep, huge) is a message naming the file rather than a traceback.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from animator.errors import InputError

INDEX = "model_index.json"
MAX_INDEX_BYTES = 1 << 20  # a real index is a few hundred bytes
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
LIBRARIES = ("diffusers", "transformers")  # besides this app's own `animator.` modules
_CUSTOM_CODE_KEYS = ("_custom_pipeline", "custom_pipeline", "auto_map", "_auto_map")
_SAVE_AGAIN = "Use a folder written by save_pretrained (this app's own or its training's)."


def read_model_index(folder: Path) -> dict[str, Any]:
    """The folder's model_index.json as a dict whose `_class_name` is a string; anything
    else is an InputError naming the file and what is wrong with it."""
    index = folder / INDEX
    if not index.is_file():
        raise InputError(f"{folder} holds no saved pipeline (no {INDEX}): pass local:<folder> "
                         "with a folder written by save_pretrained.")
    if index.stat().st_size > MAX_INDEX_BYTES:
        raise InputError(f"{index} is {index.stat().st_size / 2**20:.1f} MB; a pipeline index "
                         f"is a few hundred bytes. {_SAVE_AGAIN}")
    try:
        content = json.loads(index.read_text(encoding="utf-8"))
    except RecursionError:
        raise InputError(f"{index} is nested too deeply to be a pipeline index. "
                         f"{_SAVE_AGAIN}") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(f"{index} is not valid JSON ({error}): re-save the pipeline.") from None
    if not isinstance(content, dict):
        raise InputError(f"{index} holds a JSON {type(content).__name__}, not an object naming "
                         f"the pipeline and its parts. {_SAVE_AGAIN}")
    if not isinstance(content.get("_class_name"), str):
        raise InputError(f"{index} names no pipeline class (its _class_name is "
                         f"{content.get('_class_name')!r}, not text). {_SAVE_AGAIN}")
    return content


def check_local_folder(folder: Path, classes: tuple[str, ...]) -> dict[str, Any]:
    """The folder's index, once it is known to load without running code from the folder:
    a pipeline class among `classes`, components from diffusers, transformers or this app
    only, no custom code asked for, and safetensors weights (never pickles)."""
    index = read_model_index(folder)
    kind = index["_class_name"]
    if kind not in classes:
        raise InputError(f"{folder} holds a {kind!r} pipeline, not {' or '.join(classes)}. "
                         f"{_SAVE_AGAIN}")
    custom = [key for key in _CUSTOM_CODE_KEYS if key in index]
    if custom:
        raise InputError(f"{folder}/{INDEX} asks for custom code ({', '.join(custom)}). Code "
                         f"from a model folder is never run here. {_SAVE_AGAIN}")
    for name, spec in index.items():
        if not name.startswith("_"):
            _check_component(folder, name, spec)
    return index


def _check_component(folder: Path, name: str, spec: Any) -> None:
    """One entry of the index: a [library, class] pair names a component (checked); other
    values (strings, numbers) are the pipeline's own config and load no code."""
    if not isinstance(spec, list) or spec == [None, None]:
        return
    if not (len(spec) == 2 and all(isinstance(s, str) for s in spec)):
        raise InputError(f"{folder}/{INDEX}: its {name} entry is {spec!r}, not [library, "
                         f"class]. {_SAVE_AGAIN}")
    library, cls = spec
    ours = library == "animator" or library.startswith("animator.")
    if not (library in LIBRARIES or ours):
        raise InputError(f"{folder}: its {name} component names code from {library!r}. Code "
                         "from a model folder is never run here; only diffusers, transformers "
                         f"and this app's own classes load. {_SAVE_AGAIN}")
    if not cls.isidentifier() or not _defines(library, cls):
        moved = (" (saved by an earlier version? The SVD modules now live under "
                 "animator.families.svd: edit the module names in model_index.json)"
                 if ours else "")
        raise InputError(f"{folder}: its {name} component names {cls!r} from {library}, which "
                         f"this app does not have{moved}. {_SAVE_AGAIN}")
    files = files_in(folder / name)
    pickles = sorted(f for f in files if f.endswith(PICKLE_SUFFIXES))
    if pickles and not any(f.endswith(".safetensors") for f in files):
        raise InputError(
            f"{folder}/{name} holds pickled weights ({', '.join(pickles[:3])}), which this app "
            "never loads (a pickle can run code). Re-save the pipeline with safetensors "
            "(save_pretrained does by default).")


def _defines(library: str, cls: str) -> bool:
    """Whether the library (one of ours or a well-known one) has a class of that name."""
    try:
        module = importlib.import_module(library)
    except ImportError:
        return False
    try:
        return isinstance(getattr(module, cls, None), type)
    except Exception:  # a lazy module that fails to import the name
        return False


def files_in(folder: Path) -> set[str]:
    """Paths of the files under `folder`, relative to it (empty when it is not a folder)."""
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
