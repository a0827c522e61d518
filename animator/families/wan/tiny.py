"""A tiny, randomly initialised `WanAnimatePipeline` built in code, for tests and benchmarks.

Real diffusers and transformers classes at toy sizes (the shapes follow diffusers' own test
of this pipeline), plus a word-level tokenizer made here, so nothing is downloaded.
"""

from __future__ import annotations

import torch

WORDS = ("a person dances walks waves in the park on stage slowly fast smiling studio light "
         "video clip high quality blurry low").split()


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


def tiny_wan_pipeline(seed: int = 0, flow_shift: float = 3.0):
    """The tiny pipeline, its random weights fixed by `seed`, in float32 on the CPU."""
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanAnimatePipeline,
        WanAnimateTransformer3DModel,
    )
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        CLIPVisionModelWithProjection,
        UMT5Config,
        UMT5EncoderModel,
    )

    torch.manual_seed(seed)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=64, d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
        relative_attention_num_buckets=8, dropout_rate=0.0)).eval()
    torch.manual_seed(seed)
    transformer = WanAnimateTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36,
        latent_channels=16, out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32,
        num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads", image_dim=4,
        rope_max_seq_len=32, motion_encoder_channel_sizes={"4": 16, "8": 16, "16": 16},
        motion_encoder_size=16, motion_style_dim=8, motion_dim=4, motion_encoder_dim=16,
        face_encoder_hidden_dim=16, face_encoder_num_heads=2, inject_face_latents_blocks=2)
    torch.manual_seed(seed)
    image_encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2,
        image_size=4, intermediate_size=16, patch_size=1)).eval()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction",
                                        use_flow_sigmas=True, flow_shift=flow_shift)
    return WanAnimatePipeline(
        tokenizer=tiny_tokenizer(), text_encoder=text_encoder, vae=vae, scheduler=scheduler,
        image_processor=CLIPImageProcessorPil(crop_size=4, size=4), image_encoder=image_encoder,
        transformer=transformer.eval())
