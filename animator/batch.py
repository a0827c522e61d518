"""Many animate jobs from a JSON-lines file, split across processes with accelerate.

One job per line: {"image": ..., "video": ... or "motion": ..., "out": optional file name,
"fps", "start", "end", plus any generation setting of any family (seed,
num_inference_steps, ...: `animator.families.setting_names()`; each job's are checked
against the preset's family before any job runs) or retargeting setting (transition,
smoothing, ...: the fields of RetargetConfig)}. `out` is a plain file name inside the
output folder (never a path: a jobs file from someone else cannot write elsewhere), and an
existing file is replaced only with `overwrite`.
Relative paths are read from the jobs file's folder. Run plainly for one process, or as
`accelerate launch --multi_gpu --num_processes N -m animator batch jobs.jsonl` (add
`--num_machines`/`--machine_rank`/`--main_process_ip` across machines): each process
renders its own share (`PartialState.split_between_processes`) on its own device, and the
main process gathers every process's record into `summary.json`. A failing job is
recorded and the rest go on.

On a machine without GPUs the same command runs N CPU processes joined by gloo: we ask
accelerate for its CPU mode when CUDA is missing. (`accelerate launch --cpu
--num_processes N` starts N processes only through MPI, `--mpirun_hostfile`; without it,
one process.)
"""

from __future__ import annotations

import json
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from animator import families
from animator.config import RetargetConfig
from animator.datafiles import parse_json
from animator.errors import Cancelled, InputError
from animator.pose.retarget import check_retarget_config
from animator.video import check_trim

JOB_KEYS = {"image", "video", "motion", "out", "fps", "start", "end"}
OUT_SUFFIXES = (".mp4", ".m4v", ".mov")  # what the writer makes (H.264 in MP4)
MAX_JOBS_BYTES = 64 * 2**20  # a jobs file of a million lines is not a typo we should read
RETARGET_KEYS = {f.name for f in fields(RetargetConfig)}


@dataclass
class Job:
    index: int  # line order in the jobs file, 0-based
    image: Path
    driving: str  # a video / pose file path, or a built-in motion name
    out: str  # output file name inside the output folder
    fps: float | None = None
    start: float = 0.0
    end: float | None = None
    generation: dict[str, Any] = field(default_factory=dict)
    retarget: dict[str, Any] = field(default_factory=dict)


def _check_out(name: Any, where: str) -> str:
    """A job's `out`: a plain MP4 file name, so that every output stays inside the output
    folder (no folders, no `..`, no absolute path, no hidden name beside our own files)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{where}: \"out\" must be a file name such as \"clip.mp4\", got "
                         f"{name!r}.")
    plain = (name not in (".", "..") and not name.startswith(".") and "\0" not in name
             and not any(sep in name for sep in ("/", "\\")) and Path(name).name == name
             and not Path(name).is_absolute() and ":" not in name)
    if not plain:
        raise InputError(f"{where}: \"out\" must be a plain file name inside the output "
                         f"folder (no folders, no \"..\", not hidden), got {name!r}.")
    if Path(name).suffix.lower() not in OUT_SUFFIXES:
        raise InputError(f"{where}: \"out\" {name!r} must end in {' or '.join(OUT_SUFFIXES)} "
                         "(jobs write H.264 MP4 files).")
    return name


def _number(spec: dict, key: str, where: str, default=None):
    """A job's fps/start/end: a JSON number (or absent/null where it may be)."""
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: \"{key}\" must be a number, got {value!r}.")
    return value


def _job(spec: Any, index: int, base: Path, where: str, generation_keys: set[str]) -> Job:
    """One line's job, every field of the right type and range (settings' values are
    checked against the preset's family by `check_jobs`)."""
    if not isinstance(spec, dict):
        raise InputError(f"{where} must be a JSON object, got {type(spec).__name__}.")
    unknown = set(spec) - JOB_KEYS - generation_keys - RETARGET_KEYS
    if unknown:
        raise InputError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: "
                         f"{sorted(JOB_KEYS | generation_keys | RETARGET_KEYS)}.")
    if "image" not in spec or ("video" in spec) == ("motion" in spec):
        raise InputError(f"{where} needs \"image\" and exactly one of \"video\" or "
                         "\"motion\".")
    for key in ("image", "video", "motion"):
        if key in spec and not (isinstance(spec[key], str) and spec[key].strip()
                                and "\0" not in spec[key]):
            raise InputError(f"{where}: \"{key}\" must be a file name (text), got "
                             f"{spec[key]!r}.")
    job = Job(index=index, image=base / spec["image"],
              driving=spec.get("motion") or str(base / spec["video"]),
              out=_check_out(spec.get("out", f"job{index:04d}.mp4"), where),
              fps=_number(spec, "fps", where), start=_number(spec, "start", where, 0.0),
              end=_number(spec, "end", where),
              generation={k: v for k, v in spec.items() if k in generation_keys},
              retarget={k: v for k, v in spec.items() if k in RETARGET_KEYS})
    try:
        check_trim(job.fps, job.start, job.end)
        check_retarget_config(RetargetConfig(**job.retarget))
    except InputError as error:
        raise InputError(f"{where}: {error}") from None
    return job


def load_jobs(path: str | Path) -> list[Job]:
    """Parse and check the whole file first, so a typo on line 40 fails before any work."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_JOBS_BYTES:
            raise InputError(f"The jobs file {path.name} is over {MAX_JOBS_BYTES >> 20} MB; "
                             "split it into several files.")
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"Could not read the jobs file {path}: {e}") from e
    jobs, base = [], path.parent
    generation_keys = families.setting_names()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path.name} line {number}"
        spec = parse_json(line, where)
        jobs.append(_job(spec, len(jobs), base, where, generation_keys))
    if not jobs:
        raise InputError(f"{path} has no jobs: write one JSON object per line.")
    outs = [job.out.lower() for job in jobs]  # case-insensitive file systems
    if len(set(outs)) != len(outs):
        raise InputError("Two jobs write the same \"out\" file: give each job its own name.")
    return jobs


def check_jobs(jobs: list[Job], out_dir: Path, *, preset: str, device: str,
               overwrite: bool = False) -> None:
    """Before any job runs: every job's settings for the preset, and no output that would
    replace an existing file (unless `overwrite`)."""
    for job in jobs:
        try:
            families.check_settings(preset, job.generation, device)
        except InputError as error:
            raise InputError(f"Job {job.index} ({job.out}): {error}") from None
    if overwrite:
        return
    existing = [job.out for job in jobs
                if (out_dir / job.out).exists() or (out_dir / job.out).is_symlink()]
    if existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise InputError(f"{out_dir} already holds {shown}: pass --overwrite to replace "
                         f"{'them' if len(existing) > 1 else 'it'}, or choose another "
                         "--out-dir.")


def run_job(animator, job: Job, out_dir: Path) -> dict:
    """Render one job; the record says what happened, never raises for a bad job."""
    record = {"index": job.index, "out": job.out, "image": str(job.image),
              "driving": job.driving}
    start = time.perf_counter()
    work = out_dir / f".job{job.index:04d}"
    try:
        result = animator.animate(job.image, job.driving, generation=job.generation,
                                  retarget_config=RetargetConfig(**job.retarget), fps=job.fps,
                                  start=job.start, end=job.end, out_dir=work, comparison=False)
        result.video.replace(out_dir / job.out)
        record.update(ok=True, seed=result.seed, frames=result.settings["frames"],
                      notices=result.notices)
    except (InputError, Cancelled) as e:
        record.update(ok=False, error=str(e))
    except Exception as e:
        record.update(ok=False, error=f"{type(e).__name__}: {e}",
                      traceback=traceback.format_exc())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def run_batch(jobs_path: str | Path, out_dir: str | Path,
              make_animator: Callable[[], Any], *, overwrite: bool = False) -> dict | None:
    """Render this process's share of the jobs; the main process returns the summary of
    all of them (other processes return None). Every job is checked first (`load_jobs`,
    `check_jobs`): a bad line or an output that exists (without `overwrite`) stops the
    batch before any job runs."""
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    jobs = load_jobs(jobs_path)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"--out-dir {out_dir} is a file; give a folder.")
    animator = make_animator()
    if state.device.type == "cuda":
        animator.device = str(state.device)
    check_jobs(jobs, out_dir, preset=animator.preset, device=animator.device,
               overwrite=overwrite)
    state.wait_for_everyone()  # every process checked before any writes
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records = []
    with state.split_between_processes(jobs) as mine:
        for job in mine:
            record = run_job(animator, job, out_dir)
            record["rank"] = state.process_index
            records.append(record)
    part = out_dir / f".summary.rank{state.process_index}.json"
    part.write_text(json.dumps(records))
    state.wait_for_everyone()
    if not state.is_main_process:
        return None
    everything = []
    for rank in range(state.num_processes):
        rank_file = out_dir / f".summary.rank{rank}.json"
        everything += json.loads(rank_file.read_text())
        rank_file.unlink()
    everything.sort(key=lambda r: r["index"])
    summary = {"jobs": len(jobs), "done": sum(r["ok"] for r in everything),
               "failed": sum(not r["ok"] for r in everything),
               "processes": state.num_processes,
               "seconds": round(time.perf_counter() - started, 3), "results": everything}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
