"""Parts added to a preset and the parameters chosen for training."""

from __future__ import annotations

import torch

from animator.families.svd.models.pose_encoder import FusedPoseEncoder
from animator.families.svd.models.tiny import tiny_components, tiny_pipeline
from animator.families.svd.models.unet import identity_processors
from animator.families.svd.pipeline import AnimationPipeline
from animator.families.svd.train import add_missing_parts, trainable_parameters


def test_missing_parts_are_added_without_changing_the_output():
    pipe = tiny_pipeline(identity=False, random_init=True)
    skeleton_only = FusedPoseEncoder(out_channels=32, with_dense=False, attention_blocks=1,
                                     attention_heads=4)
    skeleton_only.load_state_dict({k: v for k, v in pipe.pose_encoder.state_dict().items()
                                   if k.startswith("skeleton.")})
    pipe = AnimationPipeline(**tiny_components(), pose_encoder=skeleton_only)
    grown = add_missing_parts(pipe, ["dense", "identity"], "sum")
    assert grown.pose_encoder.dense is not None and grown.face_projector is not None
    assert len(identity_processors(grown.unet)) == 6 and grown.config.identity_mode == "sum"
    for k, v in skeleton_only.state_dict().items():
        assert torch.equal(grown.pose_encoder.state_dict()[k], v)
    maps = torch.rand(2, 3, 64, 64) * 2 - 1
    assert not grown.pose_encoder.dense(maps).any()  # a new branch adds exactly nothing
    params = trainable_parameters(grown, ["dense", "identity"])
    assert all(k.startswith(("pose_encoder.dense.", "face_projector.", "unet.")) for k in params)
    assert sum(".id_to_k." in k for k in params) == 6
    assert not any(p.requires_grad for p in grown.pose_encoder.skeleton.parameters())
    assert not any(p.requires_grad for p in grown.vae.parameters())
    attention = trainable_parameters(grown, ["attention"])
    assert attention and all(".attn1." in k or ".attn2." in k for k in attention)
