"""The report's pictures: per-frame series and the proportion comparison.

Sized for reading on a phone as well as a desk: one series per panel, 11 pt labels with
units, a light grid, and a width (600 px) that a 390 px screen shows at 0.6x, so the
text stays about 11 px there.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from animator.evaluate.evaluation import Evaluation

WIDTH_IN, DPI = 5.0, 120  # 600 px wide
FONT = 11
# Per-frame series plotted, with their axis labels (unit and better direction).
PLOTTED = (("pose_error", "pose error\n(body sizes) ↓"), ("pck_0.1", "PCK@0.1 ↑"),
           ("flicker", "flicker\n(levels) ↓"), ("jitter", "jitter ↓"), ("csim", "CSIM ↑"),
           ("psnr", "PSNR (dB) ↑"), ("ssim", "SSIM ↑"), ("lpips", "LPIPS ↓"))
COLORS = {"portrait": "#4C78A8", "driver": "#E45756", "clip": "#54A24B"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update({"font.size": FONT, "axes.titlesize": FONT, "axes.labelsize": FONT,
                         "xtick.labelsize": FONT - 1, "ytick.labelsize": FONT - 1,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def per_frame_plot(ev: Evaluation, path: Path) -> bool:
    """One panel per measured series against time; False when there is nothing to plot."""
    series = [(key, label) for key, label in PLOTTED
              if key in ev.per_frame and np.isfinite(np.asarray(ev.per_frame[key],
                                                                dtype=float)).any()]
    if not series:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(len(series), 1, figsize=(WIDTH_IN, 1.7 * len(series) + 0.5),
                             sharex=True, squeeze=False)
    t = np.arange(ev.frames) / ev.fps
    for ax, (key, label) in zip(axes[:, 0], series, strict=True):
        values = np.asarray(ev.per_frame[key], dtype=float)
        values[np.isinf(values)] = np.nan  # identical frames: PSNR infinity, not plotted
        ax.plot(t[: len(values)], values, lw=1.4, color="#4C78A8")
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return True


def proportion_plot(ev: Evaluation, path: Path) -> bool:
    """Bone ratios of portrait, driver and clip side by side, one group per ratio."""
    p = ev.proportions
    if p is None:
        return False
    sources = {"portrait": p.portrait, "driver": p.driver, "clip": p.clip}
    sources = {k: v for k, v in sources.items() if v is not None}
    names = [n for n in p.clip  # ratios that can be compared: the clip's and another's
             if p.clip.get(n) is not None
             and sum(s.get(n) is not None for s in sources.values()) >= 2]
    if not names:
        return False
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.9))
    x = np.arange(len(names))
    width = 0.8 / len(sources)
    for i, (who, ratios) in enumerate(sources.items()):
        values = [ratios.get(n) if ratios.get(n) is not None else np.nan for n in names]
        ax.bar(x + (i - (len(sources) - 1) / 2) * width, values, width, label=who,
               color=COLORS[who])
    ax.set_xticks(x, [n.replace("_", " ") for n in names], rotation=20, ha="right")
    ax.set_ylabel(f"length / {p.reference}")
    ax.legend(frameon=False, ncol=len(sources), loc="upper center",
              bbox_to_anchor=(0.5, 1.18))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return True


__all__ = ["per_frame_plot", "proportion_plot"]
