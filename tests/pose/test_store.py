"""Detected poses kept on disk (`animator/pose/store.py`): another process on the same
footage skips detection; anything that could change the poses finds no old entry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from animator.animate import Animator
from animator.pose.motions import make_motion
from animator.pose.store import PoseCache, PoseStore, remembered

ROOT = Path(__file__).resolve().parents[2]


class Counting:
    """A detector that says what decides its output and counts its work."""

    name = "counting"

    def __init__(self, fingerprint: str | None = "counting 1"):
        self.fingerprint = fingerprint
        self.videos = self.images = 0

    def detect_video(self, frames, fps, width, height, progress=None, person=0):
        self.videos += 1
        frames = list(frames)
        return make_motion("wave", seconds=len(frames) / fps, fps=fps, width=width,
                           height=height)

    def detect_image(self, image, person=0):
        self.images += 1
        height, width = image.shape[:2]
        return make_motion("wave", seconds=0.04, width=width, height=height).keypoints[0], 1


def _animator(store, detector) -> Animator:
    animator = Animator(pose_store=store)
    animator._detector = detector
    return animator


def test_a_new_animator_on_the_same_footage_detects_nothing(tmp_path, portrait_path,
                                                           driving_path):
    store = PoseStore(tmp_path / "poses")
    first = _animator(store, Counting())
    driving = first.driving_poses(driving_path, end=1.0)
    portrait, notices = first.portrait_pose(first.read_portrait(portrait_path))
    assert (first.detector.videos, first.detector.images) == (1, 1)
    assert len(list(store.folder.glob("*.npz"))) == 2
    again = _animator(store, Counting())  # nothing in its memory
    driving_again = again.driving_poses(driving_path, end=1.0)
    portrait_again, notices_again = again.portrait_pose(again.read_portrait(portrait_path))
    assert (again.detector.videos, again.detector.images) == (0, 0)
    for entry in store.folder.glob("*.npz"):  # keypoints and their canvas, never frames
        with np.load(entry, allow_pickle=False) as data:
            assert set(data.files) == {"keypoints", "meta"}
            assert data["keypoints"].shape[1:] == (134, 3)
    np.testing.assert_array_equal(driving_again.poses.keypoints, driving.poses.keypoints)
    assert (driving_again.poses.width, driving_again.poses.fps) == (driving.poses.width,
                                                                    driving.poses.fps)
    np.testing.assert_array_equal(portrait_again.keypoints, portrait.keypoints)
    assert notices_again == notices
    again.driving_poses(driving_path, start=0.5, end=1.0)  # another span: detected
    assert again.detector.videos == 1


def test_what_could_change_the_poses_finds_no_old_entry(tmp_path, driving_path):
    store = PoseStore(tmp_path / "poses")
    _animator(store, Counting("counting 1")).driving_poses(driving_path, end=0.5)
    other_settings = _animator(store, Counting("counting 2"))
    other_settings.driving_poses(driving_path, end=0.5)
    unnamed = _animator(store, Counting(None))  # says nothing of its settings: never kept
    unnamed.driving_poses(driving_path, end=0.5)
    assert other_settings.detector.videos == unnamed.detector.videos == 1
    assert len(list(store.folder.glob("*.npz"))) == 2


def test_the_detectors_fingerprints_name_their_settings_and_model_files(tmp_path):
    from animator.pose.detect import MediaPipeDetector

    detector = MediaPipeDetector(person_boxes=None)
    before = detector.fingerprint
    assert "mediapipe" in before and "hog" in before
    detector.crop_side = 512
    assert detector.fingerprint != before
    boxes = tmp_path / "yolox_l.onnx"  # a person detector's model file (never loaded here)
    boxes.write_bytes(b"one")
    detector.person_boxes = boxes
    first = detector.fingerprint
    boxes.write_bytes(b"other weights")
    assert detector.fingerprint != first and str(boxes) in first
    in_use = MediaPipeDetector(person_boxes=None)
    in_use._pedestrians(np.zeros((256, 256, 3), np.uint8))  # HOG is made and in use now
    in_use.person_boxes = boxes  # a later setting does not change the detector in use
    assert "hog" in in_use.fingerprint


def test_a_broken_entry_is_detected_anew_and_replaced(tmp_path):
    store, detector = PoseStore(tmp_path), Counting()
    poses = make_motion("wave", seconds=0.2, fps=10)
    store.put(("clip",), detector, poses, ["a notice"])
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(b"not an archive")
    assert store.get(("clip",), detector) is None and not entry.exists()
    found = remembered(("clip",), detector, PoseCache(1), store, lambda: (poses, ["again"]))
    assert found[1] == ["again"] and store.get(("clip",), detector)[1] == ["again"]


def test_the_least_recently_used_go_first_beyond_the_size(tmp_path):
    detector = Counting()
    poses = make_motion("wave", seconds=1.0, fps=25)
    store = PoseStore(tmp_path, max_bytes=1)
    store.put(("a",), detector, poses)
    assert len(list(tmp_path.glob("*.npz"))) == 1  # the newest always stays
    size = next(tmp_path.glob("*.npz")).stat().st_size
    store.max_bytes = int(2.5 * size)
    store.put(("b",), detector, poses)
    os.utime(store._path(("a",), detector), (1, 1))  # "a" used long ago
    store.get(("b",), detector)
    store.put(("c",), detector, poses)
    assert store.get(("a",), detector) is None
    assert store.get(("b",), detector) is not None and store.get(("c",), detector) is not None


def test_a_store_that_cannot_be_written_only_costs_the_time(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    store = PoseStore(blocked / "poses")
    store.put(("a",), Counting(), make_motion("wave", seconds=0.2, fps=10))
    assert store.get(("a",), Counting()) is None


def test_the_environment_chooses_the_folder_or_turns_it_off(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMATOR_POSE_CACHE", "off")
    assert PoseStore.default() is None and Animator().pose_store is None
    monkeypatch.setenv("ANIMATOR_POSE_CACHE", str(tmp_path / "mine"))
    assert PoseStore.default().folder == tmp_path / "mine"
    monkeypatch.delenv("ANIMATOR_POSE_CACHE")
    monkeypatch.setenv("ANIMATOR_CACHE_DIR", str(tmp_path / "cache"))
    assert PoseStore.default().folder == tmp_path / "cache" / "poses"
    assert PoseStore.default().max_bytes == 256 * 2**20  # the README's figure


def test_pose_again_in_another_process_and_animate_after_it_skip_detection(
        tmp_path, portrait_path, driving_path, monkeypatch):
    """The README's promise, through the command line: `pose`, then `pose` with other
    settings in a new process and `animate` (a new Animator), whose detectors would fail
    if they ran."""
    from animator.cli import main
    from animator.pose.detect import MediaPipeDetector

    monkeypatch.setenv("ANIMATOR_POSE_CACHE", str(tmp_path / "poses"))
    common = ["--image", str(portrait_path), "--video", str(driving_path), "--end", "1",
              "--fps", "10"]
    assert main(["pose", *common, "--out", str(tmp_path / "p.mp4")]) == 0
    script = (
        "import sys; from animator.pose.detect import MediaPipeDetector\n"
        "def refuse(*a, **k): raise SystemExit('detected again')\n"
        "MediaPipeDetector.detect_video = MediaPipeDetector.detect_image = refuse\n"
        "from animator.cli import main; sys.exit(main(sys.argv[1:]))\n")
    done = subprocess.run([sys.executable, "-c", script, "pose", *common, "--transition", "0",
                           "--out", str(tmp_path / "again.mp4")], cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

    def refuse(*args, **kwargs):
        raise AssertionError("detected again")

    monkeypatch.setattr(MediaPipeDetector, "detect_video", refuse)
    monkeypatch.setattr(MediaPipeDetector, "detect_image", refuse)
    assert main(["animate", *common, "--preset", "tiny", "--steps", "1", "--width", "64",
                 "--height", "64", "--out", str(tmp_path / "a.mp4")]) == 0
    assert (tmp_path / "again.mp4").stat().st_size and (tmp_path / "a.mp4").stat().st_size


@pytest.mark.parametrize("value", ["off", "0"])
def test_off_means_no_files(tmp_path, monkeypatch, value, driving_path):
    monkeypatch.setenv("ANIMATOR_POSE_CACHE", value)
    monkeypatch.setenv("ANIMATOR_CACHE_DIR", str(tmp_path))
    _animator("auto", Counting()).driving_poses(driving_path, end=0.5)
    assert not (tmp_path / "poses").exists()


def test_a_clip_evaluated_again_takes_its_poses_from_the_store(tmp_path, driving_path):
    from animator.evaluate import EvaluateConfig, evaluate_clip, make_target

    poses = make_motion("wave", seconds=4.0, fps=25.0, width=384, height=384)
    config = EvaluateConfig(identity=False)
    runs = []
    for _ in range(2):
        animator = _animator(PoseStore(tmp_path / "poses"), Counting())
        target = make_target(animator, portrait=None, poses=poses, fps=25.0)
        runs.append((evaluate_clip(driving_path, target, animator=animator, config=config),
                     animator.detector.videos))
    (first, detected), (again, detected_again) = runs
    assert (detected, detected_again) == (1, 0)
    assert again.frames == first.frames == 100 and again.flicker == first.flicker
    assert again.pose.overall.error == first.pose.overall.error


def test_changed_code_finds_no_old_entry(tmp_path, monkeypatch):
    """The key holds a digest of the whole package: detection, video reading, checks."""
    from animator.pose import store as store_module

    store, detector = PoseStore(tmp_path), Counting()
    store.put(("clip",), detector, make_motion("wave", seconds=0.2, fps=10))
    assert store.get(("clip",), detector) is not None
    before = store_module._source_digest()
    original = Path.read_bytes

    def edited(path):  # as if the video reader had changed
        data = original(path)
        return data + b"# edited" if path.name == "read.py" and path.parent.name == "video" \
            else data

    monkeypatch.setattr(Path, "read_bytes", edited)
    store_module._source_digest.cache_clear()
    try:
        assert store_module._source_digest() != before
        assert store.get(("clip",), detector) is None
    finally:
        monkeypatch.undo()
        store_module._source_digest.cache_clear()
    assert store_module._source_digest() == before
