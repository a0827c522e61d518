"""`python -m animator batch`: job files, failures recorded, work split across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from animator.batch import check_jobs, load_jobs
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
    # run again: the finished clip is not replaced without --overwrite, before any job runs
    before = (out / "0_wave.mp4").read_bytes()
    done = run_batch_cli(jobs, out)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "already holds 0_wave.mp4" in done.stderr and "--overwrite" in done.stderr
    assert (out / "0_wave.mp4").read_bytes() == before
    check_jobs(load_jobs(jobs), out, preset="tiny", device="cpu", overwrite=True)


def run_batch_cli(jobs: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "animator", "batch", str(jobs), "--out-dir", str(out),
         "--preset", "tiny", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})


@pytest.mark.parametrize("out", ["../escape.mp4", "/tmp/escape.mp4", "sub/x.mp4",
                                 "sub\\x.mp4", "..", ".hidden.mp4", "C:x.mp4", "x.avi",
                                 "", 5, None])
def test_job_out_must_be_a_plain_file_name_inside_the_folder(tmp_path, out):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text(json.dumps({"image": "a.jpg", "motion": "wave", "out": out}) + "\n")
    with pytest.raises(InputError, match="line 1: \"out\""):
        load_jobs(jobs)


@pytest.mark.parametrize("line, words", [
    ('{"image": "a.jpg", "motion": "wave", "fps": NaN}', "NaN is not a number JSON allows"),
    ('{"image": "a.jpg", "motion": "wave", "start": -Infinity}', "-Infinity is not a number"),
    ('{"image": "a.jpg", "motion": "wave", "end": 1e999}', "end time must be a finite"),
    ('{"image": "a.jpg", "motion": "wave", "fps": "10"}', "\"fps\" must be a number"),
    ('{"image": ["a.jpg"], "motion": "wave"}', "\"image\" must be a file name"),
    ('{"image": "a.jpg", "motion": 3}', "\"motion\" must be a file name"),
    ('{"image": "a.jpg", "motion": "wave", "smoothing": 1.5}', "smoothing must be a whole"),
    ('{"image": "a.jpg", "motion": "wave", "ground": "no"}', "ground must be true or false"),
    ('{"image": "a.jpg", "motion": "wave", "root_motion": 7}', "root_motion must be from 0"),
    ("[" * 50000 + "]" * 50000, "nested 50000 levels deep"),
])
def test_jobs_file_values_are_checked_with_the_line_named(tmp_path, line, words):
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text('{"image": "a.jpg", "motion": "wave"}\n' + line + "\n")
    with pytest.raises(InputError, match="line 2") as error:
        load_jobs(jobs)
    assert words in str(error.value)


def test_jobs_settings_are_checked_for_the_preset_before_any_job(tmp_path, portrait_path):
    """A NaN guidance or a seed past the range stops the batch at once, naming the job and
    the setting; nothing is written, inside the output folder or outside it."""
    for extra, words in (({"min_guidance_scale": "nan"}, "'min_guidance_scale' must be a "
                          "finite number"), ({"seed": 1e30}, "'seed' must be at most")):
        jobs = write_jobs(tmp_path / "jobs.jsonl", portrait_path, ["wave"], **extra)
        with pytest.raises(InputError, match="Job 0") as error:
            check_jobs(load_jobs(jobs), tmp_path / "out", preset="tiny", device="cpu")
        assert words in str(error.value)
    jobs = write_jobs(tmp_path / "jobs.jsonl", portrait_path, ["wave"])
    jobs.write_text(jobs.read_text().replace('"0_wave.mp4"', '"../escape.mp4"'))
    done = run_batch_cli(jobs, tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "plain file name inside the output folder" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.jsonl"]


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
