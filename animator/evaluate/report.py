"""Many evaluations side by side: one table (CSV + JSON) and a report with pictures.

The table has one row per clip with the headline numbers (`Evaluation.row`); the JSON
also keeps everything else (per part, per frame, notes). The report (Markdown, or HTML
with `html=True`) shows the table, then per clip a strip of thumbnails (first, middle and
last frame, the target skeleton drawn over the middle one) and a plot of the per-frame
series (pose error, PCK, flicker, CSIM, SSIM). Pictures go to `assets/` beside it.
"""

from __future__ import annotations

import csv
import html as html_lib
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from animator.evaluate.run import Evaluation
from animator.video import iter_video, side_by_side

THUMB_HEIGHT = 160
# Columns of the report's table (all columns go to the CSV), with their headers.
SHOWN = (("name", "clip"), ("pose_error", "pose err"), ("pck_0_05", "PCK@.05"),
         ("pck_0_1", "PCK@.1"), ("lost_frames", "lost"), ("jitter", "jitter"),
         ("flicker", "flicker"), ("csim", "CSIM"), ("csim_min", "CSIM min"), ("l1", "L1"),
         ("psnr", "PSNR"), ("ssim", "SSIM"), ("lpips", "LPIPS"), ("fid", "FID"),
         ("duration_error", "dur err s"), ("has_audio", "audio"),
         ("audio_lag_error", "lag err s"))
PLOTTED = (("pose_error", "pose error (x size)"), ("pck_0.1", "PCK@0.1"),
           ("flicker", "flicker (levels)"), ("jitter", "keypoint jitter"), ("csim", "CSIM"),
           ("ssim", "SSIM"))


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:.4g}"
    return str(value)


def _slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "clip"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name


def _thumbnails(ev: Evaluation, target_pose: np.ndarray | None, path: Path) -> None:
    from animator.pose.render import overlay_pose

    wanted = sorted({0, ev.frames // 2, max(0, ev.frames - 1)})
    picked = {}
    for i, frame in enumerate(iter_video(ev.clip)):
        if i in wanted:
            picked[i] = frame
        if i >= wanted[-1]:
            break
    frames = [picked[i] for i in wanted if i in picked]
    middle = ev.frames // 2
    if target_pose is not None and middle in picked:
        frames.append(overlay_pose(picked[middle], target_pose))
    strip = side_by_side(*frames, height=THUMB_HEIGHT, gap=4)
    Image.fromarray(strip).save(path)


def _plot(ev: Evaluation, path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    series = [(key, label) for key, label in PLOTTED
              if key in ev.per_frame and np.isfinite(np.asarray(ev.per_frame[key],
                                                                dtype=float)).any()]
    if not series:
        return False
    fig, axes = plt.subplots(len(series), 1, figsize=(7, 1.6 * len(series)), sharex=True,
                             squeeze=False)
    t = np.arange(ev.frames) / ev.fps
    for ax, (key, label) in zip(axes[:, 0], series, strict=True):
        values = np.asarray(ev.per_frame[key], dtype=float)
        ax.plot(t[: len(values)], values, lw=1)
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("seconds", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def write_report(evaluations: Sequence[Evaluation], out_dir: str | Path, *,
                 names: Sequence[str] | None = None, html: bool = False) -> dict[str, Path]:
    """metrics.csv, metrics.json and report.md (or report.html) in `out_dir`.

    `names` label the rows (default: the clip file names).
    """
    out = Path(out_dir)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    names = list(names) if names is not None else [ev.clip.name for ev in evaluations]
    rows = [{"name": name, **ev.row()} for name, ev in zip(names, evaluations, strict=True)]
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(out / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    detail = [{"name": name, **ev.to_dict()} for name, ev in zip(names, evaluations,
                                                                  strict=True)]
    (out / "metrics.json").write_text(json.dumps(detail, indent=1))

    shown = [(k, h) for k, h in SHOWN if any(row.get(k) is not None for row in rows)]
    sections = []
    for name, ev in zip(names, evaluations, strict=True):
        slug = _slug(name, taken)
        pose = None
        if ev.target is not None and ev.frames // 2 < len(ev.target):
            pose = ev.target.keypoints[ev.frames // 2]
        thumb = out / "assets" / f"{slug}_frames.png"
        _thumbnails(ev, pose, thumb)
        plot = out / "assets" / f"{slug}_per_frame.png"
        has_plot = _plot(ev, plot)
        sections.append((name, ev, thumb.relative_to(out).as_posix(),
                         plot.relative_to(out).as_posix() if has_plot else None))

    report = out / ("report.html" if html else "report.md")
    if html:
        report.write_text(_html(rows, shown, sections))
    else:
        report.write_text(_markdown(rows, shown, sections))
    return {"csv": out / "metrics.csv", "json": out / "metrics.json", "report": report}


_CAPTION = ("Frames: first, middle, last, and the target skeleton over the middle one. "
            "Pose error is relative to the person's {kind} size; flicker is the warping "
            "error in 8-bit levels.")


def _markdown(rows, shown, sections) -> str:
    lines = ["# Evaluation", "", "| " + " | ".join(h for _, h in shown) + " |",
             "|" + "---|" * len(shown)]
    lines += ["| " + " | ".join(_cell(row.get(k)) for k, _ in shown) + " |" for row in rows]
    for name, ev, thumb, plot in sections:
        kind = ev.pose.size_kind if ev.pose is not None else "body"
        lines += ["", f"## {name}", "", f"`{ev.clip}`: {ev.frames} frames at {ev.fps:g} fps, "
                  f"{ev.width}x{ev.height}.", "", f"![frames]({thumb})", "",
                  _CAPTION.format(kind=kind)]
        if plot:
            lines += ["", f"![per-frame]({plot})"]
        if ev.pose is not None:
            lines += ["", "| part | error | PCK@0.05 | PCK@0.1 | found |", "|---|---|---|---|---|"]
            for part, score in {"all": ev.pose.overall, **ev.pose.parts}.items():
                lines.append(f"| {part} | {_cell(score.error)} | {_cell(score.pck['0.05'])} | "
                             f"{_cell(score.pck['0.1'])} | {_cell(score.found)} |")
        lines += [""] + [f"- {note}" for note in ev.notes]
    return "\n".join(lines) + "\n"


def _html(rows, shown, sections) -> str:
    e = html_lib.escape
    head = "".join(f"<th>{e(h)}</th>" for _, h in shown)
    body = "".join("<tr>" + "".join(f"<td>{e(_cell(row.get(k)))}</td>" for k, _ in shown)
                   + "</tr>" for row in rows)
    parts = [f"<h1>Evaluation</h1><table border=1 cellpadding=3><tr>{head}</tr>{body}</table>"]
    for name, ev, thumb, plot in sections:
        kind = ev.pose.size_kind if ev.pose is not None else "body"
        parts.append(f"<h2>{e(name)}</h2><p><code>{e(str(ev.clip))}</code>: {ev.frames} "
                     f"frames at {ev.fps:g} fps, {ev.width}x{ev.height}.</p>"
                     f"<img src=\"{e(thumb)}\"><p>{e(_CAPTION.format(kind=kind))}</p>")
        if plot:
            parts.append(f"<img src=\"{e(plot)}\">")
        parts.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in ev.notes) + "</ul>")
    return ("<!doctype html><meta charset=utf-8><title>Evaluation</title>"
            + "".join(parts) + "\n")


__all__ = ["write_report"]
