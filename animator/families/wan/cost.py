"""What `wan-animate` costs, computed from the full-size configurations (no weights needed).

The models are built on PyTorch's meta device, so parameters are counted and one
transformer forward pass is counted in FLOPs (`torch.utils.flop_counter`) without memory or
downloads, in a few seconds. Sizes: the transformer is diffusers' `WanAnimateTransformer3DModel`
at its defaults (the 14B configuration); the text encoder is umT5-XXL and the image encoder
CLIP ViT-H/14 (the configurations Wan2.1/2.2 name); the VAE is `AutoencoderKLWan`'s default.
Used for the time estimate and the memory table of each mode.
"""

from __future__ import annotations

from functools import lru_cache

from animator.families.sizes import count_parameters, wan_companions

GB = 1e9


@lru_cache(maxsize=1)
def parameter_counts() -> dict[str, int]:
    """Parameters of each model of the pipeline (and of the transformer's blocks alone)."""
    import torch
    from diffusers import WanAnimateTransformer3DModel

    with torch.device("meta"):
        transformer = WanAnimateTransformer3DModel()
    return {"transformer": count_parameters(transformer),
            "transformer_blocks": count_parameters(transformer.blocks), **wan_companions()}


@lru_cache(maxsize=16)
def transformer_flops(height: int, width: int, segment_frame_length: int = 77) -> float:
    """FLOPs of one transformer forward pass on one segment at height x width."""
    import torch
    from diffusers import WanAnimateTransformer3DModel
    from torch.utils.flop_counter import FlopCounterMode

    latent_frames = (segment_frame_length - 1) // 4 + 1
    with torch.device("meta"):
        model = WanAnimateTransformer3DModel()
        kwargs = dict(
            hidden_states=torch.empty(1, 36, latent_frames + 1, height // 8, width // 8),
            timestep=torch.tensor([500]),
            encoder_hidden_states=torch.empty(1, 512, 4096),
            encoder_hidden_states_image=torch.empty(1, 257, 1280),
            pose_hidden_states=torch.empty(1, 16, latent_frames, height // 8, width // 8),
            face_pixel_values=torch.empty(1, 3, segment_frame_length, 512, 512))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(**kwargs, return_dict=False)
    return float(counter.get_total_flops())


def num_segments(frames: int, segment: int = 77, carried: int = 1) -> int:
    step = segment - carried
    rest = (max(frames, carried + 1) - carried) % step
    return (max(frames, carried + 1) + (step - rest if rest else 0)) // step


def generation_flops(frames: int, height: int, width: int, *, steps: int = 20,
                     segment_frame_length: int = 77, carried: int = 1,
                     guidance: bool = False) -> float:
    """Transformer FLOPs of a whole clip (the VAE and encoders are a few percent more)."""
    passes = steps * (2 if guidance else 1)
    return num_segments(frames, segment_frame_length, carried) * passes * \
        transformer_flops(height, width, segment_frame_length)


def weight_memory(mode: str, fp8: bool = False) -> float:
    """Bytes of weights on the GPU at the peak of each memory mode ("none", "model",
    "group"), with bf16 weights (fp8: the transformer blocks' in 1 byte), the VAE in
    float32 and the text encoder loaded only while the prompt is encoded (then freed)."""
    n = parameter_counts()
    blocks = n["transformer_blocks"]
    transformer = (n["transformer"] - blocks) * 2 + blocks * (1 if fp8 else 2)
    text, image, vae = n["text_encoder"] * 2, n["image_encoder"] * 2, n["vae"] * 4
    if mode == "none":  # all resident; the text encoder joins them while it runs
        return max(transformer + image + vae + text, 0)
    if mode == "model":  # one model at a time
        return max(transformer, text, image, vae)
    if mode == "group":  # the transformer one block at a time, plus what is not a block
        per_block = blocks * (1 if fp8 else 2) / 40
        return max(text, (n["transformer"] - blocks) * 2 + 2 * per_block, image, vae)
    raise ValueError(f"unknown memory mode {mode!r}")


def estimate_cpu_seconds(num_frames: int, settings: dict) -> float:
    """Seconds the full-size model would take on this CPU for a clip with these settings
    (a Wan generator's resolved settings, or a preset's defaults with height and width)."""
    from animator.estimate import cpu_flops

    flops = generation_flops(
        num_frames, settings["height"], settings["width"],
        steps=settings["num_inference_steps"],
        segment_frame_length=settings["segment_frame_length"],
        carried=settings["prev_segment_conditioning_frames"],
        guidance=settings["guidance_scale"] > 1)
    return flops / cpu_flops()
