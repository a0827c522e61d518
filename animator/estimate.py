"""How long a generation will take, said before it starts: the shared part.

Users without a GPU deserve a number rather than a spinner. Each family counts the FLOPs of
its own model (`families/<family>/cost.py`); a short matrix-multiply probe here tells how fast
this machine does that work, and `describe_seconds` says the result in words.
"""

from __future__ import annotations

import functools
import math
import time


@functools.lru_cache(maxsize=1)
def cpu_flops() -> float:
    """Sustained float32 matmul FLOP/s of this machine's CPU (~0.3 s probe, once)."""
    import torch

    a = torch.randn(1024, 1024)
    a @ a
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < 0.3:
        a @ a
        runs += 1
    return runs * 2 * 1024**3 / (time.perf_counter() - start)


def describe_seconds(seconds: float) -> str:
    """'about 3 minutes', 'about 5 hours'..., for messages."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = max(1, math.floor(seconds / size + 0.5))
            return f"about {n} {unit}{'s' if n > 1 else ''}"
    return f"about {max(1, round(seconds))} seconds"
