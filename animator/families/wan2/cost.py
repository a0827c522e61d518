"""What a Wan-Animate-2 run costs, from the full-size configurations (no weights needed).

Parameters are counted on PyTorch's meta device (diffusers' `WanAnimate2Transformer3DModel`
at its defaults, the 14B configuration; umT5-XXL; CLIP ViT-H/14; the Wan VAE). Compute and
memory follow from the token counts of the library's segment loop: per segment, one
reference pass over the driving segment's latents (its keys and values kept for every
layer: the KV cache) and, per step, one pass over the generation tokens (two with
guidance), which attend to each other and to the cached reference tokens of their own frame
(the flex block mask). FLOPs are counted as 2 per weight per token plus the attention's
4 x tokens x attended x width per layer; memory as the weights the mode keeps on the GPU,
the KV cache (bf16) and a pass's activations. Estimates: the README's GPU table says how
close they came on a real card.
"""

from __future__ import annotations

from functools import lru_cache

from animator.errors import InputError
from animator.families.sizes import count_parameters, wan_companions

GB = 1e9
BF16 = 2
# Bytes of activations per generation token at the peak of a pass, in model widths: the
# hidden states, q/k/v and the packed attention buffers (about 12 widths) and the
# feed-forward's intermediate (2 x ffn_dim / dim widths), in bf16.
ACTIVATION_WIDTHS = 12


@lru_cache(maxsize=1)
def parameter_counts() -> dict[str, int]:
    """Parameters of each model of the pipeline (and of the transformer's blocks alone)."""
    import torch
    from diffusers import WanAnimate2Transformer3DModel

    with torch.device("meta"):
        transformer = WanAnimate2Transformer3DModel()
    config = transformer.config
    return {"transformer": count_parameters(transformer),
            "transformer_blocks": count_parameters(transformer.blocks), **wan_companions(),
            "dim": config.dim, "ffn_dim": config.ffn_dim, "layers": config.num_layers}


def num_segments(frames: int, segment: int = 81, carried: int = 1) -> int:
    """Segments the library runs for `frames` driving frames (its zigzag padding fills the
    last one); at least one (we repeat the last frame of very short clips)."""
    frames = max(frames, carried + 1)
    step = segment - carried
    rest = (frames - carried) % step
    padded = frames + (step - rest if rest else 0)
    return (padded - carried + step - 1) // step


def tokens(height: int, width: int, segment: int = 81) -> tuple[int, int, int]:
    """(generation tokens, reference tokens, tokens per latent frame) of one segment."""
    per_frame = (height // 16) * (width // 16)
    latent_frames = (segment - 1) // 4 + 1
    return (latent_frames + 1) * per_frame, latent_frames * per_frame, per_frame


def segment_flops(height: int, width: int, *, steps: int, segment: int = 81,
                  guidance: bool = False) -> float:
    """Transformer FLOPs of one segment: the reference pass and every denoising pass."""
    n = parameter_counts()
    generation, reference, per_frame = tokens(height, width, segment)
    weights = 2 * n["transformer_blocks"]
    attention = 4 * n["layers"] * n["dim"]
    reference_pass = weights * reference + attention * reference * reference
    denoise_pass = weights * generation + attention * generation * (generation + per_frame)
    return reference_pass + steps * (2 if guidance else 1) * denoise_pass


def generation_flops(frames: int, height: int, width: int, *, steps: int = 40,
                     segment: int = 81, carried: int = 1, guidance: bool = True) -> float:
    return num_segments(frames, segment, carried) * segment_flops(
        height, width, steps=steps, segment=segment, guidance=guidance)


def weight_memory(mode: str, fp8: bool = False) -> float:
    """Bytes of weights on the GPU at the peak of each memory mode, bf16 (fp8: the blocks'
    in 1 byte), the VAE in float32, the text encoder only while the prompt is encoded."""
    n = parameter_counts()
    blocks = n["transformer_blocks"]
    rest = (n["transformer"] - blocks) * BF16
    transformer = rest + blocks * (1 if fp8 else BF16)
    text, image, vae = n["text_encoder"] * BF16, n["image_encoder"] * BF16, n["vae"] * 4
    if mode == "none":
        return max(transformer + image + vae, text)
    if mode == "model":
        return max(transformer, text, image, vae)
    if mode == "group":  # one block at a time (and the next one arriving)
        return max(text, rest + 2 * blocks * (1 if fp8 else BF16) / n["layers"], image, vae)
    raise ValueError(f"unknown memory mode {mode!r}")


def run_memory(height: int, width: int, segment: int = 81) -> float:
    """Bytes a denoising pass needs besides the weights: the KV cache and its activations."""
    n = parameter_counts()
    generation, reference, _ = tokens(height, width, segment)
    kv_cache = n["layers"] * 2 * reference * n["dim"] * BF16
    widths = ACTIVATION_WIDTHS + 2 * n["ffn_dim"] / n["dim"]
    return kv_cache + generation * n["dim"] * widths * BF16


def peak_memory(height: int, width: int, segment: int = 81, mode: str = "group",
                fp8: bool = False) -> float:
    return weight_memory(mode, fp8) + run_memory(height, width, segment)


def check_fits(device: str, values: dict, mode: str = "group", fp8: bool = True,
               total: float | None = None) -> None:
    """Refuse, with the figures, a size that cannot fit the GPU even in the lightest memory
    mode (the KV cache grows with the area and the segment length, not with the mode)."""
    from animator.families.wan2.settings import target_area

    if total is None:
        import torch

        total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    height, width = target_area(values)
    segment = values["segment_frame_length"]
    need = peak_memory(height, width, segment, mode, fp8)
    if need <= 0.95 * total:
        return
    kv = run_memory(height, width, segment) / GB
    lightest = peak_memory(height, width, segment, "group", True)
    if lightest <= 0.95 * total:
        raise InputError(
            f"Wan-Animate-2 at {height}x{width} needs about {need / GB:.0f} GB of GPU memory "
            f"in memory mode {mode}{' with fp8' if fp8 else ''} (its reference KV cache is "
            f"{kv:.0f} GB); this GPU has {total / GB:.0f} GB. Load it with --memory group "
            f"--fp8 (about {lightest / GB:.0f} GB).")
    raise InputError(
        f"Wan-Animate-2 at {height}x{width} with {segment}-frame segments needs about "
        f"{need / GB:.0f} GB of GPU memory even block by block with fp8 weights (its "
        f"reference KV cache alone is {kv:.0f} GB); this GPU has {total / GB:.0f} GB. Choose "
        "the 800x640 area, a smaller height and width, or shorter segments (e.g. 41 frames).")


def estimate_cpu_seconds(num_frames: int, values: dict) -> float:
    """Seconds the full-size model would take on this CPU for a clip with these settings."""
    from animator.estimate import cpu_flops
    from animator.families.wan2.settings import target_area

    height, width = target_area(values)
    flops = generation_flops(num_frames, height, width, steps=values["num_inference_steps"],
                             segment=values["segment_frame_length"],
                             carried=values["prev_segment_conditioning_frames"],
                             guidance=values["guidance_scale"] > 1)
    return flops / cpu_flops()
