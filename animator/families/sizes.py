"""Parameter counts of full-size models, built on PyTorch's meta device (no weights, no
memory, a few seconds), for the cost estimates shown before a run.

Both Wan families load the same companions beside their own transformer: the umT5-XXL text
encoder, the CLIP ViT-H/14 image encoder (the configurations Wan2.1/2.2 name) and
`AutoencoderKLWan` at its defaults; they are counted here once.
"""

from __future__ import annotations

from functools import lru_cache


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


@lru_cache(maxsize=1)
def wan_companions() -> dict[str, int]:
    """{"text_encoder", "image_encoder", "vae"}: parameters of Wan's shared models."""
    import torch
    from diffusers import AutoencoderKLWan
    from transformers import CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel

    with torch.device("meta"):
        text = UMT5EncoderModel(UMT5Config(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240,
                                           num_layers=24, num_heads=64,
                                           feed_forward_proj="gated-gelu"))
        image = CLIPVisionModel(CLIPVisionConfig(hidden_size=1280, intermediate_size=5120,
                                                 num_hidden_layers=32, num_attention_heads=16,
                                                 image_size=224, patch_size=14))
        vae = AutoencoderKLWan()
    return {"text_encoder": count_parameters(text), "image_encoder": count_parameters(image),
            "vae": count_parameters(vae)}
