"""The Wan family: Wan2.2-Animate-14B through diffusers' `WanAnimatePipeline`, unchanged.

presets.py (files, terms, defaults), loading.py (hub / weights dir / local folder, memory
modes, the fast LoRA), text.py (prompt embeddings once), inputs.py (face video, framing,
replace-mode masks), generator.py (one generation behind the generator boundary). The
skeleton drawing is `animator.pose.render.draw_pose_wan`.
"""

from animator.families.wan.generator import (
    WanGenerator,
    check_settings,
    num_segments,
    settings_for,
)
from animator.families.wan.loading import LOAD_OPTIONS, MEMORY_MODES, build, download, load
from animator.families.wan.presets import PRESETS, WanPreset, download_summary, get_preset

__all__ = ["LOAD_OPTIONS", "MEMORY_MODES", "PRESETS", "WanGenerator", "WanPreset", "build",
           "check_settings", "download", "download_summary", "get_preset", "load",
           "num_segments", "settings_for"]
