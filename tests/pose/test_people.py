"""Choosing and following a person: pedestrian boxes, the track's continuity rules, the
numbered-box image, and the person index through Animator and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from animator.animate import Animator
from animator.cli import main
from animator.errors import InputError
from animator.pose import skeleton as sk
from animator.pose.people import (
    PeopleDetector,
    PersonTrack,
    appearance,
    crop_region,
    draw_numbered_boxes,
)
from animator.pose.skeleton import PoseSequence

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def _box(x, y, h=100.0):
    return np.array([x - 0.2 * h, y - h / 2, x + 0.2 * h, y + h / 2], np.float32)


def test_track_prefers_continuity_of_position_size_and_look():
    red = np.zeros((200, 400, 3), np.uint8)
    red[:, :200] = (200, 30, 30)
    red[:, 200:] = (30, 30, 200)  # a red person on the left, a blue one on the right
    start = _box(100, 100)
    track = PersonTrack(start, appearance(red, start))
    track.update(_box(110, 100), appearance(red, _box(110, 100)))  # walking right, 10 px/frame
    assert track.predicted()[0] == pytest.approx(120)  # one more step ahead
    same_place_other_look = _box(120, 100)
    looks = [appearance(red, _box(121, 100)), appearance(red, _box(300, 100))]
    # two candidates at the predicted place: the one that looks like the person wins
    assert track.choose([same_place_other_look, _box(123, 100)], looks[::-1]) == 1
    assert track.choose([_box(118, 100, h=300)], [None]) is None  # 3x the size: not them
    assert track.choose([_box(300, 100)], [None]) is None  # too far for one frame
    for _ in range(4):
        track.update(None)
    assert track.choose([_box(150, 100)], [None]) == 0  # farther allowed after absence


def test_crop_region_grows_and_clips():
    assert crop_region(np.array([100, 100, 140, 200]), 640, 480) == (45, 75, 195, 225)  # square
    assert crop_region(np.array([0, 0, 40, 100]), 640, 480)[:2] == (0, 0)


def test_pedestrian_detector_on_blank_and_tiny_images():
    detector = PeopleDetector()
    boxes, weights = detector(np.zeros((480, 640, 3), np.uint8))
    assert boxes.shape == (0, 4) and weights.shape == (0,)
    assert detector(np.zeros((20, 20, 3), np.uint8))[0].shape == (0, 4)  # under HOG's window


def test_numbered_boxes_drawn_in_order():
    image = np.zeros((200, 300, 3), np.uint8)
    out = draw_numbered_boxes(image, np.array([[10, 20, 110, 180], [150, 30, 250, 190]]))
    assert out.shape == image.shape and not image.any()  # a copy
    assert (out[100, 10] == (255, 64, 64)).all() and (out[100, 150] == (255, 210, 0)).all()


@pytest.fixture(scope="module")
def animator():
    return Animator(pose_backend="mediapipe")


def test_find_people_in_a_portrait(animator, portrait_path):
    found = animator.find_people(portrait_path)
    assert len(found.boxes) == 1 and found.frame == 0
    assert found.image.shape[2] == 3 and (found.image != animator_image(portrait_path)).any()


def animator_image(path):
    from animator.video import read_image

    return read_image(path)


def test_person_index_checked_before_any_work(animator, portrait_path, tmp_path):
    for bad in (-1, 1.5, "first", True):
        with pytest.raises(InputError, match="whole number"):
            animator.preview_pose(portrait_path, "wave", person=bad, out_dir=tmp_path)
    with pytest.raises(InputError, match="shows 1 person"):
        animator.preview_pose(portrait_path, "wave", person=1, out_dir=tmp_path)


def test_find_people_and_choose_a_driving_person_on_vtest(animator, portrait_path, tmp_path):
    if not VTEST.is_file():
        pytest.skip(f"{VTEST} is missing: install Debian's opencv-doc package for real media")
    found = animator.find_people(VTEST)
    assert len(found.boxes) >= 3
    chosen = found.boxes[1]
    result = animator.preview_pose(portrait_path, VTEST, end=1.0, driving_person=1,
                                   out_dir=tmp_path / "one")
    first = result.driving.poses.keypoints[0]
    x, y = first[sk.NECK, :2]
    assert chosen[0] <= x <= chosen[2] and chosen[1] <= y <= chosen[3]
    with pytest.raises(InputError, match="numbered 0 to"):
        animator.preview_pose(portrait_path, VTEST, end=1.0, driving_person=len(found.boxes),
                              out_dir=tmp_path / "two")


def test_cli_people_command_and_flags(tmp_path, portrait_path, capsys):
    out = tmp_path / "people.png"
    assert main(["people", str(portrait_path), "--out", str(out),
                 "--pose-backend", "mediapipe"]) == 0
    assert out.is_file() and "person 0: box" in capsys.readouterr().out
    assert main(["pose", "--image", str(portrait_path), "--motion", "wave", "--person", "2",
                 "--pose-backend", "mediapipe", "--out", str(tmp_path / "p.mp4")]) == 2
    assert "numbered 0 to 0" in capsys.readouterr().err


def test_upper_body_driver_through_generation_and_dense_maps(portrait_path, tmp_path):
    """A half-body pose file drives the tiny preset (skeleton + dense branches)."""
    motion = Animator(pose_backend="mediapipe").preview_pose(
        portrait_path, "wave", fps=4, end=1.0, out_dir=tmp_path / "w").driving.poses
    kp = motion.keypoints.copy()
    lower = [sk.R_HIP, sk.L_HIP, sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE, *range(18, 24)]
    kp[:, lower] = (np.nan, np.nan, 0.0)
    driver = PoseSequence(kp, motion.width, motion.height, motion.fps).save(tmp_path / "u.npz")
    tiny = Animator("tiny", device="cpu", pose_backend="mediapipe")
    result = tiny.animate(portrait_path, driver, comparison=False, out_dir=tmp_path / "a",
                          generation={"seed": 1, "num_inference_steps": 1})
    poses = PoseSequence.load(result.poses_file)
    assert result.video.is_file() and len(poses) >= 4
    assert not poses.valid()[:, lower].any()


def test_onnx_person_detector_boxes_people_only_largest_first(tmp_path):
    """A YOLOX-layout ONNX file (a stand-in written here) gives the person boxes, other
    COCO classes left out, and MediaPipe's person finder takes it when given its path."""
    from animator.pose.detect import MediaPipeDetector
    from animator.pose.people import OnnxPeopleDetector
    from tests.pose.test_detect import write_detector

    boxes = [(400, 150, 460, 300, 0.8, 0), (100, 100, 200, 420, 0.9, 0),
             (300, 300, 352, 352, 0.9, 2)]  # a small person, a large one, a car
    path = write_detector(tmp_path / "people.onnx", bright=boxes)
    white = np.full((640, 640, 3), 255, np.uint8)
    found, scores = OnnxPeopleDetector(path)(white)
    np.testing.assert_allclose(found, [[100, 100, 200, 420], [400, 150, 460, 300]], atol=2)
    assert scores.shape == (2,)
    assert OnnxPeopleDetector(path)(np.zeros((640, 640, 3), np.uint8))[0].shape == (0, 4)
    with MediaPipeDetector(person_boxes=path) as detector:
        np.testing.assert_allclose(detector._pedestrians(white)[0], found)
    with MediaPipeDetector(person_boxes=None) as detector:  # HOG: nobody in a white image
        assert detector._pedestrians(white)[0].shape == (0, 4)
