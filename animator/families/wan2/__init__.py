"""The Wan-Animate-2 family: the raw driving video and the portrait through diffusers'
modular pipelines (`WanAnimate2ModularPipeline`, `WanAnimate2DistilledModularPipeline`),
unchanged.

presets.py (files, terms, defaults), settings.py (what the page, the API and the CLI offer,
and the checks), inputs.py (the chosen person's window of the driving video), text.py (the
library's text step once per prompt), generator.py (one generation behind the generator
boundary), loading.py (hub / weights dir / local folder, memory modes), cost.py (memory and
time from the configurations), tiny.py (a toy pipeline for tests), family.py (`FAMILY`).
"""

from animator.families.lazy import lazy_exports
from animator.families.wan2.family import FAMILY

__getattr__ = lazy_exports(__name__, {
    "generator": ("Wan2Generator",),
    "loading": ("build", "download", "load", "save_local"),
    "presets": ("PRESETS", "Wan2Preset", "download_summary", "get_preset"),
    "settings": ("LOAD_OPTIONS", "check_settings", "settings_for"),
})

__all__ = ["FAMILY", "LOAD_OPTIONS", "PRESETS", "Wan2Generator", "Wan2Preset", "build",
           "check_settings", "download", "download_summary", "get_preset", "load",
           "save_local", "settings_for"]
