"""Every command line of README.md, run exactly as written.

The README's shell blocks are parsed into command lines (backslash continuations joined,
comments dropped). Each one must have a check below, keyed by its exact text: a command
added to the README without a check, or changed without its check, fails here. Commands
run in a scratch folder that holds what a user would have there (the example assets, the
project's `.venv`, a jobs file, a training config), except the set-up commands, which run
in the repository itself as the README says.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from itertools import islice
from pathlib import Path

import numpy as np
import pytest
import yaml

from animator.video import probe_video

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(sys.prefix)


def readme_commands() -> list[str]:
    """The command lines of README.md's bash blocks, continuations joined."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+", " ", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def run(command: str, cwd: Path, timeout: float = 600, **env) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "HF_HUB_OFFLINE": "1", **env})


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, driving_path):
    """A user's folder: the example assets, the project's environment, a jobs file, a
    training config and a folder of (tiny, pre-analysed) training videos."""
    from animator.families.svd.data import face_path, poses_path
    from animator.pose.motions import make_motion
    from animator.video import iter_video, write_video

    folder = tmp_path_factory.mktemp("user")
    (folder / "assets").symlink_to(ROOT / "assets")
    (folder / ".venv").symlink_to(VENV)
    jobs = [{"image": "assets/portraits/astronaut.jpg", "motion": m, "fps": 5, "end": 1,
             "num_inference_steps": 1, "transition": 0} for m in ("wave", "squat")]
    (folder / "jobs.jsonl").write_text("".join(json.dumps(j) + "\n" for j in jobs))
    videos = folder / "videos"
    videos.mkdir()
    frames = list(islice(iter_video(driving_path, max_side=64), 8))
    write_video(frames, videos / "a.mp4", 25)
    make_motion("wave", seconds=8 / 25, width=64, height=64).save(poses_path(videos / "a.mp4"))
    np.save(face_path(videos / "a.mp4"), np.ones(512, np.float32))
    (folder / "train.yaml").write_text(yaml.safe_dump({
        "data_dir": "videos", "output_dir": "runs/readme", "init_from": "tiny", "num_frames": 2,
        "frame_stride": 2, "height": 64, "width": 64, "num_workers": 0, "report_to": "none",
        "validate_every": 0, "checkpoint_every": 1, "lr_warmup_steps": 0, "max_steps": 2,
        "trainable": ["skeleton"]}))
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _in_repository_venv() -> None:
    if VENV.resolve() != (ROOT / ".venv").resolve():
        pytest.skip("the set-up commands would build a second environment: run the tests "
                    "from the README's .venv")


# --- one check per command line -----------------------------------------------------------

def check_app_setup(command: str, scratch: Path) -> None:
    """The set-up installs (already satisfied here) and the app then serves its page."""
    _in_repository_venv()
    port = _free_port()
    server = subprocess.Popen(["bash", "-c", command], cwd=ROOT, start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "GRADIO_SERVER_PORT": str(port)})
    try:
        deadline, page = time.time() + 420, ""
        while time.time() < deadline and server.poll() is None and not page:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
            except OSError:
                time.sleep(1)
        assert page and b"gradio" in page.lower(), server.stdout.read() if server.poll() else ""
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def check_test_setup(command: str, scratch: Path) -> None:
    """CI runs this very line (.ci/run); running pytest inside pytest would recurse."""
    assert command in (ROOT / ".ci" / "run").read_text()


def check_download(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "HF_HUB_OFFLINE" in done.stderr or "offline" in done.stderr.lower()


def check_pose(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-2000:]
    assert probe_video(scratch / "preview.mp4").has_audio
    assert json.loads((scratch / "poses.json").read_text())["frames"]


def check_animate(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-2000:]
    assert probe_video(scratch / "wave.mp4").fps == 10
    assert probe_video(scratch / "compare.mp4").num_frames > 0


def check_evaluate(command: str, scratch: Path) -> None:
    """The animate line above made wave.mp4 and wave.json; the tiny preset paints noise, so
    nobody is found in any frame, and the report says so."""
    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-2000:]
    out = scratch / "evaluation"
    rows = json.loads((out / "metrics.json").read_text())
    frames = probe_video(scratch / "wave.mp4").num_frames
    assert len(rows) == 1 and rows[0]["frames"] == frames
    assert rows[0]["pose"]["lost_frames"] == list(range(frames))
    assert rows[0]["sync"]["duration_error"] == pytest.approx(0, abs=0.02)
    assert rows[0]["flicker"] > 5
    report = (out / "report.md").read_text()
    assert "| wave.mp4 |" in report
    for picture in ("wave.mp4_frames.png", "wave.mp4_per_frame.png"):
        assert f"assets/{picture}" in report and (out / "assets" / picture).stat().st_size
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert "pck_0_1" in header and "flicker" in header
    # The README's other inputs: a folder of clips, each with its pose file beside it.
    from animator.cli import main

    clips = scratch / "clips"
    clips.mkdir()
    for name in ("wave.mp4", "wave.json"):
        (clips / name).write_bytes((scratch / name).read_bytes())
    assert main(["evaluate", str(clips), "--image", str(ROOT / "assets/portraits/astronaut.jpg"),
                 "--out-dir", str(scratch / "again"), "--html"]) == 0
    page = (scratch / "again" / "report.html").read_text()
    assert "<table" in page and "clips/wave.mp4" in page
    assert (scratch / "again" / "assets" / "clips_wave.mp4_per_frame.png").is_file()


def check_evaluate_jobs(command: str, scratch: Path) -> None:
    """The jobs go through batch (one folder per preset) into one table; a batch output
    folder given alone brings each job's own portrait and motion."""
    from animator.cli import main

    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = (scratch / "comparison" / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3 and all(r.startswith("default/job000") for r in rows[1:])
    batch = scratch / "comparison" / "default"
    summary = json.loads((batch / "summary.json").read_text())
    detail = json.loads((scratch / "comparison" / "metrics.json").read_text())
    assert summary["done"] == 2
    assert [r["frames"] for r in detail] == [r["frames"] for r in summary["results"]]
    assert all(r["sync"]["duration_error"] == pytest.approx(0, abs=0.02) for r in detail)
    assert main(["evaluate", str(batch), "--out-dir", str(scratch / "folder")]) == 0
    again = json.loads((scratch / "folder" / "metrics.json").read_text())
    assert [r["name"] for r in again] == ["default/job0000.mp4", "default/job0001.mp4"]


def check_evaluate_disco_table(command: str, scratch: Path) -> None:
    """Two generated clips and their same-named ground truths: DisCo's conventions in every
    row (a clip identical to its truth scores DisCo's 100 dB) and a pooled row."""
    from animator.video import iter_video, write_video

    frames = list(islice(iter_video(ROOT / "assets/driving/astronaut_sway.mp4"), 20))
    noisy = [np.clip(f.astype(int) + 12, 0, 255).astype(np.uint8) for f in frames]
    for folder, clips in (("generated", (frames, noisy)), ("ground_truth", (frames, frames))):
        (scratch / folder).mkdir(exist_ok=True)
        for name, clip in zip(("00001.mp4", "00002.mp4"), clips, strict=True):
            write_video(clip, scratch / folder / name, 25)
    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("protocol: DisCo")
    rows = list(csv.DictReader(open(scratch / "table" / "metrics.csv")))
    assert [r["name"] for r in rows] == ["generated/00001.mp4", "generated/00002.mp4",
                                         "all clips (pooled)"]
    assert all(r["protocol"] == "disco" for r in rows)
    assert float(rows[0]["psnr"]) == 100.0 and float(rows[1]["psnr"]) < 100
    assert float(rows[1]["psnr_star"]) < 30 and float(rows[1]["l1"]) < 12 / 384 / 384 * 1.5
    assert "Protocol: DisCo" in (scratch / "table" / "report.md").read_text()


def check_list_motions(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 0 and "arm_circles" in done.stdout


def check_people(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 0 and "person 0" in done.stdout, done.stderr[-2000:]
    assert (scratch / "people.png").stat().st_size > 0


def check_batch(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads((scratch / "results" / "summary.json").read_text())["done"] == 2


def check_batch_processes(command: str, scratch: Path) -> None:
    done = run(command, scratch, OMP_NUM_THREADS="1")
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((scratch / "batch_out" / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["done"] == 2


def check_train_from_preset(command: str, scratch: Path) -> None:
    """Offline, the StableAnimator weights cannot come: one message saying how to get them."""
    done = run(command, scratch)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "python -m animator download" in done.stderr


def check_train_processes(command: str, scratch: Path) -> None:
    done = run(command, scratch, OMP_NUM_THREADS="1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert (scratch / "runs" / "readme" / "pipeline" / "model_index.json").is_file()


def check_train_resume(command: str, scratch: Path) -> None:
    done = run(command, scratch)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resum" in done.stderr.lower()


def check_wan_download(command: str, scratch: Path) -> None:
    """Offline: what would come (sizes, license) is said first, then one message."""
    done = run(command, scratch)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "GB" in done.stderr and "Apache-2.0" in done.stderr and "fast LoRA" in done.stderr
    assert "HF_HUB_OFFLINE" in done.stderr


def check_wan_animate(command: str, scratch: Path) -> None:
    """Offline without the weights: one message naming the command that fetches them."""
    done = run(command, scratch)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "python -m animator download --preset wan-animate" in done.stderr


def check_wan2_download(command: str, scratch: Path) -> None:
    """Offline: sizes and license first, then one message naming the fix."""
    done = run(command, scratch)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "transformer 32.8 GB" in done.stderr and "Apache-2.0" in done.stderr
    assert "HF_HUB_OFFLINE" in done.stderr


def check_wan2_animate(command: str, scratch: Path) -> None:
    """Offline without the weights: one message naming the command that fetches them."""
    done = run(command, scratch)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert "python -m animator download --preset wan-animate-2-distilled" in done.stderr


CHECKS = {
    "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && "
    ".venv/bin/python app.py": check_app_setup,
    "python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt && "
    ".venv/bin/python -m pytest": check_test_setup,
    ".venv/bin/python -m animator download --preset stableanimator": check_download,
    ".venv/bin/python -m animator pose --image assets/portraits/astronaut.jpg --video "
    "assets/driving/astronaut_sway.mp4 --out preview.mp4 --json poses.json": check_pose,
    ".venv/bin/python -m animator animate --image assets/portraits/astronaut.jpg --motion wave "
    "--preset tiny --fps 10 --out wave.mp4 --comparison compare.mp4 --json wave.json":
        check_animate,
    ".venv/bin/python -m animator --list-motions": check_list_motions,
    ".venv/bin/python -m animator people assets/driving/astronaut_sway.mp4 --out people.png":
        check_people,
    ".venv/bin/python -m animator batch jobs.jsonl --out-dir results --preset tiny": check_batch,
    ".venv/bin/accelerate launch --multi_gpu --num_processes 2 -m animator batch jobs.jsonl":
        check_batch_processes,
    ".venv/bin/python -m animator train --config train.yaml data_dir=videos "
    "init_from=stableanimator": check_train_from_preset,
    ".venv/bin/accelerate launch --multi_gpu --num_processes 2 --mixed_precision bf16 -m "
    "animator train --config train.yaml": check_train_processes,
    ".venv/bin/python -m animator train --config train.yaml resume_from=latest":
        check_train_resume,
    ".venv/bin/python -m animator evaluate wave.mp4 --image assets/portraits/astronaut.jpg "
    "--poses wave.json --out-dir evaluation": check_evaluate,
    ".venv/bin/python -m animator evaluate --jobs jobs.jsonl --out-dir comparison":
        check_evaluate_jobs,
    ".venv/bin/python -m animator evaluate generated --ground-truth ground_truth --protocol "
    "disco --out-dir table": check_evaluate_disco_table,
    ".venv/bin/python -m animator download --preset wan-animate --fast": check_wan_download,
    ".venv/bin/python -m animator animate --image assets/portraits/astronaut.jpg --video "
    "assets/driving/astronaut_sway.mp4 --preset wan-animate --fast --prompt \"a person "
    "dances\" --out wan.mp4": check_wan_animate,
    ".venv/bin/python -m animator download --preset wan-animate-2-distilled":
        check_wan2_download,
    ".venv/bin/python -m animator animate --image assets/portraits/astronaut.jpg --video "
    "assets/driving/astronaut_sway.mp4 --preset wan-animate-2-distilled --out wan2.mp4":
        check_wan2_animate,
}


def test_every_readme_command_has_a_check():
    assert readme_commands() == list(CHECKS)


@pytest.mark.parametrize("command", list(CHECKS), ids=lambda c: c.split(" -m ")[-1][:40])
def test_readme_command_runs_as_written(command, scratch):
    CHECKS[command](command, scratch)
