"""Prompt embeddings through the library's own text step, computed once per prompt, with
the 11 GB umT5-XXL text encoder kept only as long as that takes.

The modular pipeline's first block (`WanAnimate2TextEncoderStep`) encodes the prompt, the
negative prompt and the reference prompt. We run that block alone (its own small modular
pipeline), keep the embeddings per prompt (a few MB), and hand them to the other blocks as
the inputs the block would have made, so the denoising pipeline never holds the encoder.
When the pipeline was loaded without its encoder, it is loaded from its folder for the
encoding and dropped again (`families.base.with_text_encoder`, shared with the Wan family).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from animator.families.base import with_text_encoder

OUTPUTS = ("prompt_embeds", "negative_prompt_embeds", "prompt_ref_embeds")


class PromptEmbeddings:
    """`(prompt, negative or None, reference prompt) -> {name: embeddings}`, cached."""

    def __init__(self, text_pipe, load_encoder: Callable[[], torch.nn.Module] | None,
                 max_sequence_length: int = 512):
        self.text_pipe = text_pipe  # a modular pipeline of the text step alone
        self.load_encoder = load_encoder  # None: the text pipeline keeps the encoder it has
        self.max_sequence_length = max_sequence_length
        self._cache: dict[tuple, dict[str, torch.Tensor | None]] = {}

    def __call__(self, prompt: str, negative: str | None, reference: str, device) -> dict:
        key = (prompt, negative, reference)
        if key not in self._cache:
            self._cache[key] = self._encode(prompt, negative, reference, device)
        return {k: None if v is None else v.to(device) for k, v in self._cache[key].items()}

    @torch.no_grad()
    def _encode(self, prompt, negative, reference, device) -> dict:
        pipe = self.text_pipe

        def encode():
            made = pipe(prompt=prompt, negative_prompt=negative, prompt_ref=reference,
                        max_sequence_length=self.max_sequence_length, output=list(OUTPUTS))
            return {k: None if v is None else v.cpu() for k, v in made.items()}

        return with_text_encoder(pipe, self.load_encoder, device, encode,
                                 attach=lambda encoder: pipe.update_components(
                                     text_encoder=encoder))

    @property
    def cached(self) -> int:
        return len(self._cache)
