"""GPU figures at full size: seconds per output frame and peak VRAM at 576x1024.

Speed and memory do not depend on weight values, so the pipeline is built from the full-size
SVD-xt configs (UNet 1.5 B, temporal VAE, CLIP ViT-H) plus our pose encoder and StableAnimator-
sized identity modules, with random weights, directly on the GPU. Goals (H100, 25 steps with
guidance): <= 0.45 s per output frame, peak VRAM <= 16 GB for any clip length.

    .venv/bin/python benchmarks/gpu_bench.py [--frames 16 64] [--dtype fp16] [--steps 25]

Needs CUDA; prints a table (one run per clip length after a warm-up of the smallest).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from diffusers import (  # noqa: E402
    AutoencoderKLTemporalDecoder,
    EulerDiscreteScheduler,
    UNetSpatioTemporalConditionModel,
)
from transformers import (  # noqa: E402
    CLIPImageProcessorPil,
    CLIPVisionConfig,
    CLIPVisionModelWithProjection,
)

from animator.families.svd.models.identity import FaceProjector  # noqa: E402
from animator.families.svd.models.pose_encoder import FusedPoseEncoder  # noqa: E402
from animator.families.svd.pipeline import AnimationPipeline  # noqa: E402

UNET = dict(sample_size=96, in_channels=8, out_channels=4, layers_per_block=2,
            down_block_types=("CrossAttnDownBlockSpatioTemporal",) * 3
            + ("DownBlockSpatioTemporal",),
            up_block_types=("UpBlockSpatioTemporal",) + ("CrossAttnUpBlockSpatioTemporal",) * 3,
            block_out_channels=(320, 640, 1280, 1280), addition_time_embed_dim=256,
            projection_class_embeddings_input_dim=768, cross_attention_dim=1024,
            transformer_layers_per_block=1, num_attention_heads=(5, 10, 20, 20), num_frames=25)
VAE = dict(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
           layers_per_block=2, latent_channels=4, sample_size=768, scaling_factor=0.18215,
           force_upcast=True)
CLIP = dict(hidden_size=1280, intermediate_size=5120, projection_dim=1024, num_hidden_layers=32,
            num_attention_heads=16, image_size=224, patch_size=14, hidden_act="gelu")


def full_size_pipeline(dtype: torch.dtype) -> AnimationPipeline:
    with torch.device("cuda"):
        unet = UNetSpatioTemporalConditionModel(**UNET)
        vae = AutoencoderKLTemporalDecoder(**VAE)
        clip = CLIPVisionModelWithProjection(CLIPVisionConfig(**CLIP))
        pose = FusedPoseEncoder(out_channels=320, with_dense=True)
        face = FaceProjector(cross_attention_dim=1024, clip_embeddings_dim=1024)
    scheduler = EulerDiscreteScheduler(prediction_type="v_prediction", sigma_max=700.0,
                                       sigma_min=0.002, timestep_type="continuous",
                                       use_karras_sigmas=True, interpolation_type="linear",
                                       steps_offset=1)
    features = CLIPImageProcessorPil(crop_size=224, size={"shortest_edge": 224})
    pipe = AnimationPipeline(vae, clip, unet, scheduler, features, pose, face,
                             identity_mode="normalized")
    return pipe.to(dtype=dtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--dtype", choices=["fp16", "bf16"], default="fp16")
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--overlap", type=int, default=4)
    parser.add_argument("--decode-chunk", type=int, default=8)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_bench.py needs a CUDA GPU")
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    torch.manual_seed(0)
    pipe = full_size_pipeline(dtype)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (1024, 576, 3), dtype=np.uint8)
    face = rng.normal(size=512).astype(np.float32)

    def run(frames: int, steps: int) -> float:
        skeleton = np.zeros((frames, 1024, 576, 3), np.uint8)
        skeleton[:, 400:600, 250:330] = 255
        torch.cuda.synchronize()
        start = time.perf_counter()
        pipe(image, skeleton, face_embedding=face, height=1024, width=576,
             num_inference_steps=steps, min_guidance_scale=3.0, max_guidance_scale=3.0,
             window=args.window, overlap=args.overlap, decode_chunk_size=args.decode_chunk,
             seed=0, writer=lambda frame: None)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    run(min(args.frames), 2)  # warm-up: kernels, allocator
    print(f"{torch.cuda.get_device_name()}, {args.dtype}, 576x1024, {args.steps} steps, "
          f"guidance, window {args.window}/{args.overlap}, SDPA")
    print(f"{'frames':>7}{'seconds':>10}{'s/frame':>10}{'peak VRAM GB':>14}"
          "   goal <= 0.45 s, 16 GB")
    for frames in args.frames:
        torch.cuda.reset_peak_memory_stats()
        seconds = run(frames, args.steps)
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"{frames:>7}{seconds:>10.1f}{seconds / frames:>10.3f}{peak:>14.2f}")


if __name__ == "__main__":
    main()
