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
from animator.datafiles import parse_json, read_json
from animator.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv")
MAX_SUMMARY_BYTES = 64 * 2**20  # a summary of a million jobs
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


def _batch_records(folder: Path) -> list[dict]:
    """The finished jobs of a batch folder's summary.json, each naming its clip, portrait and
    driving input as text; a malformed summary is an InputError naming it."""
    path = folder / "summary.json"
    summary = read_json(path, max_bytes=MAX_SUMMARY_BYTES, what="batch summary")
    results = summary.get("results") if isinstance(summary, dict) else None
    fields = ("out", "image", "driving")
    if not isinstance(results, list) or not all(
            isinstance(r, dict) and all(isinstance(r.get(k), str) for k in fields)
            for r in results):
        raise InputError(f"{path} is not a batch summary (its \"results\" must list jobs "
                         "with \"out\", \"image\" and \"driving\"); run batch again.")
    return [r for r in results if r.get("ok") is True]


def _from_batch_folder(folder: Path) -> list[Run]:
    runs = []
    for record in _batch_records(folder):
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


def run_jobs(jobs_path: Path, out_dir: Path, make_animator: Callable[[str | None], Any], *,
             overwrite: bool = False) -> list[Run] | None:
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
            spec = parse_json(line, jobs_path.name) if line.strip() \
                and not line.lstrip().startswith("#") else None
        except InputError:  # load_jobs says what is wrong, with the line number
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
            summary = run_batch(part, folder, lambda p=preset: make_animator(p),
                                overwrite=overwrite)
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


def truth_for(run: Run, ground_truth: Path | None) -> Path | None:
    """The run's ground truth: the video given, or in a folder the file named like the
    clip (NAME.mp4 for NAME.mp4, or NAME with another video suffix)."""
    if ground_truth is None or not ground_truth.is_dir():
        return ground_truth
    for suffix in (run.clip.suffix, *VIDEO_SUFFIXES):
        candidate = ground_truth / (run.clip.stem + suffix)
        if candidate.is_file():
            return candidate
    raise InputError(f"No ground truth for {run.clip.name} in {ground_truth}: put "
                     f"{run.clip.stem}.mp4 there, or pass the video itself.")


def _check_inputs(runs: list[Run], ground_truth: Path | None, config) -> list[Path | None]:
    """Every input checked before the first measurement; the runs' ground truths."""
    from animator.evaluate.disco import MIN_SIDE as DISCO_MIN_SIDE
    from animator.evaluate.networks import check_network_flags
    from animator.evaluate.pixels import MIN_SIDE, check_side
    from animator.video import probe_video

    if config.identity_stride < 1:
        raise InputError(f"--identity-stride must be 1 or more, got {config.identity_stride}.")
    check_network_flags(config, ground_truth is not None)
    if ground_truth is not None and not ground_truth.exists():
        raise InputError(f"The ground truth {ground_truth} does not exist: pass a video or a "
                         "folder of videos named like the clips.")
    truths = []
    for run in runs:
        info = probe_video(run.clip)
        truth = truth_for(run, ground_truth)
        if run.poses is None and run.driving is None and truth is None:
            raise InputError(f"No target poses for {run.clip.name}: pass --poses (the "
                             "poses.json `animate --json` wrote) or --driving (the driving "
                             "video or motion), or put NAME.json beside NAME.mp4.")
        if truth is not None:
            probe_video(truth)
            check_side((info.height, info.width),
                       DISCO_MIN_SIDE if config.protocol == "disco" else MIN_SIDE,
                       config.protocol)
        truths.append(truth)
    return truths


def evaluate_runs(runs: list[Run], out_dir: str | Path, *, animator, config=None,
                  ground_truth: str | Path | None = None, html: bool = False,
                  progress: Callable[[str], None] = lambda line: None):
    """Evaluate every run and write the table and report; returns (evaluations, files).

    `ground_truth`: one video for every run, or a folder with one per clip (same name)."""
    from animator.evaluate.config import EvaluateConfig
    from animator.evaluate.networks import load_networks
    from animator.evaluate.report import write_report
    from animator.evaluate.run import Target, evaluate_clip, make_target
    from animator.video import probe_video

    config = config or EvaluateConfig()
    truths = _check_inputs(runs, Path(ground_truth) if ground_truth else None, config)
    networks = load_networks(config)
    embedder = face_embedder(config)
    evaluations = []
    for i, (run, truth) in enumerate(zip(runs, truths, strict=True)):
        progress(f"[{i + 1}/{len(runs)}] {run.name}")
        fps = run.fps or probe_video(run.clip).fps
        if run.poses is None and run.driving is None:  # a ground truth only
            target = Target(None, None, None)
            if run.image is not None:
                target = make_target(animator, portrait=run.image, fps=fps)
        else:
            target = make_target(animator, portrait=run.image, poses=run.poses,
                                 driving=run.driving, fps=fps,
                                 retarget_config=retarget_config(run), start=run.start,
                                 end=run.end)
        target.notes += run.notes
        evaluations.append(evaluate_clip(
            run.clip, target, animator=animator, ground_truth=truth, config=config,
            embedder=embedder, lpips_model=networks.lpips, fid_model=networks.fid,
            fid_vid_model=networks.fid_vid, fvd_model=networks.fvd))
    files = write_report(evaluations, out_dir, names=[r.name for r in runs], html=html)
    return evaluations, files


__all__ = ["Run", "collect_runs", "evaluate_runs", "face_embedder", "retarget_config",
           "run_jobs", "truth_for"]
