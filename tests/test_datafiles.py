"""Files users hand us (pose files, pipeline indexes, jobs, training configs), malformed on
purpose: each is one message naming the file and what is wrong, exit code 2 on the command
line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from animator.animate import Animator
from animator.cli import main
from animator.datafiles import MAX_NODES, parse_json, parse_yaml, read_json
from animator.errors import InputError
from animator.pose.motions import make_motion
from animator.pose.skeleton import PoseSequence

ROOT = Path(__file__).resolve().parent.parent
DEEP = "[" * 100000 + "]" * 100000


def test_deep_files_exit_2_through_the_command_line(tmp_path, portrait_path):
    """Both started at once (they are mostly start-up time), then each checked."""
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "model_index.json").write_text(DEEP)
    (tmp_path / "deep.json").write_text(DEEP)
    runs = {"model_index.json is nested too deeply": [
        "animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
        f"local:{folder}", "--out", str(tmp_path / "x.mp4")],
        "The pose file deep.json is nested 100000 levels deep": [
        "pose", "--image", str(portrait_path), "--video", str(tmp_path / "deep.json"),
        "--out", str(tmp_path / "p.mp4")]}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    started = {words: subprocess.Popen([sys.executable, "-m", "animator", *argv], cwd=ROOT,
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True) for words, argv in runs.items()}
    for words, process in started.items():
        _, err = process.communicate(timeout=300)
        assert process.returncode == 2, err[-2000:]
        assert words in err and "Traceback" not in err, err[-2000:]
    assert not list(tmp_path.glob("*.mp4"))


@pytest.mark.parametrize("index, words", [("[1, 2]", "model_index.json holds a JSON list"),
                                          ('{"_class_name": 5}', "names no pipeline class")])
def test_malformed_index_exits_2(tmp_path, portrait_path, capsys, index, words):
    (tmp_path / "model_index.json").write_text(index)
    assert main(["animate", "--image", str(portrait_path), "--motion", "wave", "--preset",
                 f"local:{tmp_path}", "--out", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def _pose_json(tmp_path, **change) -> Path:
    data = {**make_motion("wave", seconds=0.2, fps=10, width=64, height=64).to_dict(), **change}
    path = tmp_path / "poses.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("change, words", [
    ({"canvas_width": "abc"}, "canvas must be whole pixels"),
    ({"canvas_width": [64]}, "canvas must be whole pixels"),
    ({"canvas_height": 1e30}, "canvas must be whole pixels"),
    ({"canvas_height": True}, "canvas must be whole pixels"),
    ({"fps": "fast"}, "frame rate must be a number"),
    ({"fps": 1e300}, "frame rate must be a number"),
    ({"frames": {"0": 1}}, "\"frames\" must be a list"),
    ({"frames": [{"people": [{"pose_keypoints_2d": ["x"] * 54}]}]}, "frame 0 is not a pose"),
    ({"frames": [{"people": [{"pose_keypoints_2d": [1e30] * 54}]}]}, "within 1e+06 pixels"),
])
def test_pose_json_of_wrong_types_says_what_is_wrong(tmp_path, change, words):
    """As a driving input (what `pose`/`animate --video poses.json` read)."""
    path = _pose_json(tmp_path, **change)
    with pytest.raises(InputError) as error:
        Animator(pose_backend="mediapipe").driving_poses(path)
    assert "poses.json" in str(error.value) and words in str(error.value)


def test_pose_json_nan_and_size_limits(tmp_path):
    path = _pose_json(tmp_path)
    path.write_text(path.read_text().replace('"fps": 10.0', '"fps": NaN'))
    with pytest.raises(InputError, match="poses.json is not valid JSON: NaN is not a number"):
        PoseSequence.load(path)
    with pytest.raises(InputError, match="poses.json is 0.0 MB; the limit is"):
        PoseSequence.load(path, max_bytes=100)


def test_npz_pose_file_is_measured_unpacked_before_reading(tmp_path):
    """Kilobytes of zeros that unpack to far more than the limit are refused from the zip's
    index, before anything is inflated."""
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("keypoints.npy", bytes(2**25))  # 32 MiB of zeros
    assert bomb.stat().st_size < 2**20
    with pytest.raises(InputError, match="bomb.npz unpacks to 32 MB; the limit is 16 MB"):
        PoseSequence.load(bomb, max_bytes=2**24)
    good = make_motion("wave", seconds=0.2, fps=10, width=64, height=64)
    assert len(PoseSequence.load(good.save(tmp_path / "good.npz"))) == 2


def test_parse_limits():
    assert parse_json('{"a": [[[1]]], "s": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',
                      "x")["a"] == [[[1]]]  # brackets inside strings do not count
    with pytest.raises(InputError, match="x is nested 40 levels deep"):
        parse_json("[" * 40 + "]" * 40, "x")
    with pytest.raises(InputError, match="x is not valid JSON: Infinity is not a number"):
        parse_json("[Infinity]", "x")
    laughs = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
        for i in range(7))
    with pytest.raises(InputError, match=f"more than {MAX_NODES:,} values"):
        parse_yaml(laughs, "laughs.yaml")
    with pytest.raises(InputError, match="deep.yaml is nested too deeply"):
        parse_yaml("a: " + DEEP, "deep.yaml")
    assert parse_yaml("a: [1, {b: 2}]", "ok.yaml") == {"a": [1, {"b": 2}]}


def test_unreadable_json_file_names_it(tmp_path):
    with pytest.raises(InputError, match="Could not read the jobs file .*missing.json"):
        read_json(tmp_path / "missing.json", max_bytes=10, what="jobs file")


def test_training_config_nested_or_nan_exits_2(tmp_path, capsys):
    deep = tmp_path / "deep.yaml"
    deep.write_text("data_dir: " + DEEP)
    nan = tmp_path / "nan.yaml"
    nan.write_text(yaml.safe_dump({"data_dir": "videos"}) + "learning_rate: .nan\n")
    for path, words in ((deep, "The config file deep.yaml is nested too deeply"),
                        (nan, "learning_rate=nan is not a valid float")):
        assert main(["train", "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err
    assert main(["train", "--config", str(nan), "learning_rate=1e-4", "max_steps=inf"]) == 2
    assert "max_steps='inf' is not a valid int" in capsys.readouterr().err


@pytest.mark.parametrize("summary, words", [
    (DEEP, "The batch summary summary.json is nested 100000 levels deep"),
    ('{"results": [{"ok": true, "out": 5}]}', "is not a batch summary"),
    ("[1]", "is not a batch summary"),
])
def test_evaluate_reads_a_batch_summary_with_limits(tmp_path, capsys, summary, words):
    (tmp_path / "summary.json").write_text(summary)
    assert main(["evaluate", str(tmp_path), "--out-dir", str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
