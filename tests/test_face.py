"""FaceEmbedder over tiny real ONNX stand-ins that insightface loads and routes itself.

The stand-in detector has SCRFD's 9 outputs (scores, boxes, landmarks for strides 8/16/32)
and really looks at the image: a stride-32 cell whose mean red value is high is a "face"
64 px wide in detector space, a stride-16 cell that is bright green is a face 32 px wide;
boxes are centred on the cell and the 5 landmarks are ArcFace's template placed in the box.
So a test draws faces where it wants, and a wrong channel order finds none. The stand-in
recogniser is a random conv + linear net, so its output depends on the channel order.
"""

from __future__ import annotations

import cv2
import numpy as np
import onnx
import onnxruntime
import pytest
from insightface.utils.face_align import norm_crop
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as nh

from animator.errors import InputError
from animator.face import NO_FACE_NOTICE, FaceEmbedder, find_face_model_dir

# ArcFace's 5-point template in the 112x112 crop (eyes, nose, mouth corners).
TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                     [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)
DET = 128  # detector input size used by the tests; the test images are 256 px (scale 1/2)


def _save(nodes, inputs, outputs, inits, path) -> None:
    model = oh.make_model(oh.make_graph(nodes, "standin", inputs, outputs, inits),
                          opset_imports=[oh.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write_detector(path) -> None:
    """SCRFD-shaped detector: per stride, score = sigmoid(20 (cell mean of a channel - 0.5))."""
    inits = [nh.from_array(np.array(v, np.float32), n) for n, v in
             (("half", 0.5), ("gain", 20.0), ("zero", 0.0), ("one", 1.0),
              # distances (left, top, right, bottom) in strides: a 2-stride box around the cell
              ("box", [[0.5, 0.5, 1.5, 1.5]]),
              ("kps", (TEMPLATE / 56.0 - 0.5).reshape(1, 10)))]
    inits += [nh.from_array(np.array(v, np.int64), n) for n, v in
              (("flat", [-1, 1]), ("axis1", [1]), ("r0", [0]), ("r1", [1]), ("g1", [1]),
               ("g2", [2]))]
    nodes = []
    # blob channels are RGB (insightface swaps the BGR input); stride 8 never fires.
    for s, (lo, hi, enable) in {8: ("r0", "r1", "zero"), 16: ("g1", "g2", "one"),
                                32: ("r0", "r1", "one")}.items():
        nodes += [
            oh.make_node("AveragePool", ["input"], [f"pool{s}"], kernel_shape=[s, s],
                         strides=[s, s]),
            oh.make_node("Slice", [f"pool{s}", lo, hi, "axis1"], [f"chan{s}"]),
            oh.make_node("Sub", [f"chan{s}", "half"], [f"centred{s}"]),
            oh.make_node("Mul", [f"centred{s}", "gain"], [f"logit{s}"]),
            oh.make_node("Sigmoid", [f"logit{s}"], [f"sigmoid{s}"]),
            oh.make_node("Mul", [f"sigmoid{s}", enable], [f"prob{s}"]),
            oh.make_node("Reshape", [f"prob{s}", "flat"], [f"cells{s}"]),
            oh.make_node("Concat", [f"cells{s}", f"cells{s}"], [f"anchors{s}"], axis=1),
            oh.make_node("Reshape", [f"anchors{s}", "flat"], [f"score_{s}"]),
            oh.make_node("Mul", [f"score_{s}", "zero"], [f"zeros{s}"]),
            oh.make_node("Add", [f"zeros{s}", "box"], [f"bbox_{s}"]),
            oh.make_node("Add", [f"zeros{s}", "kps"], [f"kps_{s}"]),
        ]
    outputs = [oh.make_tensor_value_info(f"{kind}_{s}", TensorProto.FLOAT, [f"n{s}", width])
               for kind, width in (("score", 1), ("bbox", 4), ("kps", 10))
               for s in (8, 16, 32)]
    inputs = [oh.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])]
    _save(nodes, inputs, outputs, inits, path)


def write_recognizer(path) -> None:
    rng = np.random.default_rng(0)
    inits = [nh.from_array(rng.normal(0, 0.2, (8, 3, 8, 8)).astype(np.float32), "conv"),
             nh.from_array(rng.normal(0, 0.05, (512, 8 * 14 * 14)).astype(np.float32), "fc")]
    nodes = [oh.make_node("Conv", ["data", "conv"], ["features"], strides=[8, 8]),
             oh.make_node("Flatten", ["features"], ["flat"]),
             oh.make_node("Gemm", ["flat", "fc"], ["embedding"], transB=1)]
    _save(nodes, [oh.make_tensor_value_info("data", TensorProto.FLOAT, [1, 3, 112, 112])],
          [oh.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 512])], inits, path)




def _install(model_files, folder):
    folder.mkdir(parents=True)
    for f in model_files.glob("*.onnx"):
        (folder / f.name).write_bytes(f.read_bytes())
    return folder


@pytest.fixture(scope="module")
def embedder(model_files):
    return FaceEmbedder(model_files, det_size=DET)


def red_face(image, x, y, size, rng):
    """A textured face-like patch whose mean red is high (a stride-32 detection)."""
    image[y:y + size, x:x + size, 0] = rng.integers(200, 256, (size, size))
    image[y:y + size, x:x + size, 1:] = rng.integers(0, 100, (size, size, 2))


def green_face(image, x, y, size, rng):
    image[y:y + size, x:x + size, 1] = rng.integers(200, 256, (size, size))
    image[y:y + size, x:x + size, 0] = rng.integers(0, 100, (size, size))


def expected_landmarks(x, y, size):
    """Where the stand-in puts the 5 points for a face patch at (x, y) in the 256 px image."""
    box = 2 * size  # box = twice the cell, centred on it
    return (np.array([x, y], np.float32) - size / 2) + TEMPLATE / 112 * box


def reference_embedding(model_files, image_for_crop, landmarks):
    """Recogniser run by hand: aligned crop -> RGB blob (what insightface feeds) -> ONNX."""
    crop = norm_crop(image_for_crop, landmarks)
    blob = (crop[..., ::-1].astype(np.float32) - 127.5) / 127.5
    session = onnxruntime.InferenceSession(str(model_files / "glint_standin.onnx"),
                                           providers=["CPUExecutionProvider"])
    return session.run(None, {"data": blob.transpose(2, 0, 1)[None]})[0][0]


def test_face_found_raw_embedding_from_bgr(embedder, model_files):
    rng = np.random.default_rng(1)
    rgb = np.zeros((256, 256, 3), np.uint8)
    red_face(rgb, 128, 64, 64, rng)
    embedding = embedder.embed(rgb)
    assert embedding is not None and embedding.shape == (512,) and embedding.dtype == np.float32
    assert abs(np.linalg.norm(embedding) - 1) > 0.1  # raw, not L2-normalised
    np.testing.assert_array_equal(embedding, embedder.embed(rgb))
    landmarks = expected_landmarks(128, 64, 64)
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    np.testing.assert_allclose(embedding, reference_embedding(model_files, bgr, landmarks),
                               rtol=1e-4, atol=1e-4)
    # Converted exactly once: the crop of the unconverted image gives another embedding.
    wrong = reference_embedding(model_files, rgb, landmarks)
    assert np.abs(embedding - wrong).max() > 0.1 * np.abs(embedding).max()


def test_unconverted_channels_find_no_face(embedder):
    """The red face read as blue (no conversion, or two) is not a face for the stand-in."""
    rgb = np.zeros((256, 256, 3), np.uint8)
    red_face(rgb, 128, 64, 64, np.random.default_rng(1))
    assert embedder.embed(np.ascontiguousarray(rgb[..., ::-1])) is None


def test_rgb_channel_order_hands_the_image_unconverted(embedder, model_files):
    """StableAnimator's inference_basic.py gives insightface's app.get the image in RGB (a
    cv2.imread BGR frame put through COLOR_RGB2BGR): detector and recogniser get the array
    as is. The stand-in detects red as insightface reads it, so a blue patch is the face."""
    rgb = np.zeros((256, 256, 3), np.uint8)
    red_face(rgb, 128, 64, 64, np.random.default_rng(1))
    blue = np.ascontiguousarray(rgb[..., ::-1])
    as_is = FaceEmbedder(model_files, det_size=DET, channels="rgb")
    embedding = as_is.embed(blue)
    landmarks = expected_landmarks(128, 64, 64)
    np.testing.assert_allclose(embedding, reference_embedding(model_files, blue, landmarks),
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(embedding, embedder.embed(rgb))
    assert as_is.embed(rgb) is None  # the red face is handed unconverted: read as blue
    with pytest.raises(InputError, match="channel order must be one of bgr, rgb"):
        FaceEmbedder(model_files, det_size=DET, channels="brg")


def test_largest_face_wins(embedder, model_files):
    rng = np.random.default_rng(2)
    small_only = np.zeros((256, 256, 3), np.uint8)
    green_face(small_only, 32, 160, 32, rng)
    both = small_only.copy()
    red_face(both, 128, 64, 64, rng)
    small, large = embedder.embed(small_only), embedder.embed(both)
    bgr = np.ascontiguousarray(both[..., ::-1])
    np.testing.assert_allclose(small, reference_embedding(
        model_files, bgr, expected_landmarks(32, 160, 32)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(large, reference_embedding(
        model_files, bgr, expected_landmarks(128, 64, 64)), rtol=1e-4, atol=1e-4)
    assert np.abs(large - small).max() > 0.1 * np.abs(large).max()


def test_no_face_gives_none_and_notice(embedder):
    blank = np.full((256, 256, 3), 40, np.uint8)
    assert embedder.embed(blank) is None
    assert embedder.embed_with_notice(blank) == (None, NO_FACE_NOTICE)
    rgb = np.zeros((256, 256, 3), np.uint8)
    red_face(rgb, 128, 64, 64, np.random.default_rng(1))
    embedding, notice = embedder.embed_with_notice(rgb)
    assert embedding is not None and notice is None


def test_nested_layout_accepted(model_files, tmp_path):
    root = tmp_path / "weights"
    nested = _install(model_files, root / "models" / "antelopev2" / "antelopev2")
    assert FaceEmbedder(root / "models" / "antelopev2", det_size=DET).folder == nested
    assert find_face_model_dir(root) == nested
    flat = _install(model_files, tmp_path / "flat" / "buffalo_l")
    assert find_face_model_dir(tmp_path / "flat", name="buffalo_l") == flat
    assert find_face_model_dir(flat, name="buffalo_l") == flat


def test_find_searches_insightface_home_and_hub_cache(model_files, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    assert find_face_model_dir(tmp_path / "empty") is None
    cached = _install(model_files, tmp_path / "hub" / "models--org--repo" / "snapshots" / "abc"
                      / "models" / "antelopev2")
    assert find_face_model_dir() == cached
    home = _install(model_files, tmp_path / "home" / ".insightface" / "models" / "antelopev2"
                    / "antelopev2")
    assert find_face_model_dir() == home  # insightface's own folder comes before the cache


def test_missing_or_invalid_folder_is_input_error(model_files, tmp_path):
    with pytest.raises(InputError, match="python -m animator download.*--weights-dir"):
        FaceEmbedder(tmp_path / "nowhere")
    only_recognizer = tmp_path / "only_rec"
    only_recognizer.mkdir()
    (only_recognizer / "r.onnx").write_bytes((model_files / "glint_standin.onnx").read_bytes())
    with pytest.raises(InputError, match="no detector.*python -m animator download"):
        FaceEmbedder(only_recognizer)
    damaged = _install(model_files, tmp_path / "damaged")
    (damaged / "glint_standin.onnx").write_bytes(b"not a model")
    with pytest.raises(InputError, match="damaged"):
        FaceEmbedder(damaged)
    with pytest.raises(InputError, match="multiple of 32"):
        FaceEmbedder(model_files, det_size=100)


def test_cuda_request_runs_anywhere(model_files, embedder):
    """Without onnxruntime's CUDA provider (the CPU wheel) 'cuda' falls back to the CPU."""
    rgb = np.zeros((256, 256, 3), np.uint8)
    red_face(rgb, 128, 64, 64, np.random.default_rng(1))
    on_cuda = FaceEmbedder(model_files, device="cuda", det_size=DET).embed(rgb)
    np.testing.assert_allclose(on_cuda, embedder.embed(rgb), rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match="device"):
        FaceEmbedder(model_files, device="gpu")


def test_no_face_retries_with_facexlibs_aligned_face(model_files):
    """StableAnimator's inference_basic.py: no insightface face -> facexlib's
    FaceRestoreHelper aligns the centre face (512x512) and the recogniser embeds that crop
    (handler_ante.get_feat) before falling back to zeros; with no facexlib, the notice says
    how to get it."""
    from animator.face_retry import FACEXLIB_URL, facexlib_aligner

    crop = np.random.default_rng(3).integers(0, 256, (512, 512, 3), dtype=np.uint8)
    handed = []

    def aligner(image):
        handed.append(image)
        return crop

    retrying = FaceEmbedder(model_files, det_size=DET, channels="rgb", retry=aligner)
    blank = np.full((256, 256, 3), 40, np.uint8)
    embedding, notice = retrying.embed_with_notice(blank)
    assert handed[0] is not None and np.array_equal(handed[0], blank)  # as the models get it
    blob = cv2.dnn.blobFromImages([crop], 1 / 127.5, (112, 112), (127.5,) * 3, swapRB=True)
    session = onnxruntime.InferenceSession(str(model_files / "glint_standin.onnx"),
                                           providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(embedding, session.run(None, {"data": blob})[0][0], rtol=1e-5)
    assert "facexlib" in notice
    nothing = FaceEmbedder(model_files, det_size=DET, retry=lambda image: None,
                           retry_notice="how")
    assert nothing.embed_with_notice(blank) == (None, NO_FACE_NOTICE + " how")
    import importlib.util

    if importlib.util.find_spec("facexlib") is None:  # not a requirement (torchvision, numba)
        aligner, how = facexlib_aligner(None)
        assert aligner is None and "pip install facexlib" in how and FACEXLIB_URL in how
