"""Which clips to evaluate, against what: clips on the command line, folders of runs, and
jobs files run through `batch` first.

- a clip file: measured against the `--poses` / `--driving` given, or else the pose file
  `animate --out NAME.mp4 --json NAME.json` leaves beside it;
- a folder: every .mp4 in it, the same way; a `batch` output folder (it has summary.json)
  instead takes each job's own portrait and driving input from the summary;
- a jobs file (`batch`'s JSON lines, plus an optional "preset" per job): rendered with
  `run_batch`, one output folder per preset, then each job measured against its own inputs
  and settings. This is the way to compare presets and settings side by side.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animator.config import RetargetConfig
from animator.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv")
SKIPPED_NAMES = ("comparison", "pose_preview")  # side-by-side files `animate` also writes


@dataclass
class Run:
    """One clip and the inputs that made it."""

    clip: Path
    name: str  # row label in the table
    image: Path | None
    poses: Path | None = None
    driving: str | None = None  # a video path or a built-in motion name
    fps: float | None = None  # None: the clip's own
    start: float = 0.0
    end: float | None = None
    retarget: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # caveats shown with the results


def _sidecar(clip: Path) -> Path | None:
    for candidate in (clip.with_suffix(".json"), clip.with_suffix(".npz")):
        if candidate.is_file():
            return candidate
    return None


def _from_batch_folder(folder: Path) -> list[Run]:
    summary = json.loads((folder / "summary.json").read_text())
    runs = []
    for record in summary.get("results", []):
        if record.get("ok"):
            runs.append(Run(folder / record["out"], f"{folder.name}/{record['out']}",
                            Path(record["image"]), driving=record["driving"], notes=[
                                "Target poses derived again with default retargeting over the "
                                "whole driving input, at the clip's fps (summary.json keeps no "
                                "start, end or retargeting settings); evaluate with --jobs to "
                                "use each job's own."]))
    if not runs:
        raise InputError(f"No finished job in {folder / 'summary.json'}: nothing to evaluate.")
    return runs


def collect_runs(paths: list[Path], *, image: Path | None, poses: Path | None,
                 driving: str | None) -> list[Run]:
    """Runs for clips and folders given on the command line; checks that each has a target."""
    runs: list[Run] = []
    for path in paths:
        if path.is_dir():
            if (path / "summary.json").is_file():
                runs += _from_batch_folder(path)
                continue
            clips = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES
                           and not any(s in p.stem for s in SKIPPED_NAMES))
            if not clips:
                raise InputError(f"No video (.mp4, .mov, .webm) in the folder {path}.")
            names = [f"{path.name}/{c.name}" for c in clips]
        elif path.is_file():
            clips, names = [path], [path.name]
        else:
            raise InputError(f"{path} is neither a video file nor a folder of runs.")
        for clip, name in zip(clips, names, strict=True):
            runs.append(Run(clip, name, image, poses=poses or (None if driving else
                                                               _sidecar(clip)),
                            driving=driving))
    return runs


def run_jobs(jobs_path: Path, out_dir: Path,
             make_animator: Callable[[str | None], Any]) -> list[Run] | None:
    """Render a jobs file through `batch`, one output folder per preset; the finished jobs
    as runs (failed jobs are reported by `batch`'s summary and left out). Under
    `accelerate launch` the other processes render their share and get None: the main
    process evaluates."""
    from animator.batch import load_jobs, run_batch

    try:
        lines = jobs_path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"Could not read the jobs file {jobs_path}: {e}") from e
    base = jobs_path.parent.resolve()
    by_preset: dict[str | None, list[str]] = {}
    plain = []  # the file without "preset", same line numbers, for batch's own checks
    for line in lines:
        try:
            spec = json.loads(line) if line.strip() and not line.lstrip().startswith("#") \
                else None
        except json.JSONDecodeError:
            spec = None
        if not isinstance(spec, dict):
            plain.append(line)
            continue
        preset = spec.pop("preset", None)
        if preset is not None and not isinstance(preset, str):
            raise InputError(f"{jobs_path.name}: \"preset\" must be a name, got {preset!r}.")
        for key in ("image", "video"):
            if isinstance(spec.get(key), str):
                spec[key] = str(base / spec[key])
        plain.append(json.dumps(spec))
        by_preset.setdefault(preset, []).append(json.dumps(spec))
    out_dir.mkdir(parents=True, exist_ok=True)
    checked = out_dir / ".jobs.all.jsonl"
    checked.write_text("\n".join(plain) + "\n")
    try:
        load_jobs(checked)  # every line's error before any rendering
    finally:
        checked.unlink()
    runs, main = [], True
    for preset, specs in by_preset.items():
        folder = out_dir / (preset or "default").replace(":", "_").replace("/", "_")
        part = out_dir / f".jobs.{folder.name}.jsonl"
        part.write_text("\n".join(specs) + "\n")
        try:
            jobs = load_jobs(part)
            summary = run_batch(part, folder, lambda p=preset: make_animator(p))
        finally:
            part.unlink()
        if summary is None:  # another accelerate process: the main one evaluates
            main = False
            continue
        for job, record in zip(jobs, summary["results"], strict=True):
            if record["ok"]:
                runs.append(Run(folder / job.out, f"{folder.name}/{job.out}", job.image,
                                driving=job.driving, fps=job.fps, start=job.start, end=job.end,
                                retarget=job.retarget))
    if not main:
        return None
    if not runs:
        raise InputError(f"No job of {jobs_path} finished; see the summary.json files in "
                         f"{out_dir}.")
    return runs


def retarget_config(run: Run) -> RetargetConfig:
    return RetargetConfig(**run.retarget)





def face_embedder(config):
    """The FaceEmbedder to score CSIM with, or None when no face model is on the machine."""
    from animator.face import FaceEmbedder, find_face_model_dir

    if not config.identity:
        return None
    if config.face_model_dir:
        return FaceEmbedder(config.face_model_dir)
    found = find_face_model_dir(config.weights_dir)
    return FaceEmbedder(found) if found is not None else None


def refuse_missing_networks(config) -> None:
    """FVD needs I3D features that this package does not define (the public I3D for FVD is
    a TorchScript file, which is code and cannot be loaded with weights_only)."""
    if config.fvd:
        raise InputError("FVD needs I3D (Kinetics-400) video features, which this version of "
                         "animator does not compute; leave out --fvd (FID, LPIPS, L1, PSNR "
                         "and SSIM are available).")


def evaluate_runs(runs: list[Run], out_dir: str | Path, *, animator, config=None,
                  ground_truth: str | Path | None = None, html: bool = False,
                  progress: Callable[[str], None] = lambda line: None):
    """Evaluate every run and write the table and report; returns (evaluations, files)."""
    from animator.evaluate.config import EvaluateConfig
    from animator.evaluate.fid import load_fid
    from animator.evaluate.lpips import load_lpips
    from animator.evaluate.report import write_report
    from animator.evaluate.run import evaluate_clip, make_target
    from animator.video import probe_video

    config = config or EvaluateConfig()
    if config.identity_stride < 1:
        raise InputError(f"--identity-stride must be 1 or more, got {config.identity_stride}.")
    refuse_missing_networks(config)
    for flag, name in (("lpips", "LPIPS"), ("fid", "FID")):
        if ground_truth is None and getattr(config, flag):
            raise InputError(f"{name} compares with a ground truth: pass --ground-truth VIDEO.")
    for run in runs:  # every input checked before the first measurement
        probe_video(run.clip)
        if run.poses is None and run.driving is None:
            raise InputError(f"No target poses for {run.clip.name}: pass --poses (the "
                             "poses.json `animate --json` wrote) or --driving (the driving "
                             "video or motion), or put NAME.json beside NAME.mp4.")
    if ground_truth is not None:
        probe_video(ground_truth)
    lpips_model = load_lpips(config.weights_dir) if config.lpips else None
    fid_model = load_fid(config.weights_dir) if config.fid else None
    embedder = face_embedder(config)
    evaluations = []
    for i, run in enumerate(runs):
        progress(f"[{i + 1}/{len(runs)}] {run.name}")
        fps = run.fps or probe_video(run.clip).fps
        target = make_target(animator, portrait=run.image, poses=run.poses,
                             driving=run.driving, fps=fps, retarget_config=retarget_config(run),
                             start=run.start, end=run.end)
        target.notes += run.notes
        evaluations.append(evaluate_clip(run.clip, target, animator=animator,
                                         ground_truth=ground_truth, config=config,
                                         embedder=embedder, lpips_model=lpips_model,
                                         fid_model=fid_model))
    files = write_report(evaluations, out_dir, names=[r.name for r in runs], html=html)
    return evaluations, files
__all__ = ["Run", "collect_runs", "evaluate_runs", "face_embedder", "retarget_config", "run_jobs"]
