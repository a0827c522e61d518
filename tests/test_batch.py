"""`python -m animator batch`: job files, failures recorded, work split across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from animator.batch import load_jobs
from animator.cli import main
from animator.errors import InputError
from animator.video import probe_video

ROOT = Path(__file__).resolve().parent.parent


def write_jobs(path: Path, portrait: Path, motions: list[str], **extra) -> Path:
    lines = [json.dumps({"image": str(portrait), "motion": m, "fps": 5, "end": 1.0,
                         "num_inference_steps": 1, "seed": i, "transition": 0,
                         "out": f"{i}_{m}.mp4", **extra})
             for i, m in enumerate(motions)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_jobs_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "jobs.jsonl"
    bad.write_text('{"image": "a.jpg", "motion": "wave"}\n{"image": "a.jpg"}\n')
    with pytest.raises(InputError, match="line 2.*exactly one of"):
        load_jobs(bad)
    bad.write_text('{"image": "a.jpg", "motion": "wave", "stepz": 3}\n')
    with pytest.raises(InputError, match="unknown key.*stepz"):
        load_jobs(bad)
    bad.write_text('{"image": "a.jpg", "video": "v.mp4"}\n')  # relative to the jobs file
    assert load_jobs(bad)[0].driving == str(tmp_path / "v.mp4")


def test_batch_in_one_process_records_failures(tmp_path, portrait_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl", portrait_path, ["wave", "moonwalk"])
    out = tmp_path / "out"
    code = main(["batch", str(jobs), "--out-dir", str(out), "--preset", "tiny",
                 "--pose-backend", "mediapipe"])
    assert code == 2  # one job failed, and the summary says which
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["done"], summary["failed"]) == (1, 1)
    assert "moonwalk" in summary["results"][1]["error"]
    assert probe_video(out / "0_wave.mp4").num_frames == 5  # 1 s at 5 fps
    assert sorted(p.name for p in out.iterdir()) == ["0_wave.mp4", "summary.json"]


def test_two_processes_split_the_jobs_without_overlap(tmp_path, portrait_path):
    jobs = write_jobs(tmp_path / "jobs.jsonl", portrait_path, ["wave", "walk", "squat", "dance"])
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
         "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
         "-m", "animator", "batch", str(jobs), "--out-dir", str(out), "--preset", "tiny",
         "--pose-backend", "mediapipe"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["done"] == 4
    ranks = {r["index"]: r["rank"] for r in summary["results"]}
    assert sorted(ranks) == [0, 1, 2, 3]  # every job once
    assert set(ranks.values()) == {0, 1}  # both processes worked
    for result in summary["results"]:
        assert probe_video(out / result["out"]).num_frames > 0
