"""Prompt embeddings computed once per prompt, with the 11 GB text encoder kept only as long
as that takes.

Wan's umT5-XXL text encoder is a third of the model's memory but runs once per prompt. So
the pipeline is loaded without it; when a prompt comes that is not cached yet, the encoder
is loaded from its folder, run through the pipeline's own `encode_prompt` (same tokenizer,
padding and cleaning as a plain call), and dropped again. The embeddings (a few MB) are
kept per prompt for the next runs. The loading and dropping is the families' shared
`families.base.with_text_encoder`.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from animator.families.base import with_text_encoder


class PromptEmbeddings:
    """`(prompt, negative) -> (prompt_embeds, negative_embeds or None)`, cached."""

    def __init__(self, pipe, load_encoder: Callable[[], torch.nn.Module] | None,
                 max_sequence_length: int = 512):
        self.pipe = pipe
        # None: the pipeline keeps the encoder it has (nothing to reload it from)
        self.load_encoder = load_encoder
        self.max_sequence_length = max_sequence_length
        self._cache: dict[tuple, tuple[torch.Tensor, torch.Tensor | None]] = {}

    def __call__(self, prompt: str, negative: str, guidance: bool, device) -> tuple:
        key = (prompt, negative if guidance else None)
        if key not in self._cache:
            self._cache[key] = self._encode(prompt, negative, guidance, device)
        positive, negative_embeds = self._cache[key]
        return positive.to(device), None if negative_embeds is None else negative_embeds.to(device)

    @torch.no_grad()
    def _encode(self, prompt, negative, guidance, device):
        pipe = self.pipe
        return with_text_encoder(pipe, self.load_encoder, device, lambda: pipe.encode_prompt(
            prompt, negative_prompt=negative, do_classifier_free_guidance=guidance,
            max_sequence_length=self.max_sequence_length, device=torch.device("cpu")))

    @property
    def cached(self) -> int:
        return len(self._cache)
