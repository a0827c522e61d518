"""`FAMILY`: the Wan-Animate-2 family as the registry sees it (`families.base.Family`).

Each method hands over to the module that knows: presets.py, settings.py, cost.py,
loading.py (looked up when called, so a test can stand a tiny pipeline in for the weights).
"""

from __future__ import annotations

from animator.estimate import describe_seconds
from animator.families.base import resolve_settings
from animator.families.wan2 import settings as declared
from animator.families.wan2.presets import LOCAL_CLASSES, PRESETS, get_preset

ESTIMATE_SIZE = (640, 800)  # the clip the CPU estimate is for: the published area, 4 s


def mode_that_fits(device: str) -> str | None:
    """The lightest memory mode in which wan-animate-2 fits this GPU at 800x640, or None."""
    if not device.startswith("cuda"):
        return None
    import torch

    from animator.families.wan2 import cost

    total = torch.cuda.get_device_properties(torch.device(device)).total_memory
    for mode, fp8 in (("none", False), ("none", True), ("model", False), ("group", False),
                      ("group", True)):
        if cost.peak_memory(800, 640, 81, mode, fp8) < 0.95 * total:
            return f"memory mode {mode}" + (" with fp8" if fp8 else "")
    return None


class Wan2Family:
    """Wan-Animate-2 (`wan-animate-2`, `wan-animate-2-distilled`) and saved folders."""

    name = "wan2"
    title = "Wan-Animate-2"
    cli_group = "wan-animate-2 (with --preset wan-animate-2[-distilled])"
    smoke_tests: tuple[str, ...] = ()
    download_options = declared.DOWNLOAD_OPTIONS
    local_classes = LOCAL_CLASSES
    commands = ()

    def presets(self) -> dict[str, str]:
        return {name: preset.description for name, preset in PRESETS.items()}

    def describe(self, preset: str) -> str:
        return get_preset(preset).description

    def settings(self, preset: str, load_options=None):
        return declared.settings_for(get_preset(preset))

    def load_options(self, preset: str):
        return declared.LOAD_OPTIONS

    def check_settings(self, preset: str, overrides, device: str | None = None) -> dict:
        return declared.check_settings(get_preset(preset), overrides, device)

    def estimate_cpu_seconds(self, preset: str, num_frames: int, width: int, height: int,
                             overrides=None) -> float:
        from animator.families.wan2 import cost

        values = resolve_settings(self.settings(preset), overrides)
        values.update(width=width - width % 16 or 16, height=height - height % 16 or 16)
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
        fits = mode_that_fits(device)
        if fits is None:
            return None
        return (f"This GPU is big enough for `wan-animate-2` (Wan-Animate-2 14B at 800x640, "
                f"{fits}): pick it under Preset.")

    def download(self, preset: str, *, weights_dir=None, progress=None, notify=print):
        from animator.families import wan2

        return wan2.download(preset, weights_dir=weights_dir, progress=progress, notify=notify)

    def load(self, preset: str, **options):
        from animator.families import wan2

        return wan2.load(preset, **options)


FAMILY = Wan2Family()
