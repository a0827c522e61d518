"""`FAMILY`: the SVD family as the registry sees it (`animator.families.base.Family`).

Each method hands over to the module that knows: the presets (the package's `PRESETS` and
`get_preset`), settings.py, cost.py, the weights' download, generator.py's `load`, and
the trainer for the family's own `train` subcommand.
"""

from __future__ import annotations

from dataclasses import fields

from animator.estimate import describe_seconds
from animator.families.base import Command, resolve_settings
from animator.families.svd.settings import check_settings, settings_for

ESTIMATE_FPS = 15  # the page's own rate for families without one: the CPU estimate's clip
ESTIMATED = "stableanimator"  # what presets without public weights are estimated as


def _train(argv: list[str]) -> int:
    from animator.families.svd.train import main

    return main(argv)


def _presets() -> dict:
    from animator.families import svd

    return svd.PRESETS


def _preset(name: str):
    from animator.families import svd

    return svd.get_preset(name)


class SVDFamily:
    """StableAnimator, MimicMotion, the tiny model and saved `AnimationPipeline` folders."""

    name = "svd"
    title = "SVD"
    cli_group = None  # its flags are the generation group's (it was the first family)
    smoke_tests = ("tiny",)
    download_options = ()
    local_classes = ("AnimationPipeline",)
    commands = (Command("train", "train the controllers: `train --help` for its options",
                        _train),)

    def presets(self) -> dict[str, str]:
        return {name: preset.description for name, preset in _presets().items()}

    def describe(self, preset: str) -> str:
        return _preset(preset).description

    def settings(self, preset: str, load_options=None):
        return settings_for(_preset(preset))

    def load_options(self, preset: str):
        return ()

    def check_settings(self, preset: str, overrides, device: str | None = None) -> dict:
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        values = resolve_settings(self.settings(preset), given)
        return check_settings({k: values[k] for k in given}, device)

    def estimate_cpu_seconds(self, preset: str, num_frames: int, width: int, height: int,
                             overrides=None) -> float:
        from animator.families.svd.config import GenerationConfig
        from animator.families.svd.cost import estimate_cpu_seconds

        values = resolve_settings(self.settings(preset), overrides)
        values.update(width=width, height=height)
        config = GenerationConfig(**{f.name: values[f.name] for f in fields(GenerationConfig)})
        return estimate_cpu_seconds(num_frames, config, anchor=_preset(preset).reference_anchor)

    def cpu_estimate(self, preset: str) -> tuple[str, str]:
        chosen = _preset(preset)
        real = chosen if chosen.base is not None else _preset(ESTIMATED)
        seconds = self.estimate_cpu_seconds(real.name, 4 * ESTIMATE_FPS, real.defaults.width,
                                            real.defaults.height)
        return real.name, (f"a 4-second clip at {ESTIMATE_FPS} fps would take "
                           f"{describe_seconds(seconds)}")

    def output_fps(self, preset: str) -> float | None:
        return None  # the driving video's own

    def gpu_offer(self, device: str) -> str | None:
        return None  # nothing to offer by the card's size

    def download(self, preset: str, *, weights_dir=None, progress=None, notify=print):
        from animator.families.svd.weights import download_preset

        notify(_preset(preset).license)
        return download_preset(preset, weights_dir=weights_dir, progress=progress)

    def load(self, preset: str, **options):
        from animator.families.svd.generator import load

        return load(preset, **options)


FAMILY = SVDFamily()
