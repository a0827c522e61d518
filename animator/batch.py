"""Many animate jobs from a JSON-lines file, split across processes with accelerate.

One job per line: {"image": ..., "video": ... or "motion": ..., "out": optional file name,
"fps", "start", "end", plus any generation setting of any family (seed,
num_inference_steps, ...: `animator.families.setting_names()`; each job's are checked
against its preset's family when it runs) or retargeting setting (transition, smoothing,
...: the fields of RetargetConfig)}.
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
from animator.errors import Cancelled, InputError

JOB_KEYS = {"image", "video", "motion", "out", "fps", "start", "end"}
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


def load_jobs(path: str | Path) -> list[Job]:
    """Parse and check the whole file first, so a typo on line 40 fails before any work."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"Could not read the jobs file {path}: {e}") from e
    jobs, base = [], path.parent
    generation_keys = families.setting_names()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path.name} line {number}"
        try:
            spec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where} is not a JSON object: {e.msg}.") from e
        if not isinstance(spec, dict):
            raise InputError(f"{where} must be a JSON object, got {type(spec).__name__}.")
        unknown = set(spec) - JOB_KEYS - generation_keys - RETARGET_KEYS
        if unknown:
            raise InputError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: "
                             f"{sorted(JOB_KEYS | generation_keys | RETARGET_KEYS)}.")
        if "image" not in spec or ("video" in spec) == ("motion" in spec):
            raise InputError(f"{where} needs \"image\" and exactly one of \"video\" or "
                             "\"motion\".")
        driving = spec.get("motion") or str(base / spec["video"])
        index = len(jobs)
        jobs.append(Job(
            index=index, image=base / spec["image"], driving=driving,
            out=spec.get("out", f"job{index:04d}.mp4"), fps=spec.get("fps"),
            start=float(spec.get("start", 0.0)), end=spec.get("end"),
            generation={k: v for k, v in spec.items() if k in generation_keys},
            retarget={k: v for k, v in spec.items() if k in RETARGET_KEYS},
        ))
    if not jobs:
        raise InputError(f"{path} has no jobs: write one JSON object per line.")
    outs = [job.out for job in jobs]
    if len(set(outs)) != len(outs):
        raise InputError("Two jobs write the same \"out\" file: give each job its own name.")
    return jobs


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
              make_animator: Callable[[], Any]) -> dict | None:
    """Render this process's share of the jobs; the main process returns the summary of
    all of them (other processes return None)."""
    import torch
    from accelerate import PartialState

    state = PartialState(cpu=not torch.cuda.is_available())
    jobs = load_jobs(jobs_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    animator = make_animator()
    if state.device.type == "cuda":
        animator.device = str(state.device)
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
