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
    assert info.has_audio and info.num_frames == 100  # 4 s at 25 fps, no lead-in by default
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
    # refused before torch is imported: in a second, not five
    code = ("import sys; from animator.cli import main; "
            f"assert main(['train', 'data_dir={tmp_path / 'nothing'}']) == 2; "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr[-2000:]


# --- what a newcomer trips over (issue 9, section 2) ---------------------------------------

def test_train_takes_its_own_options(tmp_path):
    done = run_cli("train", "--help")
    assert done.returncode == 0 and "--config" in done.stdout
    config = tmp_path / "train.yaml"
    config.write_text(f"data_dir: {tmp_path / 'nothing'}\noutput_dir: {tmp_path / 'run'}\n")
    done = run_cli("train", "--config", str(config), "max_steps=1")
    assert "unrecognized arguments" not in done.stderr
    assert done.returncode == 2 and "The training data folder" in done.stderr


def test_the_installed_command_works_outside_the_repository(tmp_path):
    command = Path(sys.executable).parent / "animator"
    assert command.is_file(), "requirements.txt installs the project (pip install -e .)"
    for argv in ([str(command), "--list-motions"],
                 [sys.executable, "-m", "animator", "--list-motions"]):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0 and "wave" in done.stdout, done.stderr[-1000:]


def test_moviepy_is_not_required():
    requirements = (ROOT / "requirements.txt").read_text().lower()
    assert "moviepy" not in requirements


def _pose_cli(tmp_path, portrait_path, *args):
    return main(["pose", "--image", str(portrait_path), "--motion", "wave", "--transition", "0",
                 *args])


def test_outputs_are_checked_before_any_work(tmp_path, portrait_path, capsys, monkeypatch):
    from animator.animate import Animator

    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the outputs were checked")

    monkeypatch.setattr(Animator, "prepare", no_work)
    cases = {
        ("--out", str(tmp_path / "missing" / "x.mp4")): "does not exist",
        ("--out", str(tmp_path / "x.mp4"), "--json", str(tmp_path / "poses.txt")): ".json or .npz",
        ("--out", str(tmp_path / "x.avi")): ".mp4",
        ("--out", str(tmp_path)): ".mp4",
    }
    for args, words in cases.items():
        assert _pose_cli(tmp_path, portrait_path, *args) == 2, args
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err, err
    code = main(["animate", "--image", str(portrait_path), "--motion", "wave", "--preset", "tiny",
                 "--out", str(tmp_path / "nowhere" / "a.mp4")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_bad_sizes_exit_2_naming_width_first(tmp_path, portrait_path, capsys):
    """The first through the installed command, the others in process (the same `main`)."""
    for i, (size, words) in enumerate(((("0", "0"), "got 0x0"),
                                       (("65", "63"), "got 65x63 (width x height)"),
                                       (("4096", "512"), "2048"))):
        argv = ["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                "tiny", "--width", size[0], "--height", size[1], "--out", str(tmp_path / "x.mp4")]
        if i == 0:
            done = run_cli(*argv)
            code, err = done.returncode, done.stderr
        else:
            code, err = main(argv), capsys.readouterr().err
        assert code == 2 and words in err and "Traceback" not in err, err[-1500:]


def test_pose_file_whose_frames_are_not_objects(tmp_path, portrait_path, capsys):
    bad = tmp_path / "poses.json"
    bad.write_text(json.dumps({"format": "animator.pose/1", "canvas_width": 64,
                               "canvas_height": 64, "frames": [1, 2, 3]}))
    assert main(["pose", "--image", str(portrait_path), "--video", str(bad),
                 "--out", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "pose file" in err and "frame 0" in err and "Traceback" not in err


def _local_folder(tmp_path, name: str) -> Path:
    """A saved tiny pipeline, the start of both refused folders below."""
    from animator.families.svd.models.tiny import tiny_pipeline

    folder = tmp_path / name
    tiny_pipeline(random_init=True).save_pretrained(folder)
    return folder


def test_local_pipeline_with_pickles_or_code_is_refused_with_the_reason(tmp_path, portrait_path,
                                                                       capsys):
    import torch
    from safetensors.torch import load_file

    pickled = _local_folder(tmp_path, "pickled")
    weights = pickled / "unet" / "diffusion_pytorch_model.safetensors"
    torch.save(load_file(weights), weights.with_suffix(".bin"))
    weights.unlink()
    coded = _local_folder(tmp_path, "coded")
    index = json.loads((coded / "model_index.json").read_text())
    index["unet"] = ["my_unet", "MyUNet"]
    (coded / "model_index.json").write_text(json.dumps(index))
    (coded / "unet" / "my_unet.py").write_text("raise SystemExit('this must never run')\n")
    for folder, words in ((pickled, "pickled weights"), (coded, "never run")):
        argv = ["animate", "--image", str(portrait_path), "--motion", "wave",
                "--preset", f"local:{folder}", "--out", str(tmp_path / "x.mp4")]
        if folder is pickled:  # through the installed command
            done = run_cli(*argv)
            code, err = done.returncode, done.stderr
        else:  # the same `main`, in process: nothing from the folder may run here either
            code, err = main(argv), capsys.readouterr().err
        assert code == 2 and words in err and "Traceback" not in err, err[-2000:]


def test_animate_sampling_flags_reach_the_generation_settings(tmp_path, portrait_path):
    from animator.cli import build_parser, generation_of
    from animator.families.svd.config import GenerationConfig

    args = build_parser().parse_args([
        "animate", "--image", str(portrait_path), "--motion", "wave", "--out", "x.mp4",
        "--window-noise", "repeat", "--generator-device", "cuda", "--schedule", "ays"])
    generation = {k: v for k, v in generation_of(args).items() if v is not None}
    assert generation == {"window_noise": "repeat", "generator_device": "cuda",
                          "sigma_schedule": "ays"}
    assert set(generation) <= {f for f in GenerationConfig.__dataclass_fields__}
    code = main(["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                 "tiny", "--generator-device", "cuda", "--out", str(tmp_path / "x.mp4")])
    assert code == 2  # the tiny model runs on the CPU: a clear message, no traceback


def test_nan_and_infinite_numbers_exit_2_naming_the_flag(tmp_path, portrait_path, capsys):
    """Through the installed command (two at once), then the rest in process."""
    out = str(tmp_path / "x.mp4")
    common = ["--image", str(portrait_path), "--motion", "wave", "--out", out]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    runs = {"Setting 'min_guidance_scale' must be a finite number, got nan":
            ["animate", *common, "--preset", "tiny", "--min-guidance", "nan"],
            "The frame rate (fps) must be a finite number, got inf": ["pose", *common,
                                                                      "--fps", "inf"]}
    started = {words: subprocess.Popen([sys.executable, "-m", "animator", *argv], cwd=ROOT,
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True) for words, argv in runs.items()}
    for words, process in started.items():
        _, err = process.communicate(timeout=300)
        assert process.returncode == 2 and words in err and "Traceback" not in err, err[-2000:]
    for argv, words in (
            (["animate", *common, "--preset", "tiny", "--seed", "99999999999"],
             "Setting 'seed' must be at most 4294967295"),
            (["animate", *common, "--preset", "tiny", "--transition", "nan"],
             "transition must be a finite number"),
            (["pose", *common, "--start=-inf"], "start time must be a finite number"),
            (["pose", *common, "--root-motion", "2"], "root_motion must be from 0 to 1"),
            (["pose", *common, "--scale", "arms=inf"], "multiplier for arms must be a positive")):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err, err
    assert not (tmp_path / "x.mp4").exists()
