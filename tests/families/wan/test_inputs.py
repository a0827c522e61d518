"""Wan-Animate's inputs made by our front end, against the facts of Wan2.2's preprocessing
(utils.get_face_bboxes, padding_resize, resize_by_area, get_mask_body_img, get_aug_mask)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from animator.families.wan import inputs as wi
from animator.pose.skeleton import FACE, PoseSequence, missing_pose
from tests.families.wan.people import frame_of, person


def face_pose(x0, y0, x1, y1, n=68):
    kp = missing_pose(1)[0]
    t = np.linspace(0, 1, n)
    kp[FACE, 0] = x0 + (x1 - x0) * t
    kp[FACE, 1] = y0 + (y1 - y0) * (t[::-1] if n else t)
    kp[FACE, 2] = 0.9
    return kp


def test_face_box_grows_the_area_by_1_3_mostly_upwards():
    box = wi.face_box(face_pose(100, 100, 200, 180)[FACE, :2])
    dw, dh = (100 * math.sqrt(1.3) - 100) / 2, (80 * math.sqrt(1.3) - 80) / 4
    np.testing.assert_allclose(box, [100 - dw, 100 - 3 * dh, 200 + dw, 180 + dh])
    assert wi.face_box(np.full((68, 2), np.nan)) is None


def test_face_crop_is_clipped_truncated_and_512():
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[91:183, 92:208] = 255  # exactly int() of the box above, clipped
    crop = wi.crop_face(frame, np.array([92.99, 91.59, 207.01, 182.8]))
    assert crop.shape == (512, 512, 3) and crop.min() == 255
    assert wi.crop_face(frame, np.array([-50.0, -40, 30, 20])).shape == (512, 512, 3)
    assert wi.crop_face(frame, np.array([500.0, 400, 600, 500])).shape == (512, 512, 3)


def test_face_boxes_are_smoothed_and_gaps_take_the_nearest_face():
    frames = [face_pose(100 + (10 if t % 2 else -10), 100, 200, 180) for t in range(6)]
    frames[3] = missing_pose(1)[0]
    poses = PoseSequence(np.stack(frames), 400, 300)
    raw = wi.face_boxes(poses, smoothing=1)
    np.testing.assert_allclose(raw[3], raw[2])  # the nearest earlier face (tie: earlier)
    smooth = wi.face_boxes(poses, smoothing=5)
    assert np.ptp(smooth[1:5, 0]) < np.ptp(raw[1:5, 0])  # the jitter is averaged out
    np.testing.assert_allclose(smooth[2], raw[:5].mean(axis=0))
    assert wi.face_boxes(PoseSequence(missing_pose(3), 400, 300)) is None


def test_lead_in_frames_use_the_first_driving_face():
    poses = PoseSequence(np.stack([person(80, 64, t) for t in range(4)]), 80, 64)
    frames = [frame_of(k, 80, 64, seed=t) for t, k in enumerate(poses.keypoints)]
    video = wi.face_video(frames, poses, [0, 0, 0, 1, 2, 3], smoothing=1)
    assert len(video) == 6
    np.testing.assert_array_equal(video[0], video[2])
    np.testing.assert_array_equal(video[2], wi.crop_face(frames[0], wi.face_boxes(poses, 1)[0]))
    assert not np.array_equal(video[2], video[3])


def test_model_size_and_padding_follow_their_resize():
    assert wi.model_size(1920, 1080, 1280 * 720) == (1280, 720)
    assert wi.model_size(512, 512, 1280 * 720) == (960, 960)
    assert wi.model_size(1080, 1920, 832 * 480) == (464, 832)
    assert all(s % 16 == 0 for s in wi.model_size(777, 333, 1280 * 720))
    pad = wi.Padding.fit((100, 200), (160, 160))  # taller: fit the height, pad the sides
    assert pad.inner == (80, 160) and pad.offset == (40, 0)
    img = pad.image(np.full((200, 100, 3), 200, np.uint8))
    assert img[:, :40].max() == 0 and img[:, 120:].max() == 0 and img[:, 40:120].min() == 200
    kp = pad.keypoints(np.array([[[50.0, 100.0, 0.7]]]))
    np.testing.assert_allclose(kp[0, 0], [80, 80, 0.7])  # the centre stays the centre
    wide = wi.Padding.fit((300, 100), (160, 160))
    assert wide.inner == (160, 53) and wide.offset == (0, 53)


def test_mask_growth_is_dilation_then_the_filled_box():
    mask = np.zeros((100, 100), np.uint8)
    mask[40:50, 30:35] = 1
    mask[60, 70] = 1
    grown = wi.grow_mask(mask)  # 7x7 kernel, 3 times: 9 px each way, then the whole box
    ys, xs = np.nonzero(grown)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (21, 79, 31, 69)
    assert grown[31:69, 21:79].all()  # the box, filled (their grid of 1 x 1)
    finer = wi.grow_mask(mask, w_len=4, h_len=4)
    assert finer.sum() < grown.sum()  # a finer grid follows the shape
    assert not wi.grow_mask(np.zeros((10, 10), np.uint8)).any()


def test_hull_mask_covers_the_body_and_segmentation_finds_a_real_person():
    kp = person(120, 100)
    hull = wi.hull_mask(kp, 120, 100)
    x, y = np.round(kp[1, :2]).astype(int)
    assert hull[y, x] == 1 and hull[0:2, 0:2].max() == 0
    masks = wi.person_masks([frame_of(kp, 120, 100)], PoseSequence(kp[None], 120, 100), "hull")
    assert masks[0].shape == (100, 120) and masks[0].mean() > hull.mean()
    photo = Path(__file__).resolve().parents[3] / "assets" / "portraits" / "astronaut.jpg"
    if not photo.is_file():
        pytest.skip("the example portrait is missing")
    from animator.video import read_image

    image = read_image(photo, max_side=256)
    segmenter = wi._Segmenter()
    raw = segmenter(image)
    segmenter.close()
    assert 0.3 < raw.mean() < 0.8  # the astronaut, not the picture
    assert raw[-20:].mean() > 0.9 and raw[:20].mean() < 0.2  # body at the bottom, sky above
    seg = wi.person_masks([image], PoseSequence(missing_pose(1), image.shape[1],
                                                image.shape[0]), "segmentation")[0]
    assert seg[raw == 1].all() and seg.mean() > raw.mean()  # grown around it
    with pytest.raises(ValueError, match="mask source"):
        wi.person_masks([image], PoseSequence(missing_pose(1), 4, 4), "sam2")
