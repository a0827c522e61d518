"""The SVD family: StableAnimator, MimicMotion, the tiny model and saved `local:` pipelines.

Everything SVD lives in this folder: `config.py` (sampling and training settings),
`weights.py` (presets, their files, download, assembly), `convert.py` (public pickles to
safetensors), `models/` (pose encoder, identity attention, UNet installation, tiny model),
`pipeline.py` (sampling in windows), `cost.py` (CPU estimate), `data.py` + `train.py`
(fine-tuning), and `generator.py`, which adapts it all to the generator boundary.
"""

from animator.families.svd.generator import SVDGenerator, check_settings, load, settings_for

__all__ = ["SVDGenerator", "check_settings", "load", "settings_for"]
