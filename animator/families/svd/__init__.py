"""The SVD family: StableAnimator, MimicMotion, the tiny model and saved `local:` pipelines.

Everything SVD lives in this folder: `config.py` (sampling settings), `presets.py` (the named
presets and `local:` folders' conventions), `weights.py` (their files, download, assembly),
`convert.py` (public pickles to safetensors), `models/` (pose encoder, identity attention,
UNet installation, tiny model), `pipeline.py` (sampling in windows) with `windows.py` (window
plan, blend weights, AYS sigmas) and `inputs.py` (its input checks), `cost.py` (CPU
estimate), `data.py` + `train/` (fine-tuning), `settings.py` (what the page, the API and the
CLI offer, and the checks), `generator.py`, which adapts it all to the generator boundary,
and `family.py` (`FAMILY`: all of it as the registry sees it).
"""

from animator.families.lazy import lazy_exports
from animator.families.svd.family import FAMILY

__getattr__ = lazy_exports(__name__, {
    "generator": ("SVDGenerator", "load"),
    "presets": ("PRESETS", "Preset", "get_preset"),
    "settings": ("check_settings", "settings_for"),
})

__all__ = ["FAMILY", "PRESETS", "Preset", "SVDGenerator", "check_settings", "get_preset", "load",
           "settings_for"]
