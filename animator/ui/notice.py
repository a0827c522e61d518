"""The line above the page that says, before anyone presses Generate, how fast a run will
be here: on a CPU, what the chosen preset's real model would take; on a GPU, what runs,
and what else this card is big enough for."""

from __future__ import annotations

from animator import families


def device_notice(animator, preset: str) -> str:
    """What the page says about speed for `preset` on `animator`'s device."""
    no_gpu = animator.device == "cpu"
    if no_gpu:
        real, estimate = families.cpu_estimate(preset)
        cpu = (f"**No GPU here.** Generation with the real `{real}` weights needs a GPU: "
               f"on this machine's CPU {estimate}. Pose preview works fully on the CPU.")
    smoke_tests = families.smoke_tests()
    if preset in smoke_tests:
        smoke = (f"The `{preset}` preset runs a miniature model with random weights in seconds "
                 "on any CPU. Its output is noise: it checks the whole path, not the look.")
        return f"{cpu} {smoke}" if no_gpu else (
            f"**Smoke-test preset:** {smoke} Pick a real preset for real animations.")
    if no_gpu:
        if not smoke_tests:
            return cpu
        return f"{cpu} Pick the `{smoke_tests[0]}` preset for a quick smoke test of the whole path."
    running = f"Running `{preset}` on `{animator.device}`. {families.describe(preset)}"
    for offer in families.gpu_offers(animator.device, preset):
        running += f" {offer}"
    return running
