"""How long a generation will take, said before it starts.

Users without a GPU deserve a number rather than a spinner: generation cost is almost all
UNet work, which we know per frame, and a short matrix-multiply probe tells how fast this
machine does that work.
"""

from __future__ import annotations

import functools
import math
import time

from animator.config import GenerationConfig

# Forward FLOPs of the SVD-xt UNet (1.52 B parameters) per frame at 576x1024, counted with
# torch.utils.flop_counter.FlopCounterMode on the full-size config (benchmarks/README.md).
UNET_FLOP_PER_FRAME = 2.62e12
REFERENCE_PIXELS = 576 * 1024


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


def generation_flops(num_frames: int, settings: GenerationConfig, anchor: bool = False) -> float:
    """UNet FLOPs of one clip: frames computed per step x steps x (2 with guidance)."""
    from animator.pipeline import plan_windows  # imports diffusers: only when asked

    windows = plan_windows(num_frames, settings.window, settings.overlap, anchor)
    computed = sum(len(w) for w in windows)
    guided = 2 if max(settings.min_guidance_scale, settings.max_guidance_scale) > 1 else 1
    pixels = settings.height * settings.width / REFERENCE_PIXELS
    return UNET_FLOP_PER_FRAME * pixels * computed * settings.num_inference_steps * guided


def estimate_cpu_seconds(num_frames: int, settings: GenerationConfig,
                         anchor: bool = False) -> float:
    """Seconds a full-size SVD preset would take on this CPU for the clip."""
    return generation_flops(num_frames, settings, anchor) / cpu_flops()


def describe_seconds(seconds: float) -> str:
    """'about 3 minutes', 'about 5 hours'..., for messages."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = max(1, math.floor(seconds / size + 0.5))
            return f"about {n} {unit}{'s' if n > 1 else ''}"
    return f"about {max(1, round(seconds))} seconds"
