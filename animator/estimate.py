"""How long a generation will take, said before it starts: the shared part.

Users without a GPU deserve a number rather than a spinner. Each family counts the FLOPs of
its own model (`families/<family>/cost.py`); a short matrix-multiply probe here tells how fast
this machine does that work, and `describe_seconds` says the result in words.

One probe of a busy machine can be half as fast as the next (the page said 5 days, then 2
days after a restart, for the same job), so the probe takes the best of a few short runs
and its figure is kept on disk per CPU and thread count (`$ANIMATOR_CACHE_DIR`, else
`~/.cache/animator`): the same job gets the same estimate across restarts.
"""

from __future__ import annotations

import functools
import json
import math
import platform
import time

from animator.config import cache_dir

PROBE_RUNS = 5  # short runs; the fastest one counts
PROBE_SECONDS = 0.1  # each


def _cpu_key() -> str:
    import torch

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return f"{model} / {torch.get_num_threads()} threads"


@functools.lru_cache(maxsize=1)
def cpu_flops() -> float:
    """Float32 matmul FLOP/s of this machine's CPU: measured once per CPU (~0.5 s), then
    read from the cache file."""
    key, path = _cpu_key(), cache_dir() / "cpu_speed.json"
    try:
        known = json.loads(path.read_text())
        known = known if isinstance(known, dict) else {}
    except (OSError, ValueError):
        known = {}
    if isinstance(known.get(key), (int, float)) and known[key] > 0:
        return float(known[key])
    speed = _probe()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**known, key: speed}, indent=1))
    except OSError:
        pass  # a read-only home: measured again next time
    return speed


def _probe() -> float:
    """The fastest of a few short matmul runs (the others were slowed by other work)."""
    import torch

    a = torch.randn(1024, 1024)
    a @ a
    best = 0.0
    for _ in range(PROBE_RUNS):
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < PROBE_SECONDS:
            a @ a
            runs += 1
        best = max(best, runs * 2 * 1024**3 / (time.perf_counter() - start))
    return best


def describe_seconds(seconds: float) -> str:
    """'about 3 minutes', 'about 5 hours'..., for messages."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = max(1, math.floor(seconds / size + 0.5))
            return f"about {n} {unit}{'s' if n > 1 else ''}"
    return f"about {max(1, round(seconds))} seconds"
