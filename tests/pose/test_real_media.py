"""Poses from real footage: the sample media of Debian's opencv-doc package.

The files are read where the package installs them (their licences are unclear, so they are
never copied into the repository); each test skips with the reason when they are missing.
- Megamind.avi: an animated character filmed from the chest up (hands, no legs).
- vtest.avi: a street filmed from afar, pedestrians about 100 px tall in 768x576.
- messi5.jpg: a footballer mid-kick in front of a crowd.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from animator.config import InputLimits
from animator.errors import InputError
from animator.pose import skeleton as sk
from animator.pose.detect import MediaPipeDetector, box_iou, keypoint_box
from animator.pose.plausibility import check_poses
from animator.video import read_image, read_video

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
LOWER = [sk.R_HIP, sk.L_HIP, sk.R_KNEE, sk.L_KNEE, sk.R_ANKLE, sk.L_ANKLE, *range(18, 24)]
LIMITS = InputLimits(max_side=640)  # the size Animator detects driving videos at


def media(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is missing: install Debian's opencv-doc package for real media")
    return path


@pytest.fixture(scope="module")
def mediapipe():
    with MediaPipeDetector() as detector:
        yield detector


@pytest.fixture(scope="module")
def megamind(mediapipe):
    clip = read_video(media("Megamind.avi"), limits=LIMITS)
    height, width = clip.frames[0].shape[:2]
    return clip, mediapipe.detect_video(clip.frames, clip.fps, width, height)


@pytest.fixture(scope="module")
def vtest():
    return read_video(media("vtest.avi"), end=2.0, limits=LIMITS)


def test_megamind_close_up_plausible_with_hands_and_no_lower_body(megamind):
    clip, poses = megamind
    checked, report = check_poses(poses)
    assert report.with_person >= 0.95 * len(poses)
    assert report.passed >= 0.95 * report.with_person  # skeletons that pass the checks
    assert not checked.valid()[:, LOWER].any()  # no lower body invented on a close-up
    hands = checked.valid()[:, sk.LEFT_HAND.start] | checked.valid()[:, sk.RIGHT_HAND.start]
    assert hands.sum() >= 0.2 * len(poses)


def test_megamind_retargeted_onto_a_full_body_has_no_lower_body(megamind):
    from animator.config import RetargetConfig
    from animator.pose.retarget import retarget

    _, poses = megamind
    checked, _ = check_poses(poses)
    image = read_image(media("messi5.jpg"))
    with MediaPipeDetector() as detector:
        pose, _ = detector.detect_image(image)
    portrait = sk.PoseSequence(pose[None], image.shape[1], image.shape[0])
    assert portrait.valid()[0, [sk.R_HIP, sk.L_HIP]].all()  # the portrait does show legs
    result = retarget(checked, portrait, RetargetConfig())
    assert not result.poses.valid()[:, LOWER].any()
    assert result.poses.valid()[:, [sk.NOSE, sk.R_SHOULDER, sk.L_SHOULDER]].mean() > 0.9


def test_messi_action_photo_full_body_passes_the_checks(mediapipe):
    image = read_image(media("messi5.jpg"))
    people = mediapipe.detect_people(image)
    assert len(people) >= 1
    pose = people[0]
    assert (pose[[sk.NOSE, sk.R_HIP, sk.L_HIP, sk.R_KNEE, sk.L_KNEE], 2] >= 0.3).all()
    checked, report = check_poses(sk.PoseSequence(pose[None], image.shape[1], image.shape[0]))
    assert report.touched == 0
    box = keypoint_box(pose)
    assert box[3] - box[1] > 0.5 * image.shape[0]  # the footballer, not someone in the crowd


def test_vtest_distant_pedestrians_are_found(mediapipe, vtest):
    people = mediapipe.detect_people(vtest.frames[0])
    assert len(people) >= 3
    heights = [keypoint_box(p)[3] - keypoint_box(p)[1] for p in people]
    assert max(heights) < 120  # small people, each found in their own box
    assert heights == sorted(heights, reverse=True) or len(set(np.round(heights))) > 1


def _centres(poses: sk.PoseSequence) -> np.ndarray:
    out = np.full((len(poses), 2), np.nan)
    for t, kp in enumerate(poses.keypoints):
        box = keypoint_box(kp)
        if box is not None:
            out[t] = (box[:2] + box[2:]) / 2
    return out


def test_vtest_chosen_person_is_kept(mediapipe, vtest):
    height, width = vtest.frames[0].shape[:2]
    tracks = {}
    for person in (0, 1):
        poses = mediapipe.detect_video(vtest.frames, vtest.fps, width, height, person=person)
        assert poses.present().mean() >= 0.8, person  # detection rate of the chosen person
        centres = _centres(poses)
        step = np.linalg.norm(np.diff(centres, axis=0), axis=1)
        assert np.nanmax(step) < 30, person  # followed, never swapped for someone else
        tracks[person] = centres
        start = keypoint_box(mediapipe.detect_people(vtest.frames[0])[person])
        np.testing.assert_allclose(centres[0], (start[:2] + start[2:]) / 2, atol=10)
    apart = np.linalg.norm(tracks[0] - tracks[1], axis=1)
    assert np.nanmin(apart) > 50  # two different people all along


def test_vtest_person_index_out_of_range_is_a_clear_error(mediapipe, vtest):
    height, width = vtest.frames[0].shape[:2]
    with pytest.raises(InputError, match="numbered 0 to"):
        mediapipe.detect_video(vtest.frames[:3], vtest.fps, width, height, person=40)


def test_megamind_at_full_size_two_people_either_can_be_chosen(mediapipe):
    """At its own 720x528 the background of Megamind.avi shows a second (blurred) person:
    the largest is still followed by Holistic's tracking, the other can be chosen."""
    clip = read_video(media("Megamind.avi"), start=0.15, end=3.0,
                      limits=InputLimits(max_side=1024))
    height, width = clip.frames[0].shape[:2]
    assert len(mediapipe.detect_people(clip.frames[0])) == 2
    largest = mediapipe.detect_video(clip.frames, clip.fps, width, height)
    assert largest.present().mean() >= 0.9
    other = mediapipe.detect_video(clip.frames, clip.fps, width, height, person=1)
    centres = _centres(other)
    assert other.present()[0]  # the blurred man is found in a few frames only (see README)
    assert np.nanmin(centres[:, 0]) > 0.5 * width  # the man on the right, never the woman
    woman = _centres(largest)
    assert np.nanmax(woman[:, 0]) < 0.5 * width


def test_megamind_two_people_both_boxed_at_detection_size(mediapipe):
    """At 640 px (the size driving videos are detected at) the blurred man behind the
    woman is boxed too, each box around its own face: the people chooser offers both."""
    clip = read_video(media("Megamind.avi"), start=0.15, end=0.3, limits=LIMITS)
    people = mediapipe.detect_people(clip.frames[0])
    assert len(people) == 2
    width = clip.frames[0].shape[1]
    noses = sorted(p[sk.NOSE, 0] for p in people)
    assert noses[0] < 0.45 * width < 0.55 * width < noses[1]  # the woman left, the man right
    boxes = [keypoint_box(p) for p in people]
    assert box_iou(*boxes) < 0.2  # two people, not one seen twice
