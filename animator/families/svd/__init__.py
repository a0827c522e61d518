"""The SVD family: StableAnimator, MimicMotion, the tiny model and saved `local:` pipelines.

Everything SVD lives in this folder: `config.py` (sampling settings), `presets.py` (the named
presets and `local:` folders' conventions), `weights.py` (their files, download, assembly),
`convert.py` (public pickles to safetensors), `models/` (pose encoder, identity attention,
UNet installation, tiny model), `pipeline.py` (sampling in windows) with `windows.py` (window
plan, blend weights, AYS sigmas) and `inputs.py` (its input checks), `cost.py` (CPU
estimate), `data.py` + `train/` (fine-tuning), and `generator.py`, which adapts it all to
the generator boundary.
"""

from animator.families.svd.generator import SVDGenerator, check_settings, load, settings_for
from animator.families.svd.presets import PRESETS, Preset, get_preset

__all__ = ["PRESETS", "Preset", "SVDGenerator", "check_settings", "get_preset", "load",
           "settings_for"]
