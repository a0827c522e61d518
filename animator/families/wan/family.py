"""`FAMILY`: the Wan family as the registry sees it (`animator.families.base.Family`).

Each method hands over to the module that knows: presets.py, settings.py, cost.py,
loading.py. Loading and downloading go through the package's own `load` and `download`
(looked up when called, so a test can stand a tiny pipeline in for the weights).
"""

from __future__ import annotations

from animator.estimate import describe_seconds
from animator.families.base import resolve_settings
from animator.families.wan import settings as declared
from animator.families.wan.presets import LOCAL_CLASSES, PRESETS, get_preset

ESTIMATE_SIZE = (1280, 720)  # the clip the CPU estimate is for: 720p, 4 seconds
# Memory modes from the lightest on the GPU to the most offloaded.
MEMORY_LADDER = (("none", False), ("none", True), ("model", False), ("model", True),
                 ("group", False), ("group", True))


def memory_mode_that_fits(device: str) -> str | None:
    """The lightest memory mode in which wan-animate's weights fit this GPU (with room for
    the activations), or None (no GPU, or too small)."""
    if not device.startswith("cuda"):
        return None
    import torch

    from animator.families.wan import cost

    total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    for mode, fp8 in MEMORY_LADDER:
        if 1.25 * cost.weight_memory(mode, fp8) < total:
            return f"memory mode {mode}" + (" with fp8" if fp8 else "")
    return None


class WanFamily:
    """Wan2.2-Animate (`wan-animate`) and saved `WanAnimatePipeline` folders."""

    name = "wan"
    title = "Wan"
    cli_group = "wan-animate (with --preset wan-animate)"
    smoke_tests: tuple[str, ...] = ()
    download_options = declared.DOWNLOAD_OPTIONS
    local_classes = LOCAL_CLASSES
    commands = ()

    def presets(self) -> dict[str, str]:
        return {name: preset.description for name, preset in PRESETS.items()}

    def describe(self, preset: str) -> str:
        return get_preset(preset).description

    def settings(self, preset: str, load_options=None):
        wan = get_preset(preset)
        fast = bool((load_options or {}).get("fast"))
        return declared.settings_for(wan, wan.fast if fast else None)

    def load_options(self, preset: str):
        return declared.LOAD_OPTIONS

    def check_settings(self, preset: str, overrides, device: str | None = None) -> dict:
        return declared.check_settings(get_preset(preset), overrides, device)

    def estimate_cpu_seconds(self, preset: str, num_frames: int, width: int, height: int,
                             overrides=None) -> float:
        from animator.families.wan import cost

        values = resolve_settings(self.settings(preset), overrides)
        values.update(width=width, height=height)
        return cost.estimate_cpu_seconds(num_frames, values)

    def cpu_estimate(self, preset: str) -> tuple[str, str]:
        fps = get_preset(preset).defaults.fps
        width, height = ESTIMATE_SIZE
        seconds = self.estimate_cpu_seconds(preset, int(4 * fps), width, height)
        return preset, (f"a 4-second clip at {fps:g} fps ({width}x{height}) would take "
                        f"{describe_seconds(seconds)}")

    def output_fps(self, preset: str) -> float | None:
        return get_preset(preset).defaults.fps

    def gpu_offer(self, device: str) -> str | None:
        fits = memory_mode_that_fits(device)
        if fits is None:
            return None
        return (f"This GPU is big enough for `wan-animate` (Wan2.2-Animate-14B, {fits}): "
                "pick it under Preset.")

    def download(self, preset: str, *, weights_dir=None, progress=None, notify=print,
                 fast: bool = False):
        from animator.families import wan

        return wan.download(preset, weights_dir=weights_dir, fast=fast, progress=progress,
                            notify=notify)

    def load(self, preset: str, **options):
        from animator.families import wan

        return wan.load(preset, **options)


FAMILY = WanFamily()
