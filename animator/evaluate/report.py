"""Many evaluations side by side: one table (CSV + JSON) and a report with pictures.

The table has one row per clip with the headline numbers (`Evaluation.row`), and, when
several clips have a ground truth, a pooled row computed as a paper's table is (`pool.py`);
the JSON also keeps everything else (per part, per frame, proportions, notes). The report
(Markdown, or HTML with `html=True`) names its protocol, shows the table, says in one line
what each number measures and which direction is better (`protocols.describe`), then per
clip a strip of thumbnails (first, middle and last frame, the target skeleton drawn over
the middle one), the per-frame plots and the proportion comparison in words and as a
chart. Pictures go to `assets/` beside it. The HTML is styled for a desk and a phone: the
wide table scrolls inside its box, pictures shrink to the screen.
"""

from __future__ import annotations

import csv
import html as html_lib
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from animator.evaluate.evaluation import Evaluation, jsonable
from animator.evaluate.plots import per_frame_plot, proportion_plot
from animator.evaluate.pool import pooled
from animator.evaluate.protocols import describe, get_protocol
from animator.video import iter_video, side_by_side

THUMB_HEIGHT = 160
POOLED = "all clips (pooled)"
# Columns of the report's table, in order (all columns go to the CSV).
SHOWN = ("pose_error", "pck_0_05", "pck_0_1", "lost_frames", "jitter", "flicker", "csim",
         "csim_min", "l1", "psnr", "psnr_star", "ssim", "lpips", "fid", "fid_vid", "fvd",
         "build_error_vs_portrait", "build_error_vs_driver", "build_shift", "duration_error",
         "has_audio", "audio_lag_error")
STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;
background:#fff;margin:0 auto;max-width:960px;padding:16px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2.2rem;padding-top:1rem;
border-top:1px solid #ddd;overflow-wrap:anywhere}h3{font-size:1.05rem}
.protocol{color:#555;margin-top:0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid #ddd;
border-radius:8px;margin:1rem 0}
table{border-collapse:collapse;font-size:.9rem;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;text-align:right;white-space:nowrap;border-bottom:1px solid #eee}
th:first-child,td:first-child{text-align:left;position:sticky;left:0;background:#fff}
thead th{background:#f5f5f7;font-weight:600}tr.pooled td{font-weight:600;background:#fafafa}
img{max-width:100%;height:auto;display:block;margin:.5rem 0}
code{overflow-wrap:anywhere}dl{margin:0}dt{font-weight:600}dd{margin:0 0 .6rem 0;color:#333}
.finding{background:#f0f6fc;border-left:4px solid #4C78A8;padding:8px 12px;margin:.8rem 0}
.notes{color:#444;font-size:.95rem}
"""


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


def _thumbnails(ev: Evaluation, path: Path) -> None:
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
    if ev.target is not None and middle < len(ev.target) and middle in picked:
        frames.append(overlay_pose(picked[middle], ev.target.keypoints[middle]))
    Image.fromarray(side_by_side(*frames, height=THUMB_HEIGHT, gap=4)).save(path)


def _write_tables(out: Path, rows: list[dict], detail: list[dict]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with open(out / "metrics.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    (out / "metrics.json").write_text(json.dumps(jsonable(detail), indent=1))


def write_report(evaluations: Sequence[Evaluation], out_dir: str | Path, *,
                 names: Sequence[str] | None = None, html: bool = False) -> dict[str, Path]:
    """metrics.csv, metrics.json and report.md (or report.html) in `out_dir`.

    `names` label the rows (default: the clip file names).
    """
    out = Path(out_dir)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    names = list(names) if names is not None else [ev.clip.name for ev in evaluations]
    rows = [{"name": name, **ev.row()} for name, ev in zip(names, evaluations, strict=True)]
    detail = [{"name": name, **ev.to_dict()} for name, ev in zip(names, evaluations,
                                                                  strict=True)]
    pool = pooled(evaluations)
    if pool is not None:
        rows.append({"name": POOLED, **pool})
        detail.append({"name": POOLED, "pooled": True, **pool})
    _write_tables(out, rows, detail)

    protocol = evaluations[0].protocol if evaluations else "standard"
    shown = [k for k in SHOWN if any(row.get(k) is not None for row in rows)]
    taken: set[str] = set()
    sections = []
    for name, ev in zip(names, evaluations, strict=True):
        slug = _slug(name, taken)
        pictures = {"frames": out / "assets" / f"{slug}_frames.png",
                    "per_frame": out / "assets" / f"{slug}_per_frame.png",
                    "proportions": out / "assets" / f"{slug}_proportions.png"}
        _thumbnails(ev, pictures["frames"])
        made = {"frames": True, "per_frame": per_frame_plot(ev, pictures["per_frame"]),
                "proportions": proportion_plot(ev, pictures["proportions"])}
        sections.append((name, ev, {k: p.relative_to(out).as_posix()
                                    for k, p in pictures.items() if made[k]}))
    report = out / ("report.html" if html else "report.md")
    page = (_html if html else _markdown)(rows, shown, sections, protocol)
    report.write_text(page)
    return {"csv": out / "metrics.csv", "json": out / "metrics.json", "report": report}


_CAPTION = ("Frames: first, middle, last, and the target skeleton over the middle one.")


def _legend(shown: list[str], protocol: str) -> list[tuple[str, str]]:
    return [d for d in (describe(k, protocol) for k in shown) if d is not None]


def _header(key: str, protocol: str) -> str:
    d = describe(key, protocol)
    return d[0] if d else key


def _markdown(rows, shown, sections, protocol) -> str:
    lines = ["# Evaluation", "", f"Protocol: {get_protocol(protocol).title}.", "",
             "| clip | " + " | ".join(_header(k, protocol) for k in shown) + " |",
             "|" + "---|" * (len(shown) + 1)]
    lines += ["| " + " | ".join([row["name"]] + [_cell(row.get(k)) for k in shown]) + " |"
              for row in rows]
    lines += ["", "What the numbers mean:", ""]
    lines += [f"- **{label}**: {text}." for label, text in _legend(shown, protocol)]
    for name, ev, pictures in sections:
        lines += ["", f"## {name}", "", f"`{ev.clip}`: {ev.frames} frames at {ev.fps:g} fps, "
                  f"{ev.width}x{ev.height}.", "", f"![frames]({pictures['frames']})", "",
                  _CAPTION]
        if "per_frame" in pictures:
            lines += ["", f"![per-frame]({pictures['per_frame']})"]
        if ev.pose is not None:
            lines += ["", "| part | error | PCK@0.05 | PCK@0.1 | found |", "|---|---|---|---|---|"]
            for part, score in {"all": ev.pose.overall, **ev.pose.parts}.items():
                lines.append(f"| {part} | {_cell(score.error)} | {_cell(score.pck['0.05'])} | "
                             f"{_cell(score.pck['0.1'])} | {_cell(score.found)} |")
        if ev.proportions is not None:
            lines += ["", "### Proportions", "", f"**{ev.proportions.finding}**"]
            if "proportions" in pictures:
                lines += ["", f"![proportions]({pictures['proportions']})"]
        lines += [""] + [f"- {note}" for note in ev.notes]
    return "\n".join(lines) + "\n"


def _html(rows, shown, sections, protocol) -> str:
    e = html_lib.escape
    head = "<th>clip</th>" + "".join(
        f"<th title=\"{e(describe(k, protocol)[1]) if describe(k, protocol) else ''}\">"
        f"{e(_header(k, protocol))}</th>" for k in shown)
    body = "".join(
        f"<tr{' class=pooled' if row['name'] == POOLED else ''}><td>{e(row['name'])}</td>"
        + "".join(f"<td>{e(_cell(row.get(k)))}</td>" for k in shown) + "</tr>" for row in rows)
    legend = "".join(f"<dt>{e(label)}</dt><dd>{e(text)}.</dd>"
                     for label, text in _legend(shown, protocol))
    parts = [f"<h1>Evaluation</h1><p class=protocol>Protocol: "
             f"{e(get_protocol(protocol).title)}</p>"
             f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
             f"</table></div><h3>What the numbers mean</h3><dl>{legend}</dl>"]
    for name, ev, pictures in sections:
        parts.append(f"<h2>{e(name)}</h2><p><code>{e(str(ev.clip))}</code>: {ev.frames} "
                     f"frames at {ev.fps:g} fps, {ev.width}x{ev.height}.</p>"
                     f"<img src=\"{e(pictures['frames'])}\" alt=\"frames\">"
                     f"<p>{e(_CAPTION)}</p>")
        if "per_frame" in pictures:
            parts.append(f"<img src=\"{e(pictures['per_frame'])}\" alt=\"per-frame scores\">")
        if ev.pose is not None:
            cells = "".join(
                f"<tr><td>{e(part)}</td><td>{_cell(s.error)}</td><td>{_cell(s.pck['0.05'])}"
                f"</td><td>{_cell(s.pck['0.1'])}</td><td>{_cell(s.found)}</td></tr>"
                for part, s in {"all": ev.pose.overall, **ev.pose.parts}.items())
            parts.append("<div class=scroll><table><thead><tr><th>part</th><th>error</th>"
                         "<th>PCK@0.05</th><th>PCK@0.1</th><th>found</th></tr></thead>"
                         f"<tbody>{cells}</tbody></table></div>")
        if ev.proportions is not None:
            parts.append(f"<h3>Proportions</h3><p class=finding>"
                         f"{e(ev.proportions.finding)}</p>")
            if "proportions" in pictures:
                parts.append(f"<img src=\"{e(pictures['proportions'])}\" "
                             "alt=\"bone ratios of portrait, driver and clip\">")
        parts.append("<ul class=notes>" + "".join(f"<li>{e(n)}</li>" for n in ev.notes)
                     + "</ul>")
    return ("<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
            "content=\"width=device-width,initial-scale=1\"><title>Evaluation</title>"
            f"<style>{STYLE}</style><body>" + "".join(parts) + "</body></html>\n")


__all__ = ["write_report"]
