"""JSON and YAML that users hand us (pose files, batch jobs, configs), parsed with limits.

Python's parsers have none of their own: a file of 100,000 `[` raises RecursionError deep
inside `json`, `NaN` and `Infinity` are read as numbers although JSON has neither, and a
YAML file of nested aliases expands to billions of nodes when walked. Every reader of a
user's file goes through here, so each malformed file is one `InputError` that names the
file and what is wrong, raised before any of it is used.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from animator.errors import InputError

MAX_DEPTH = 32  # our files nest 4 levels at most (pose JSON: frames > people > part > list)
MAX_NODES = 2_000_000  # values in one YAML document once aliases are followed
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)


def _nesting(raw: bytes) -> int:
    """The deepest bracket nesting of JSON text, strings left out (vectorised: a pose file
    may be hundreds of megabytes)."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return 0
    code = np.frombuffer(_STRING.sub(b'""', raw), np.uint8)
    step = (np.isin(code, (ord("["), ord("{"))).astype(np.int32)
            - np.isin(code, (ord("]"), ord("}"))).astype(np.int32))
    return int(np.cumsum(step).max(initial=0))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows (use null for a missing value)")


def parse_json(text: str | bytes, where: str) -> Any:
    """JSON text from `where` (a file name, "jobs.jsonl line 3"): at most MAX_DEPTH deep,
    no NaN/Infinity; an InputError naming `where` otherwise."""
    import json

    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = _nesting(raw)
    if depth > MAX_DEPTH:
        raise InputError(f"{where} is nested {depth} levels deep; at most {MAX_DEPTH} are "
                         "read. It is not a file this app wrote: check what it holds.")
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else error
        raise InputError(f"{where} is not valid JSON: {reason}.") from None


def _read(path: Path, max_bytes: int, what: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(f"The {what} {path.name} is {size / 2**20:.1f} MB; the limit is "
                             f"{max_bytes / 2**20:g} MB.")
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"Could not read the {what} {path}: {error.strerror or error}.") \
            from None


def read_json(path: str | Path, *, max_bytes: int, what: str = "file") -> Any:
    """A JSON file, at most `max_bytes` (checked before reading), parsed as `parse_json`."""
    path = Path(path)
    return parse_json(_read(path, max_bytes, what), f"The {what} {path.name}")


def check_tree(value: Any, where: str) -> Any:
    """`value` (parsed YAML) if it is at most MAX_DEPTH deep and MAX_NODES values big with
    its aliases followed, else an InputError; walked without recursion."""
    stack, nodes = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise InputError(f"{where} expands to more than {MAX_NODES:,} values (repeated "
                             "aliases?); write the values out plainly.")
        if depth > MAX_DEPTH:
            raise InputError(f"{where} is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(item, dict):
            stack += [(v, depth + 1) for pair in item.items() for v in pair]
        elif isinstance(item, (list, tuple)):
            stack += [(v, depth + 1) for v in item]
    return value


def parse_yaml(text: str, where: str) -> Any:
    """YAML text (safe_load: plain data only, no Python objects), within the same limits."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except RecursionError:
        raise InputError(f"{where} is nested too deeply to be read.") from None
    except yaml.YAMLError as error:
        raise InputError(f"{where} is not valid YAML: {error}") from None
    return check_tree(value, where)


def read_yaml(path: str | Path, *, max_bytes: int, what: str = "file") -> Any:
    """A YAML file, at most `max_bytes`, parsed as `parse_yaml`."""
    path = Path(path)
    raw = _read(path, max_bytes, what)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"The {what} {path.name} is not UTF-8 text ({error.reason}).") \
            from None
    return parse_yaml(text, f"The {what} {path.name}")
