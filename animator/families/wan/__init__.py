"""The Wan family: Wan2.2-Animate-14B through diffusers' `WanAnimatePipeline`, unchanged.

presets.py (files, terms, defaults), settings.py (what the page, the API and the CLI
offer, and the checks), loading.py (hub / weights dir / local folder, memory modes, the
fast LoRA), text.py (prompt embeddings once), inputs.py (face video, framing, replace-mode
masks), generator.py (one generation behind the generator boundary), cost.py (memory and
time from the configurations), family.py (`FAMILY`: all of it as the registry sees it).
The skeleton drawing is `animator.pose.render.draw_pose_wan`.
"""

from animator.families.lazy import lazy_exports
from animator.families.wan.family import FAMILY

__getattr__ = lazy_exports(__name__, {
    "generator": ("WanGenerator", "num_segments"),
    "loading": ("build", "download", "load"),
    "presets": ("PRESETS", "WanPreset", "download_summary", "get_preset"),
    "settings": ("LOAD_OPTIONS", "MEMORY_MODES", "check_settings", "settings_for"),
})

__all__ = ["FAMILY", "LOAD_OPTIONS", "MEMORY_MODES", "PRESETS", "WanGenerator", "WanPreset",
           "build", "check_settings", "download", "download_summary", "get_preset", "load",
           "num_segments", "settings_for"]
