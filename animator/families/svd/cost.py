"""How long an SVD preset would take on this CPU, said before a run starts.

Generation cost is almost all UNet work, which we know per frame; `animator.estimate`
measures how fast this machine does that work.
"""

from __future__ import annotations

from animator import estimate
from animator.families.svd.config import GenerationConfig

# Forward FLOPs of the SVD-xt UNet (1.52 B parameters) per frame at 576x1024, counted with
# torch.utils.flop_counter.FlopCounterMode on the full-size config (benchmarks/README.md).
UNET_FLOP_PER_FRAME = 2.62e12
REFERENCE_PIXELS = 576 * 1024


def generation_flops(num_frames: int, settings: GenerationConfig, anchor: bool = False) -> float:
    """UNet FLOPs of one clip: frames computed per step x steps x (2 with guidance)."""
    from animator.families.svd.windows import plan_windows  # imports diffusers: only when asked

    windows = plan_windows(num_frames, settings.window, settings.overlap, anchor)
    computed = sum(len(w) for w in windows)
    guided = 2 if max(settings.min_guidance_scale, settings.max_guidance_scale) > 1 else 1
    pixels = settings.height * settings.width / REFERENCE_PIXELS
    return UNET_FLOP_PER_FRAME * pixels * computed * settings.num_inference_steps * guided


def estimate_cpu_seconds(num_frames: int, settings: GenerationConfig,
                         anchor: bool = False) -> float:
    """Seconds a full-size SVD preset would take on this CPU for the clip."""
    return generation_flops(num_frames, settings, anchor) / estimate.cpu_flops()
