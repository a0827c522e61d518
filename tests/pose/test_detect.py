"""Pose detection: MediaPipe on a real photo, DWPose through tiny stand-in ONNX models.

The stand-ins are real ONNX graphs with the DWPose input names and shapes. Their outputs
switch on the mean brightness of their input, so a test picks what they "see" by the
frame it feeds: the detector returns chosen person boxes (or none), the pose model puts
chosen SimCC peaks (or nothing, for a black crop).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import onnx
import pytest
import skimage.data
from onnx import TensorProto, helper, numpy_helper

from animator.errors import InputError
from animator.pose import skeleton as sk
from animator.pose.detect import (
    DWPOSE_FILES,
    MEDIAPIPE_FACE_68,
    DWPoseDetector,
    MediaPipeDetector,
    PoseDetector,
    _from_holistic,
    coco_wholebody_to_dwpose,
    find_dwpose_weights,
    make_detector,
)

# --- MediaPipe on the astronaut photo -----------------------------------------------------


@pytest.fixture(scope="module")
def mediapipe():
    with MediaPipeDetector() as detector:
        yield detector


@pytest.fixture(scope="module")
def astronaut():
    return skimage.data.astronaut()  # 512x512, one person facing the camera, upper body


@pytest.fixture(scope="module")
def astronaut_pose(mediapipe, astronaut):
    pose, count = mediapipe.detect_image(astronaut)
    assert count == 1 and pose.shape == (134, 3)
    return pose


def test_mediapipe_body_sides_and_neck(astronaut_pose):
    pose = astronaut_pose
    for j in (sk.NOSE, sk.R_SHOULDER, sk.L_SHOULDER, sk.R_EYE, sk.L_EYE):
        assert pose[j, 2] >= 0.5, sk.BODY_NAMES[j]
    # Facing the camera, the person's right side is on the image's left.
    assert pose[sk.R_SHOULDER, 0] < pose[sk.NOSE, 0] < pose[sk.L_SHOULDER, 0]
    assert pose[sk.R_EYE, 0] < pose[sk.L_EYE, 0]
    assert pose[sk.R_EAR, 0] < pose[sk.R_EYE, 0]
    shoulders = pose[[sk.R_SHOULDER, sk.L_SHOULDER]]
    np.testing.assert_allclose(pose[sk.NECK, :2], shoulders[:, :2].mean(axis=0))
    assert pose[sk.NECK, 2] == np.float32(shoulders[:, 2].mean())


def test_mediapipe_no_phantom_legs(astronaut_pose):
    # The photo ends at the chest: hips may show with a low score, the rest must not.
    legs = [sk.R_HIP, sk.R_KNEE, sk.R_ANKLE, sk.L_HIP, sk.L_KNEE, sk.L_ANKLE, *range(18, 24)]
    assert (astronaut_pose[legs, 2] < 0.3).all()
    for j in (sk.R_KNEE, sk.R_ANKLE, sk.L_KNEE, sk.L_ANKLE, *range(18, 24)):
        assert np.isnan(astronaut_pose[j, 0]), j  # below the frame: missing, not guessed
    assert ((astronaut_pose[:, 1] < 512) | np.isnan(astronaut_pose[:, 1])).all()


def test_mediapipe_face_68(astronaut_pose):
    face = astronaut_pose[sk.FACE]
    assert (face[:, 2] > 0.3).all()
    x, y = face[:, 0], face[:, 1]
    head = (x > 160) & (x < 295) & (y > 50) & (y < 200)  # the head in this photo
    assert head.mean() > 0.95
    jaw = face[:17]
    assert jaw[0, 0] < jaw[8, 0] < jaw[16, 0]  # person's right to left = image left to right
    assert np.argmax(jaw[:, 1]) in (7, 8, 9) and jaw[8, 1] == y.max()  # chin is lowest
    right_eye, left_eye = face[36:42, :2].mean(0), face[42:48, :2].mean(0)
    for centre, own, other in ((right_eye, sk.R_EYE, sk.L_EYE), (left_eye, sk.L_EYE, sk.R_EYE)):
        distance = np.linalg.norm(centre - astronaut_pose[[own, other], :2], axis=1)
        assert distance[0] < 12 and distance[0] < distance[1] / 2
    assert face[17:22, 1].max() < face[36:42, 1].min()  # brows above the eyes
    nose_tip, mouth = face[30], face[48:68, :2].mean(0)
    assert nose_tip[1] < mouth[1] < jaw[8, 1]
    assert face[48, 0] < face[54, 0] and face[60, 0] < face[64, 0]  # mouth corners R -> L
    assert len(set(MEDIAPIPE_FACE_68)) == 68


def test_mediapipe_hands_consistent_with_sides(astronaut_pose):
    # Holistic found no hand here (one is a glove at the bottom edge); any it reports must
    # hang off the body wrist of its own side.
    for hand, wrist, other in ((sk.LEFT_HAND, sk.L_WRIST, sk.R_WRIST),
                               (sk.RIGHT_HAND, sk.R_WRIST, sk.L_WRIST)):
        if not np.isnan(astronaut_pose[hand][0, 0]):
            own = np.linalg.norm(astronaut_pose[hand][0, :2] - astronaut_pose[wrist, :2])
            assert own < np.linalg.norm(astronaut_pose[hand][0, :2] - astronaut_pose[other, :2])


def test_mediapipe_two_people_gives_both_largest_first(mediapipe, astronaut):
    import cv2

    canvas = np.full((512, 900, 3), 128, np.uint8)
    canvas[:, :512] = astronaut
    canvas[212:, 560:860] = cv2.resize(astronaut, (300, 300), interpolation=cv2.INTER_AREA)
    people = mediapipe.detect_people(canvas)
    assert len(people) == 2
    assert people[0][sk.NECK, 0] < 512 < people[1][sk.NECK, 0]  # the big one first
    pose, count = mediapipe.detect_image(canvas)
    assert count == 2 and pose[sk.NECK, 0] < 512


def test_mediapipe_portrait_detection_is_repeatable(mediapipe, astronaut):
    first, _ = mediapipe.detect_image(astronaut)
    again, _ = mediapipe.detect_image(astronaut)
    np.testing.assert_array_equal(first, again)


def _landmarks(points, visibility=1.0):
    return SimpleNamespace(landmark=[SimpleNamespace(x=x, y=y, visibility=visibility)
                                     for x, y in points])


def test_mediapipe_mapping_hands_and_feet():
    """Holistic's own labels (person's sides) land in the matching DWPose ranges."""
    body = [(0.5, 0.1 + i * 0.02) for i in range(33)]
    body[11], body[12] = (0.6, 0.3), (0.4, 0.3)  # left / right shoulder
    body[29], body[31] = (0.6, 0.9), (0.62, 0.95)  # left heel, left foot index
    result = SimpleNamespace(
        pose_landmarks=_landmarks(body), face_landmarks=None,
        left_hand_landmarks=_landmarks([(0.7, 0.5)] * 21),
        right_hand_landmarks=_landmarks([(0.3, 0.5)] * 21),
    )
    pose = _from_holistic(result, 100, 200)
    np.testing.assert_allclose(pose[sk.LEFT_HAND, :2], [[70, 100]] * 21, atol=1e-4)
    np.testing.assert_allclose(pose[sk.RIGHT_HAND, :2], [[30, 100]] * 21, atol=1e-4)
    np.testing.assert_allclose(pose[sk.L_SHOULDER, :2], [60, 60], atol=1e-4)
    np.testing.assert_allclose(pose[sk.L_HEEL, :2], [60, 180], atol=1e-4)
    np.testing.assert_allclose(pose[sk.L_BIG_TOE, :2], [62, 190], atol=1e-4)
    assert np.isnan(pose[[sk.L_SMALL_TOE, sk.R_SMALL_TOE], 0]).all()
    assert np.isnan(pose[sk.FACE, 0]).all()


def test_mediapipe_blank_image_and_video(mediapipe, astronaut):
    blank = np.zeros_like(astronaut)
    assert mediapipe.detect_image(blank) == (None, 0)
    assert mediapipe.detect_people(blank).shape == (0, 134, 3)
    calls = []
    frames = [astronaut, astronaut, blank, blank, astronaut]
    seq = mediapipe.detect_video(frames, 10.0, 512, 512,
                                 progress=lambda done, total: calls.append((done, total)))
    assert seq.keypoints.shape == (5, 134, 3) and seq.fps == 10.0
    assert seq.present().tolist() == [True, True, False, False, True]
    assert np.isnan(seq.keypoints[2:4, :, :2]).all() and (seq.keypoints[2:4, :, 2] == 0).all()
    assert calls == [(i, 5) for i in range(1, 6)]


def test_bad_images_raise_input_error(mediapipe):
    with pytest.raises(InputError, match="8-bit"):
        mediapipe.detect_image(np.zeros((32, 32, 3), dtype=np.float32))
    with pytest.raises(InputError, match="RGB image"):
        mediapipe.detect_image(np.zeros((32, 32, 2), dtype=np.uint8))
    frames = [np.zeros((32, 32, 3), np.uint8), np.zeros((32, 48, 3), np.uint8)]
    with pytest.raises(InputError, match="frame 1 is 48x32"):
        mediapipe.detect_video(frames, 25.0, 32, 32)


# --- DWPose through stand-in ONNX models ----------------------------------------------------


def _switch_model(path, input_name, input_shape, outputs, thresholds, sharpness):
    """Write an ONNX model whose outputs step through `outputs[name][level]` as the mean
    of its input crosses each threshold (smoothly, by sigmoids of the given sharpness)."""
    inits, nodes = [], [
        helper.make_node("ReduceMean", [input_name], ["m4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["m4", "shape"], ["m"]),
    ]
    inits.append(numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "shape"))
    inits.append(numpy_helper.from_array(np.float32(sharpness), "sharpness"))
    for i, t in enumerate(thresholds):
        inits.append(numpy_helper.from_array(np.float32(t), f"t{i}"))
        nodes += [
            helper.make_node("Sub", ["m", f"t{i}"], [f"d{i}"]),
            helper.make_node("Mul", [f"d{i}", "sharpness"], [f"e{i}"]),
            helper.make_node("Sigmoid", [f"e{i}"], [f"g{i}"]),
        ]
    graph_outputs = []
    for name, levels in outputs.items():
        levels = [np.asarray(v, np.float32) for v in levels]
        inits.append(numpy_helper.from_array(levels[0], f"{name}_0"))
        total = f"{name}_0"
        for i in range(len(thresholds)):
            inits.append(numpy_helper.from_array(levels[i + 1] - levels[i], f"{name}_d{i}"))
            nodes += [
                helper.make_node("Mul", [f"{name}_d{i}", f"g{i}"], [f"{name}_p{i}"]),
                helper.make_node("Add", [total, f"{name}_p{i}"], [f"{name}_s{i}"]),
            ]
            total = f"{name}_s{i}"
        nodes.append(helper.make_node("Identity", [total], [name]))
        graph_outputs.append(helper.make_tensor_value_info(
            name, TensorProto.FLOAT, [input_shape[0], *levels[0].shape[1:]]))
    graph = helper.make_graph(
        nodes, "stand_in",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, input_shape)],
        graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _yolox_raw(boxes):
    """YOLOX-L's raw (1, 8400, 85) output that decodes to `boxes` (x1, y1, x2, y2, score,
    class) on a 640x640 image: one stride-32 anchor per box."""
    raw = np.zeros((1, 8400, 85), np.float32)
    for x1, y1, x2, y2, score, cls in boxes:
        cx, cy = (x1 + x2) / 2 / 32, (y1 + y2) / 2 / 32
        anchor = 6400 + 1600 + int(cy) * 20 + int(cx)
        raw[0, anchor, :4] = cx - int(cx), cy - int(cy), np.log((x2 - x1) / 32), np.log(
            (y2 - y1) / 32)
        raw[0, anchor, 4], raw[0, anchor, 5 + cls] = score, 1.0
    return raw


def write_detector(path, bright=(), mid=None, dark=()):
    """Boxes for white (255), mid-grey (128) and black (0) frames."""
    mid = bright if mid is None else mid
    return _switch_model(path, "images", [1, 3, 640, 640],
                         {"output": [_yolox_raw(dark), _yolox_raw(mid), _yolox_raw(bright)]},
                         thresholds=[64.0, 192.0], sharpness=1.0)


# Where the pose stand-in puts each COCO-WholeBody point, in pixels of its 288x384 input:
# distinct places in the middle of the crop, where a person stands in a detector's box.
CROP_X = 100 + (np.arange(133) * 41) % 88
CROP_Y = 48 + (np.arange(133) * 67) % 288
CROP_SCORE = np.where(np.arange(133) < 17, 0.9, 0.7).astype(np.float32)
CROP_SCORE[21] = 0.0  # COCO right small toe: not found


def write_pose_model(path, dynamic_batch=False):
    simcc_x = np.zeros((1, 133, 576), np.float32)
    simcc_y = np.zeros((1, 133, 768), np.float32)
    simcc_x[0, np.arange(133), 2 * CROP_X] = CROP_SCORE
    simcc_y[0, np.arange(133), 2 * CROP_Y] = CROP_SCORE
    batch = "N" if dynamic_batch else 1
    # A mostly black crop (normalised mean ~ -2) gives no peaks; anything brighter does.
    return _switch_model(path, "input", [batch, 3, 384, 288],
                         {"simcc_x": [0 * simcc_x, simcc_x], "simcc_y": [0 * simcc_y, simcc_y]},
                         thresholds=[-1.0], sharpness=10.0)


def expected_coco(box):
    """COCO-133 pixels that the pose stand-in should give for a detector box: the
    top-down crop is the box grown 1.25x, widened or heightened to 288:384."""
    x1, y1, x2, y2 = box
    w, h = (x2 - x1) * 1.25, (y2 - y1) * 1.25
    w, h = (w, w * 384 / 288) if w > h * 288 / 384 else (h * 288 / 384, h)
    return np.stack([CROP_X / 288 * w + (x1 + x2 - w) / 2,
                     CROP_Y / 384 * h + (y1 + y2 - h) / 2], axis=1)


BIG = (200, 100, 440, 580)
SMALL = (520, 300, 620, 500)
BIG_MOVED = (230, 140, 430, 540)  # overlaps BIG
SMALL_GROWN = (450, 40, 635, 630)  # now the largest, nowhere near BIG


def frame(level):
    return np.full((640, 640, 3), level, np.uint8)


@pytest.fixture(scope="module")
def pose_paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("dwpose")
    return {
        "fixed": write_pose_model(root / "pose_fixed.onnx"),
        "dynamic": write_pose_model(root / "pose_dynamic.onnx", dynamic_batch=True),
        "two": write_detector(root / "det_two.onnx", bright=[(*BIG, 0.9, 0), (*SMALL, 0.9, 0)],
                              mid=[(*BIG_MOVED, 0.9, 0), (*SMALL_GROWN, 0.9, 0)]),
        "chair": write_detector(root / "det_chair.onnx", bright=[(*BIG, 0.95, 56)]),
        "root": root,
    }


def test_coco_wholebody_remap():
    coco = np.stack([np.arange(133), 1000 + np.arange(133)], axis=1)[None].astype(np.float32)
    scores = np.full((1, 133), 0.5, np.float32)
    scores[0, 5] = 0.8  # left shoulder
    coco[0, 100], coco[0, 101] = (-1, 1010), (200, 1010)  # just outside the 200x2000 image
    pose = coco_wholebody_to_dwpose(coco, scores, 200, 2000)[0]
    names = dict(nose=0, left_eye=1, right_eye=2, left_ear=3, right_ear=4, left_shoulder=5,
                 right_shoulder=6, left_elbow=7, right_elbow=8, left_wrist=9, right_wrist=10,
                 left_hip=11, right_hip=12, left_knee=13, right_knee=14, left_ankle=15,
                 right_ankle=16)
    for j, name in enumerate(sk.BODY_NAMES):
        if name != "neck":
            assert pose[j, 0] == names[name], name
    # Public fact (Wan2.2 pose2d_utils.split_kp2ds_for_aa): the neck row is the mean of the
    # two shoulder rows, its score included: (0.8 + 0.5) / 2, where the minimum gave 0.5.
    assert pose[sk.NECK, 0] == 5.5 and pose[sk.NECK, 2] == np.float32(0.65)
    inside = np.r_[17:100, 102:133]
    np.testing.assert_array_equal(pose[inside + 1, 0], inside)  # feet, face, hands
    # Public fact: points beyond the picture keep their position and score (Wan draws by
    # score alone), so a limb leaving the frame is not cut short.
    np.testing.assert_array_equal(pose[[101, 102]], [[-1, 1010, 0.5], [200, 1010, 0.5]])
    scores[0, 6] = 0.0  # no right shoulder: no neck
    neck = coco_wholebody_to_dwpose(coco, scores, 200, 2000)[0, sk.NECK]
    assert np.isnan(neck[:2]).all() and neck[2] == 0


def test_dwpose_two_people_sorted_and_remapped(pose_paths):
    with DWPoseDetector(pose_paths["two"], pose_paths["fixed"]) as detector:
        assert isinstance(detector, PoseDetector) and detector.name == "dwpose"
        people = detector.detect_people(frame(255))
        pose, count = detector.detect_image(frame(255))
    assert people.shape == (2, 134, 3) and count == 2
    np.testing.assert_array_equal(pose, people[0])
    coco = expected_coco(BIG)
    np.testing.assert_allclose(pose[sk.NOSE, :2], coco[0], atol=1e-3)
    for dw, c in ((sk.R_SHOULDER, 6), (sk.L_SHOULDER, 5), (sk.R_WRIST, 10), (sk.L_WRIST, 9),
                  (sk.R_HIP, 12), (sk.L_ANKLE, 15), (sk.R_EYE, 2), (sk.L_EYE, 1),
                  (sk.R_EAR, 4), (sk.L_EAR, 3)):
        np.testing.assert_allclose(pose[dw, :2], coco[c], atol=1e-3)
    np.testing.assert_allclose(pose[sk.NECK, :2], (coco[5] + coco[6]) / 2, atol=1e-3)
    np.testing.assert_allclose(pose[sk.FEET, :2][[0, 1, 2, 3, 5]], coco[[17, 18, 19, 20, 22]],
                               atol=1e-3)
    assert np.isnan(pose[sk.R_SMALL_TOE, 0]) and pose[sk.R_SMALL_TOE, 2] == 0
    np.testing.assert_allclose(pose[sk.FACE, :2], coco[23:91], atol=1e-3)
    np.testing.assert_allclose(pose[sk.LEFT_HAND, :2], coco[91:112], atol=1e-3)
    np.testing.assert_allclose(pose[sk.RIGHT_HAND, :2], coco[112:133], atol=1e-3)
    np.testing.assert_allclose(pose[sk.BODY, 2][[0, 2, 5]], 0.9, atol=1e-6)
    assert (people[1, sk.NOSE, 0] > SMALL[0]) and (people[1, sk.NOSE, 0] < SMALL[2])


def test_dwpose_no_box_is_no_person(pose_paths):
    with DWPoseDetector(pose_paths["two"], pose_paths["fixed"]) as detector:
        assert detector.detect_image(frame(0)) == (None, 0)  # no box at all
    with DWPoseDetector(pose_paths["chair"], pose_paths["fixed"]) as detector:
        assert detector.detect_image(frame(255)) == (None, 0)  # a box, but of a chair


def test_dwpose_video_follows_the_same_person(pose_paths):
    levels = [255, 128, 0, 128, 128]
    with DWPoseDetector(pose_paths["two"], pose_paths["fixed"], redetect_every=1) as detector:
        seq = detector.detect_video([frame(v) for v in levels], 25.0, 640, 640)
    assert seq.present().tolist() == [True, True, False, True, True]
    assert np.isnan(seq.keypoints[2, :, :2]).all()
    # The grown stranger is larger from frame 1 on, yet the track stays on the first person.
    for t, box in ((0, BIG), (1, BIG_MOVED), (3, BIG_MOVED), (4, BIG_MOVED)):
        np.testing.assert_allclose(seq.keypoints[t, sk.NOSE, :2], expected_coco(box)[0],
                                   atol=1e-3)
    # Lost for longer than a second (fps 1): the track is given up, the largest taken.
    with DWPoseDetector(pose_paths["two"], pose_paths["fixed"], redetect_every=1) as detector:
        seq = detector.detect_video([frame(v) for v in [255, 0, 0, 128]], 1.0, 640, 640)
    np.testing.assert_allclose(seq.keypoints[3, sk.NOSE, :2], expected_coco(SMALL_GROWN)[0],
                               atol=1e-3)


@pytest.mark.parametrize("model,batch", [("fixed", None), ("dynamic", 3)])
def test_dwpose_video_crop_tracking_never_a_phantom(pose_paths, model, batch):
    levels = [255, 255, 255, 0, 0, 255, 255, 255]
    calls = []
    with DWPoseDetector(pose_paths["two"], pose_paths[model], redetect_every=50,
                        batch_frames=batch) as detector:
        assert detector.batch_frames == (batch or 1)
        seq = detector.detect_video(iter([frame(v) for v in levels]), 25.0, 640, 640,
                                    progress=lambda done, total: calls.append((done, total)))
    assert seq.present().tolist() == [v == 255 for v in levels]
    assert np.isnan(seq.keypoints[3:5, :, :2]).all()  # the empty crop was not kept
    assert calls == [(i, None) for i in range(1, 9)]


def test_dwpose_rejects_wrong_files(pose_paths, tmp_path):
    with pytest.raises(InputError, match="not found"):
        DWPoseDetector(tmp_path / "missing.onnx", pose_paths["fixed"])
    with pytest.raises(InputError, match="not the DWPose model pair"):
        DWPoseDetector(pose_paths["fixed"], pose_paths["fixed"])
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(InputError, match="download them again"):
        DWPoseDetector(pose_paths["two"], broken)


# --- weights and backend choice -------------------------------------------------------------


@pytest.fixture
def empty_hub_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path


def test_find_weights_in_folder_and_nested(pose_paths, empty_hub_cache):
    empty = empty_hub_cache / "empty"
    empty.mkdir()
    assert find_dwpose_weights(empty) is None
    nested = empty_hub_cache / "weights" / "DWPose"
    nested.mkdir(parents=True)
    for name, src in zip(DWPOSE_FILES, ("two", "fixed"), strict=True):
        (nested / name).write_bytes(pose_paths[src].read_bytes())
    det, pose = find_dwpose_weights(nested.parent)
    assert (det.name, pose.name) == DWPOSE_FILES
    notices = []
    with make_detector("auto", weights_dir=nested.parent, notify=notices.append) as detector:
        assert detector.name == "dwpose" and notices == []


def test_auto_falls_back_to_mediapipe_with_one_notice(empty_hub_cache):
    notices = []
    detector = make_detector("auto", weights_dir=empty_hub_cache, allow_download=False,
                             notify=notices.append)
    assert isinstance(detector, MediaPipeDetector) and detector.name == "mediapipe"
    assert len(notices) == 1 and "MediaPipe" in notices[0] and "\n" not in notices[0]
    detector.close()


def test_make_detector_errors(empty_hub_cache):
    with pytest.raises(InputError, match="unknown pose backend 'openpose'"):
        make_detector("openpose")
    with pytest.raises(InputError, match="mediapipe"):
        make_detector("dwpose", weights_dir=empty_hub_cache, allow_download=False)


def test_dwpose_person_choice_in_image_and_video(pose_paths):
    with DWPoseDetector(pose_paths["two"], pose_paths["fixed"], redetect_every=1) as detector:
        people = detector.detect_people(frame(255))
        second, count = detector.detect_image(frame(255), person=1)
        np.testing.assert_array_equal(second, people[1])
        seq = detector.detect_video([frame(v) for v in [0, 255, 255, 0, 255]], 25.0, 640, 640,
                                    person=1)
        with pytest.raises(InputError, match="numbered 0 to 1"):
            detector.detect_image(frame(255), person=2)
        with pytest.raises(InputError, match="whole number"):
            detector.detect_video([frame(255)], 25.0, 640, 640, person=-1)
    assert seq.present().tolist() == [False, True, True, False, True]
    for t in (1, 2, 4):  # the smaller person, chosen in the first frame with people, kept
        np.testing.assert_allclose(seq.keypoints[t, sk.NOSE, :2], expected_coco(SMALL)[0],
                                   atol=1e-3)


def test_dwpose_poses_get_the_plausibility_checks(pose_paths, tmp_path):
    """Animator checks whatever the backend: DWPose (stand-ins) through driving_poses."""
    import shutil

    from animator.animate import Animator
    from animator.pose.plausibility import check_poses
    from animator.video import write_video

    weights = tmp_path / "weights"
    weights.mkdir()
    shutil.copy(pose_paths["two"], weights / DWPOSE_FILES[0])
    shutil.copy(pose_paths["fixed"], weights / DWPOSE_FILES[1])
    video = write_video([frame(255)] * 5, tmp_path / "white.mp4", 5.0)
    animator = Animator(pose_backend="dwpose", weights_dir=weights)
    driving = animator.driving_poses(video)
    assert animator.detector.name == "dwpose"
    with DWPoseDetector(weights / DWPOSE_FILES[0], weights / DWPOSE_FILES[1]) as detector:
        raw = detector.detect_video([frame(255)] * 5, 5.0, 640, 640)
    checked, report = check_poses(raw)
    assert report.touched > 0  # the stand-in's scattered points are no human body
    np.testing.assert_allclose(driving.poses.keypoints, checked.keypoints, atol=2.0)
    assert any("Implausible joints removed" in n for n in driving.notices)


def test_dwpose_chosen_person_is_not_swapped_for_the_largest_when_lost(pose_paths):
    levels = [255, 0, 0, 0, 255]  # person 1 (SMALL), then nobody for 3 s at 1 fps, then back
    with DWPoseDetector(pose_paths["two"], pose_paths["fixed"], redetect_every=1) as detector:
        seq = detector.detect_video([frame(v) for v in levels], 1.0, 640, 640, person=1)
    np.testing.assert_allclose(seq.keypoints[4, sk.NOSE, :2], expected_coco(SMALL)[0],
                               atol=1e-3)
