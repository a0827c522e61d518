"""A tiny, randomly initialised Wan-Animate-2 pipeline built in code, for tests and benchmarks.

diffusers' own `WanAnimate2Transformer3DModel`, `AutoencoderKLWan` and the modular pipeline
classes, transformers' umT5 and CLIP vision encoders, at toy sizes, and a word-level
tokenizer made here, so nothing is downloaded. Two sizes cannot shrink: the CLIP features
are 1280 wide (the transformer's image projection is fixed to ViT-H's width) and the VAE
keeps its 8x spatial, 4x temporal compression (the transformer's block mask assumes it).
"""

from __future__ import annotations

import torch

WORDS = ("a person dances walks waves in the park on stage slowly fast smiling studio light "
         "video clip high quality blurry low the of and with").split()
TEXT_LENGTH = 16  # tokens per prompt (the real model: 512)


def tiny_tokenizer():
    """A word-level tokenizer over WORDS (unknown words map to <unk>), T5-style specials."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>",
                                                           special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>",
                                   eos_token="</s>", unk_token="<unk>")


def tiny_components(seed: int = 0, shift: float = 5.0) -> dict:
    """The pipeline's models at toy sizes, their random weights fixed by `seed`."""
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanAnimate2Transformer3DModel,
    )
    from transformers import CLIPVisionConfig, CLIPVisionModel, UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=64, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0)).eval()
    torch.manual_seed(seed)
    transformer = WanAnimate2Transformer3DModel(
        text_len=TEXT_LENGTH, dim=24, ffn_dim=32, freq_dim=32, text_dim=32, num_heads=2,
        num_layers=2).eval()
    torch.manual_seed(seed)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=1280, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
        image_size=224, patch_size=32)).eval()
    return {"vae": vae, "text_encoder": text_encoder, "tokenizer": tiny_tokenizer(),
            "transformer": transformer, "image_encoder": image_encoder,
            "scheduler": FlowMatchEulerDiscreteScheduler(shift=shift)}


def tiny_wan2_pipeline(distilled: bool = False, seed: int = 0, components: dict | None = None):
    """The library's modular pipeline (base or distilled) over the tiny components (or
    `components`, e.g. shared by both: the transformer builds its flex block mask once per
    size, compiled, which costs seconds on a CPU)."""
    from diffusers.modular_pipelines import (
        WanAnimate2DistilledModularPipeline,
        WanAnimate2ModularPipeline,
    )

    cls = WanAnimate2DistilledModularPipeline if distilled else WanAnimate2ModularPipeline
    pipe = cls()
    pipe.update_components(**(components or tiny_components(seed)))
    return pipe
