"""The SVD family: StableAnimator, MimicMotion, the tiny model and saved `local:` pipelines.

Its presets, files and loading live in `animator.weights` and its sampling in
`animator.pipeline`; this folder only adapts them to the generator boundary.
"""

from animator.families.svd.generator import SVDGenerator, check_settings, load, settings_for

__all__ = ["SVDGenerator", "check_settings", "load", "settings_for"]
