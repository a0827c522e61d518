"""`python -m animator ...` as users run it: real subprocesses, real files, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from animator.cli import main
from animator.pose.skeleton import PoseSequence
from animator.video import probe_video

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "animator", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_pose_preview_from_video_writes_video_and_json(tmp_path, portrait_path, driving_path):
    out, poses = tmp_path / "preview.mp4", tmp_path / "poses.json"
    done = run_cli("pose", "--image", str(portrait_path), "--video", str(driving_path),
                   "--out", str(out), "--json", str(poses), "--scale", "arms=1.1")
    assert done.returncode == 0, done.stderr
    info = probe_video(out)
    assert info.has_audio and info.num_frames == 100 + 12  # 4 s at 25 fps + 0.5 s lead-in
    data = json.loads(poses.read_text())
    assert len(data["frames"]) == info.num_frames
    assert not list(tmp_path.glob(".*")), "no temporary files left next to the output"


def test_pose_preview_with_motion_in_process(tmp_path, portrait_path, capsys):
    out = tmp_path / "wave.mp4"
    assert main(["pose", "--image", str(portrait_path), "--motion", "wave", "--out", str(out),
                 "--transition", "0"]) == 0
    assert probe_video(out).num_frames == 100


def test_bad_input_exits_2_with_a_message(tmp_path, portrait_path):
    not_image = tmp_path / "portrait.jpg"
    not_image.write_text("hello")
    done = run_cli("pose", "--image", str(not_image), "--motion", "wave",
                   "--out", str(tmp_path / "x.mp4"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def test_unknown_motion_and_bad_scale_exit_2(tmp_path, portrait_path, capsys):
    out = str(tmp_path / "x.mp4")
    assert main(["pose", "--image", str(portrait_path), "--motion", "moonwalk", "--out", out]) == 2
    assert "wave" in capsys.readouterr().err  # lists what exists
    assert main(["pose", "--image", str(portrait_path), "--motion", "wave", "--out", out,
                 "--scale", "arms"]) == 2
    assert "GROUP=NUMBER" in capsys.readouterr().err


def test_list_motions(capsys):
    assert main(["--list-motions"]) == 0
    listed = capsys.readouterr().out
    for name in ("wave", "walk", "squat", "arm_circles", "dance"):
        assert name in listed


def test_animate_with_the_tiny_preset(tmp_path, portrait_path, driving_path):
    out, comparison, poses = tmp_path / "a.mp4", tmp_path / "c.mp4", tmp_path / "p.npz"
    done = run_cli("animate", "--image", str(portrait_path), "--video", str(driving_path),
                   "--preset", "tiny", "--fps", "5", "--end", "2", "--steps", "1",
                   "--seed", "3", "--transition", "0", "--out", str(out),
                   "--comparison", str(comparison), "--json", str(poses))
    assert done.returncode == 0, done.stderr[-2000:]
    info = probe_video(out)
    assert (info.num_frames, info.fps, info.has_audio) == (10, 5.0, True)
    assert probe_video(comparison).num_frames == 10
    assert "seed: 3" in done.stderr
    assert len(PoseSequence.load(poses)) == 10


def test_animate_bad_setting_exits_2(tmp_path, portrait_path):
    code = main(["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                 "tiny", "--width", "60", "--height", "60", "--out", str(tmp_path / "x.mp4")])
    assert code == 2


def test_train_subcommand_is_wired(tmp_path):
    done = run_cli("train", f"data_dir={tmp_path / 'nothing'}", f"output_dir={tmp_path / 'run'}")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: The training data folder")
    assert "Traceback" not in done.stderr


def test_animate_sampling_flags_reach_the_generation_settings(tmp_path, portrait_path):
    from animator.cli import GENERATION_ARGS, build_parser
    from animator.config import GenerationConfig

    args = build_parser().parse_args([
        "animate", "--image", str(portrait_path), "--motion", "wave", "--out", "x.mp4",
        "--window-noise", "repeat", "--generator-device", "cuda", "--schedule", "ays"])
    generation = {k: getattr(args, k) for k in GENERATION_ARGS}
    assert (generation["window_noise"], generation["generator_device"],
            generation["sigma_schedule"]) == ("repeat", "cuda", "ays")
    assert set(GENERATION_ARGS) <= {f for f in GenerationConfig.__dataclass_fields__}
    code = main(["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                 "tiny", "--generator-device", "cuda", "--out", str(tmp_path / "x.mp4")])
    assert code == 2  # the tiny model runs on the CPU: a clear message, no traceback
