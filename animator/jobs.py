"""Job folders: where a job's files go, removed again when the job fails or is cancelled,
and finished jobs' folders removed after a time to live (`Animator.job_ttl`); and the
memory a finished job freed handed back to the system (`release_memory`)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def job_folder(work_dir: Path, out_dir: str | Path | None) -> Iterator[Path]:
    """`out_dir`, or a new folder under `work_dir`/jobs; removed again if the job fails or
    is cancelled (unless it existed before)."""
    created = out_dir is None or not Path(out_dir).exists()
    out = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(dir=jobs_dir(work_dir)))
    out.mkdir(parents=True, exist_ok=True)
    try:
        yield out
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise


def remove_old_jobs(work_dir: Path, max_age: float) -> None:
    """Remove job folders under `work_dir`/jobs older than `max_age` seconds."""
    jobs = work_dir / "jobs"
    if not jobs.is_dir():
        return
    cutoff = time.time() - max_age
    for job in jobs.iterdir():
        if job.stat().st_mtime < cutoff:
            shutil.rmtree(job, ignore_errors=True)


def jobs_dir(work_dir: Path) -> Path:
    jobs = work_dir / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    return jobs


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_memory() -> None:
    """Return the heap a finished job freed to the system (glibc's `malloc_trim`).

    A job's frames are freed when it ends, but glibc keeps the freed pages of each thread's
    arena for reuse, and the page and API run jobs on many threads: measured under a mix
    of normal and refused requests (benchmarks/memory_load.py), a server's RSS grew by
    hundreds of MB and stayed there, most of it freed memory that trimming returns. A
    no-op where the C library is not glibc."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
