"""Whole-body pose detection into the DWPose-134 layout (see `skeleton.py`).

Two backends share one interface, `PoseDetector`:

- `DWPoseDetector`: the standard DWPose ONNX pair (YOLOX-L person boxes, then DWPose-L
  whole-body SimCC per box) through rtmlib and onnxruntime. These are the poses that
  public animators were trained on, so it is preferred whenever its weights are at hand.
- `MediaPipeDetector`: MediaPipe Holistic, whose models ship inside the wheel: it works
  offline with no download. Its 33 body, 21+21 hand and 468 face-mesh landmarks are mapped
  onto DWPose-134.

Both return pixels of the input image, missing points as NaN with score 0, and never a
point outside the image (a leg below the frame is missing, not a phantom). Portraits and
videos get one person each (`detect_image`, `detect_video`); `detect_people` returns all.
`make_detector` picks the backend and falls back to MediaPipe when DWPose is unavailable.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import socket
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import urlparse

import cv2
import numpy as np

from animator.errors import InputError
from animator.pose.people import PeopleDetector, PersonTrack, appearance, crop_region, look_distance
from animator.pose.skeleton import (
    BODY,
    FACE,
    L_SHOULDER,
    LEFT_HAND,
    NECK,
    NUM_KEYPOINTS,
    R_SHOULDER,
    RIGHT_HAND,
    PoseSequence,
    missing_pose,
)

Progress = Callable[[int, "int | None"], None]

VISIBLE = 0.3  # the usual DWPose visibility threshold (body, face)

# protobuf 4.25 warns on every MediaPipe graph run that mediapipe 0.10.14 uses an old API.
warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated")

# --- index tables ---------------------------------------------------------------------

# COCO-WholeBody-133 source of each DWPose-134 index (-1: the neck, built afterwards).
# Body: COCO-17 -> OpenPose-18; from index 18 on (feet, face, hands) the order is COCO's,
# shifted by the inserted neck.
_FROM_COCO = np.array(
    [0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3, *range(17, 133)]
)

# MediaPipe Pose landmark behind each DWPose body and foot index (-1: no source). MediaPipe
# names sides from the person's own point of view, as DWPose does (on skimage's astronaut,
# facing the camera, landmark 12 "right shoulder" lies on the image's left). MediaPipe has
# no small toe: those two points stay missing.
_FROM_MEDIAPIPE_BODY = np.array(
    [0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7,  # body 0-17
     31, -1, 29, 32, -1, 30]  # feet: L big toe (foot index), L small toe, L heel, then R
)  # fmt: skip

# Face-mesh vertex for each iBUG-68 point. Built from MediaPipe's mesh contours (face oval,
# brows, eyes, nose, lips): points sampled evenly along each contour and made left-right
# symmetric, then checked on the astronaut photo. Mesh "right" is the person's right, as
# in iBUG, so jaw 0 is on the person's right (image left for a frontal face).
MEDIAPIPE_FACE_68 = (
    127, 234, 93, 58, 172, 136, 149, 176, 152, 400, 378, 365, 397, 288, 323, 454, 356,  # jaw
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,  # right brow (outer->inner), left brow
    168, 197, 5, 4, 98, 97, 2, 326, 327,  # nose bridge (top->tip), nostrils (right->left)
    33, 160, 158, 133, 153, 144,  # right eye: outer corner, upper lid, inner corner, lower
    362, 385, 387, 263, 373, 380,  # left eye: inner corner, upper lid, outer corner, lower
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,  # outer lips, from the right corner
    78, 81, 13, 311, 308, 402, 14, 178,  # inner lips, from the right corner
)  # fmt: skip

_EDGE_FADE = 0.03  # fraction of the short side over which edge joints' scores fade in

# Holistic reports a face or hand only when its landmark model found one and gives no
# per-point confidence, so those points get this constant (above the usual thresholds).
MEDIAPIPE_PART_SCORE = 0.8


# --- shared array helpers ---------------------------------------------------------------


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """A C-contiguous RGB uint8 (H, W, 3) array; grey and RGBA images are converted."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise InputError(f"expected an 8-bit image, got dtype {image.dtype}; pass uint8 RGB")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise InputError(f"expected an RGB image of shape (H, W, 3), got {image.shape}")
    return np.ascontiguousarray(image)


def _finish(kp: np.ndarray, width: int, height: int) -> np.ndarray:
    """Apply the layout's conventions to raw (..., 134, 3) points: points outside the
    image or with no score become missing, then the neck is added from the shoulders."""
    kp = np.array(kp, dtype=np.float32)
    x, y, s = kp[..., 0], kp[..., 1], kp[..., 2]
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)  # False for NaN
    kp[~(inside & (s > 0))] = (np.nan, np.nan, 0.0)
    shoulders = kp[..., [R_SHOULDER, L_SHOULDER], :]
    kp[..., NECK, :2] = shoulders[..., :2].mean(axis=-2)
    kp[..., NECK, 2] = shoulders[..., 2].min(axis=-1)  # a missing shoulder: NaN neck, 0
    return kp


def coco_wholebody_to_dwpose(
    keypoints: np.ndarray, scores: np.ndarray, width: int, height: int
) -> np.ndarray:
    """(N, 133, 2) pixels + (N, 133) scores in COCO-WholeBody order -> (N, 134, 3)."""
    raw = np.concatenate([keypoints, scores[..., None]], axis=-1)[:, _FROM_COCO]
    return _finish(raw, width, height)


def _is_person(pose: np.ndarray) -> bool:
    return bool((pose[BODY, 2] >= VISIBLE).any())


def keypoint_box(pose: np.ndarray, threshold: float = VISIBLE) -> np.ndarray | None:
    """xyxy box around the points scored >= threshold, None with fewer than two."""
    xy = pose[pose[:, 2] >= threshold, :2]
    if len(xy) < 2:
        return None
    return np.concatenate([xy.min(axis=0), xy.max(axis=0)])


def box_iou(a: np.ndarray | None, b: np.ndarray | None) -> float:
    if a is None or b is None:
        return 0.0
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _check_frame(frame: np.ndarray, index: int, width: int, height: int) -> np.ndarray:
    frame = _as_rgb(frame)
    if frame.shape[:2] != (height, width):
        raise InputError(
            f"video frame {index} is {frame.shape[1]}x{frame.shape[0]}, expected "
            f"{width}x{height}; decode all frames at one size"
        )
    return frame


# --- the interface ------------------------------------------------------------------------


@runtime_checkable
class PoseDetector(Protocol):
    """What every backend offers. Images are RGB uint8 (H, W, 3)."""

    name: str

    def detect_people(self, image: np.ndarray) -> np.ndarray:
        """(N, 134, 3) for everyone found, largest (box area x mean score) first."""
        ...

    def detect_image(self, image: np.ndarray, person: int = 0
                     ) -> tuple[np.ndarray | None, int]:
        """Person `person`'s (134, 3) pose (0: the largest), or None when nobody is found,
        and how many people were found."""
        ...

    def detect_video(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int,
        progress: Progress | None = None, person: int = 0,
    ) -> PoseSequence:
        """One tracked person per frame: person `person` (0: the largest) of the first
        frame that shows anybody, followed from there; frames without them are
        all-missing."""
        ...

    def close(self) -> None: ...


class _Detector:
    """What both backends share: single-image selection and context management."""

    name = ""

    def detect_people(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def detect_image(self, image: np.ndarray, person: int = 0
                     ) -> tuple[np.ndarray | None, int]:
        check_person_index(person)
        people = self.detect_people(image)
        if not len(people):
            return None, 0
        return people[_chosen(person, len(people), "the image")], len(people)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_person_index(person) -> int:
    """The person index as an int >= 0, or a clear InputError."""
    if isinstance(person, bool) or not isinstance(person, (int, np.integer)) or person < 0:
        raise InputError(f"person must be a whole number from 0 (the largest person), got "
                         f"{person!r}")
    return int(person)


def _chosen(person: int, count: int, where: str) -> int:
    if person >= count:
        raise InputError(
            f"Person {person} was asked for, but {where} shows {count} "
            f"{'person' if count == 1 else 'people'} (numbered 0 to {count - 1}, largest "
            "first); choose one of those numbers.")
    return person


def person_size(pose: np.ndarray) -> float:
    """Sort key of a person: keypoint-box area x mean body score."""
    box = keypoint_box(pose)
    if box is None:
        return 0.0
    return float((box[2] - box[0]) * (box[3] - box[1]) * np.nan_to_num(pose[BODY, 2]).mean())


def _overlaps(a: np.ndarray | None, b: np.ndarray | None, share: float = 0.5) -> bool:
    """Intersection over the smaller box above `share`: one person seen twice."""
    if a is None or b is None:
        return False
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return bool(w > 0 and h > 0 and w * h > share * max(smaller, 1e-6))


def _no_people() -> np.ndarray:
    return np.zeros((0, NUM_KEYPOINTS, 3), dtype=np.float32)


def _frames_with_size(frames: Iterable[np.ndarray], width: int, height: int):
    for index, frame in enumerate(frames):
        yield _check_frame(frame, index, width, height)


# --- MediaPipe ------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native writes to fd 2 (MediaPipe's C++ start-up chatter, which no log
    level reaches) for the duration of the block."""
    fd = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(fd, 2)
            os.close(fd)


def _from_holistic(result, width: int, height: int) -> np.ndarray | None:
    """Map one Holistic result onto DWPose-134; None when there is no person."""
    if result.pose_landmarks is None:
        return None
    kp = missing_pose(1)[0]
    body = np.array(
        [(p.x * width, p.y * height, p.visibility) for p in result.pose_landmarks.landmark],
        dtype=np.float32,
    )
    # MediaPipe places joints that lie beyond the frame on its edge, often with a fair
    # visibility (the astronaut's hips): fade body scores to 0 at the border.
    edge = np.minimum.reduce([body[:, 0], width - body[:, 0], body[:, 1], height - body[:, 1]])
    body[:, 2] *= np.clip(edge / (_EDGE_FADE * min(width, height)), 0.0, 1.0)
    has_source = _FROM_MEDIAPIPE_BODY >= 0
    kp[: len(_FROM_MEDIAPIPE_BODY)][has_source] = body[_FROM_MEDIAPIPE_BODY[has_source]]
    if result.face_landmarks is not None:
        mesh = result.face_landmarks.landmark
        kp[FACE] = [(mesh[i].x * width, mesh[i].y * height, MEDIAPIPE_PART_SCORE)
                    for i in MEDIAPIPE_FACE_68]
    # Holistic crops each hand around the pose's own wrist of that side, so its
    # left/right hands are the person's own, like the body landmarks.
    for part, hand in ((LEFT_HAND, result.left_hand_landmarks),
                       (RIGHT_HAND, result.right_hand_landmarks)):
        if hand is not None:
            kp[part] = [(p.x * width, p.y * height, MEDIAPIPE_PART_SCORE)
                        for p in hand.landmark]
    pose = _finish(kp, width, height)
    return pose if _is_person(pose) else None


class MediaPipeDetector(_Detector):
    """MediaPipe Holistic (model_complexity=1, the one model bundled in the wheel).

    Holistic is single-person by design: several or small people are found as regions
    (faces, OpenCV's pedestrian boxes), each shown to it alone, cropped and upscaled to
    `crop_side`. Body scores are MediaPipe's visibility; points below the visibility
    threshold keep their coordinates with their low score, as DWPose does. A lone person
    in video is followed by MediaPipe's tracking mode, which re-runs its person detector
    by itself whenever tracking is lost (a cut, the person leaving); a chosen one among
    several by a `PersonTrack` (see `detect_video`). Landmark smoothing is off:
    retargeting smooths, and smoothing twice would only add lag.
    """

    name = "mediapipe"

    def __init__(self, min_detection_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, crop_side: int = 384,
                 redetect_every: int = 10, max_look: float = 0.5, max_offset: float = 0.15,
                 follow_aspect: float = 0.6):
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from mediapipe.python.solutions import holistic

        self._holistic_module = holistic
        self._confidences = (min_detection_confidence, min_tracking_confidence)
        self._faces = None
        self._pedestrian_detector = None
        self.crop_side = crop_side
        self.redetect_every = redetect_every
        self.max_look = max_look
        self.max_offset = max_offset
        self.follow_aspect = follow_aspect

    def _open(self, static: bool):
        with _quiet_stderr():
            return self._holistic_module.Holistic(
                static_image_mode=static, model_complexity=1, smooth_landmarks=False,
                refine_face_landmarks=False, min_detection_confidence=self._confidences[0],
                min_tracking_confidence=self._confidences[1],
            )

    @staticmethod
    def _process(graph, image: np.ndarray) -> np.ndarray | None:
        # Each landmark model logs its start-up the first time it runs, which can be any
        # frame (a hand appearing late), so every call is silenced: the cost is two dup2s.
        with _quiet_stderr():
            result = graph.process(image)
        return _from_holistic(result, image.shape[1], image.shape[0])

    def _face_boxes(self, image: np.ndarray) -> np.ndarray:
        """(N, 4) x0, y0, x1, y1 pixel boxes of the faces in view, largest first."""
        if self._faces is None:
            from mediapipe.python.solutions import face_detection

            with _quiet_stderr():
                self._faces = face_detection.FaceDetection(model_selection=1,
                                                           min_detection_confidence=0.6)
        with _quiet_stderr():
            found = self._faces.process(image).detections or []
        height, width = image.shape[:2]
        boxes = np.array([(b.xmin, b.ymin, b.xmin + b.width, b.ymin + b.height)
                          for b in (d.location_data.relative_bounding_box for d in found)],
                         dtype=np.float32).reshape(-1, 4) * (width, height, width, height)
        return boxes[np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))]

    def _in_region(self, graph, image: np.ndarray, region) -> np.ndarray | None:
        """Holistic on one region of the image, upscaled to `crop_side` when smaller (its
        person detector misses people under ~200 px), in the image's pixels."""
        left, top, right, bottom = region
        crop = image[top:bottom, left:right]
        if min(crop.shape[:2]) < 8:
            return None
        k = self.crop_side / max(crop.shape[:2])
        if k > 1:
            crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_CUBIC)
        else:
            k = 1.0
        pose = self._process(graph, np.ascontiguousarray(crop))
        if pose is not None:
            pose[:, :2] = pose[:, :2] / k + (left, top)
        return pose

    def _people(self, image: np.ndarray) -> list[np.ndarray]:
        """Everyone found, largest first.

        Holistic sees one person per image. With several faces in view each person is
        shown to it alone, cropped around their face (bodies hang below faces); people
        too small for it (a street filmed from afar) come from OpenCV's pedestrian
        detector, each box cropped and upscaled."""
        height, width = image.shape[:2]
        faces = self._face_boxes(image)
        regions = [(0, 0, width, height)]
        if len(faces) > 1:
            regions = []
            for x0, y0, x1, y1 in faces:
                size = max(x1 - x0, y1 - y0)
                regions.append((int(max(0, (x0 + x1) / 2 - 3 * size)), int(max(0, y0 - size)),
                                int(min(width, (x0 + x1) / 2 + 3 * size)), height))
        people: list[np.ndarray] = []
        # A fresh graph per image: Holistic's "static" mode still carries face and hand
        # regions over from the previous image, which moves points by pixels between
        # identical calls; a new graph makes the portrait's pose repeatable.
        for region in regions:
            with self._open(static=True) as graph:
                pose = self._in_region(graph, image, region)
            if pose is not None and not any(_overlaps(keypoint_box(pose), keypoint_box(p))
                                            for p in people):
                people.append(pose)
        boxes, _ = self._pedestrians(image)
        found = [keypoint_box(p) for p in people]
        fresh = [b for b in boxes if not any(_overlaps(b, f, 0.6) for f in found)]
        if fresh:
            with self._open(static=True) as graph:
                for box in fresh:
                    pose = self._in_region(graph, image, crop_region(box, width, height))
                    if pose is not None and not any(
                            _overlaps(keypoint_box(pose), keypoint_box(p)) for p in people):
                        people.append(pose)
        people = [p for p in people if keypoint_box(p) is not None]  # a lone point: nobody
        people.sort(key=person_size, reverse=True)
        return people

    def detect_people(self, image: np.ndarray) -> np.ndarray:
        people = self._people(_as_rgb(image))
        return np.stack(people) if people else _no_people()

    def _follow(self, graph, image: np.ndarray, track: PersonTrack, fresh_look: bool
                ) -> np.ndarray | None:
        """The tracked person in this frame: Holistic on the region around their last box;
        when that fails or is due (`fresh_look`), every pedestrian box is tried and the
        one that continues the track (position, size, look) is kept."""
        height, width = image.shape[:2]
        if not fresh_look:
            region = crop_region(track.box, width, height, aspect=self.follow_aspect)
            pose = self._in_region(graph, image, region)
            box = keypoint_box(pose) if pose is not None else None
            if box is not None and track.offset(box) <= self.max_offset and \
                    track.cost(box, None) is not None and \
                    look_distance(track.look, appearance(image, box)) <= self.max_look:
                return pose
        boxes, _ = self._pedestrians(image)
        regions = [crop_region(b, width, height) for b in boxes]
        regions.append(crop_region(track.box, width, height, margin=0.5))
        poses, keyboxes, looks = [], [], []
        for region in regions:
            pose = self._in_region(graph, image, region)
            box = keypoint_box(pose) if pose is not None else None
            if box is None or any(_overlaps(box, k) for k in keyboxes):
                continue
            poses.append(pose)
            keyboxes.append(box)
            looks.append(appearance(image, box))
        best = track.choose(keyboxes, looks)
        return poses[best] if best is not None else None

    def detect_video(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int,
        progress: Progress | None = None, person: int = 0,
    ) -> PoseSequence:
        """Until somebody is found, each frame is searched for people (`_people`). The
        largest person, when Holistic finds them in the whole frame by itself, is followed
        by Holistic's own tracking mode, which re-runs its detector whenever it loses them.
        Otherwise (another person chosen, small people) person `person` is followed by
        `PersonTrack`: Holistic on the region around their last box, the pedestrian
        detector every `redetect_every` frames and whenever they are lost, the candidate
        that continues the track kept."""
        check_person_index(person)
        total = len(frames) if hasattr(frames, "__len__") else None
        poses: list[np.ndarray | None] = []
        graph = track = None
        since_detect = 0
        try:
            for frame in _frames_with_size(frames, width, height):
                if graph is None:
                    people = self._people(frame)
                    pose = None
                    if people:
                        pose = people[_chosen(person, len(people),
                                              f"the first frame with people (frame {len(poses)})")]
                        # the person whom Holistic finds in the whole frame by itself, if it
                        # is the one chosen and that is the largest (the one it re-finds
                        # after losing them): the case its own tracking mode is made for
                        graph = self._open(static=False)
                        alone = self._process(graph, frame) if person == 0 else None
                        if alone is not None and _overlaps(keypoint_box(alone),
                                                           keypoint_box(pose)):
                            pose = alone
                        else:
                            graph.close()
                            graph = self._open(static=True)
                            box = keypoint_box(pose)
                            track = PersonTrack(box, appearance(frame, box))
                elif track is None:
                    pose = self._process(graph, frame)
                else:
                    since_detect += 1
                    due = since_detect >= self.redetect_every or track.missed > 0
                    pose = self._follow(graph, frame, track, fresh_look=due)
                    since_detect = 0 if due else since_detect
                    box = keypoint_box(pose) if pose is not None else None
                    track.update(box, appearance(frame, box) if box is not None else None)
                poses.append(pose)
                if progress is not None:
                    progress(len(poses), total)
        finally:
            if graph is not None:
                graph.close()
        return PoseSequence.from_frames(poses, width, height, fps)

    def _pedestrians(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._pedestrian_detector is None:
            self._pedestrian_detector = PeopleDetector()
        return self._pedestrian_detector(image)

    def close(self) -> None:
        if self._faces is not None:
            self._faces.close()
            self._faces = None


# --- DWPose ---------------------------------------------------------------------------------

DWPOSE_REPO = "yzd-v/DWPose"
DWPOSE_FILES = ("yolox_l.onnx", "dw-ll_ucoco_384.onnx")
# Hub repositories that hold the pair, with the folder inside each.
_DWPOSE_SOURCES = ((DWPOSE_REPO, ""), ("FrancisRing/StableAnimator", "DWPose/"))
_DET_SIZE = (640, 640)  # YOLOX input, (w, h)
_POSE_SIZE = (288, 384)  # DWPose input, (w, h)


def find_dwpose_weights(weights_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """(detector, pose) ONNX paths from `weights_dir` (or its `DWPose/` subfolder) or the
    Hugging Face cache; None when the pair is not on disk. Never touches the network."""
    if weights_dir is not None:
        for folder in (Path(weights_dir), Path(weights_dir) / "DWPose"):
            det, pose = (folder / name for name in DWPOSE_FILES)
            if det.is_file() and pose.is_file():
                return det, pose
    from huggingface_hub import try_to_load_from_cache

    for repo, prefix in _DWPOSE_SOURCES:
        det, pose = (try_to_load_from_cache(repo, prefix + name) for name in DWPOSE_FILES)
        if isinstance(det, str) and isinstance(pose, str):
            return Path(det), Path(pose)
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP check, because huggingface_hub retries an unreachable host for ~20 s."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def download_dwpose_weights(cache_dir: str | Path | None = None) -> tuple[Path, Path] | None:
    """Fetch the DWPose pair from the hub into its cache; None when offline or on any
    download error, so that the caller can fall back to MediaPipe."""
    from huggingface_hub import hf_hub_download

    if not _hub_reachable():
        return None
    try:
        det, pose = (Path(hf_hub_download(DWPOSE_REPO, name, cache_dir=cache_dir))
                     for name in DWPOSE_FILES)
    except Exception:  # offline, HTTP error, full disk: all mean "not available"
        return None
    return det, pose


def _expand(box: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """A keypoint box grown on each side, since joints stop short of the body's outline."""
    size = np.maximum(box[2:] - box[:2], 1.0)  # two coincident points still give a crop
    return np.concatenate([box[:2] - margin * size, box[2:] + margin * size])


class DWPoseDetector(_Detector):
    """DWPose through rtmlib's YOLOX and RTMPose classes, driven separately so that video
    can skip the person detector.

    Colour: the detector gets BGR (YOLOX was trained on OpenCV-loaded images), the pose
    model RGB (its mean/std and training pipeline are RGB). A frame where YOLOX finds no
    person box has no person: the pose model never runs on the whole image.

    Video: the person's keypoint box from the previous frame (grown 10%) replaces the
    detector until `redetect_every` frames have passed or the tracked person's mean body
    score falls below `track_score`; then YOLOX runs and the candidate whose keypoint box
    overlaps the tracked one best (IoU >= `match_iou`) continues the track. The track
    starts on person `person` (0: the largest) of the first frame with anybody. A largest
    person lost for over a second is given up and the largest person is taken again; a
    chosen other person is waited for where they were last seen. When the pose
    model accepts a batch dimension and a GPU is used, `batch_frames` frames are cropped
    with the same tracked box and run in one call.
    """

    name = "dwpose"

    def __init__(
        self, det_model: str | Path, pose_model: str | Path, device: str = "cpu",
        det_score: float = 0.3, redetect_every: int = 12, track_score: float = 0.4,
        match_iou: float = 0.3, batch_frames: int | None = None,
    ):
        for path in (det_model, pose_model):
            if not Path(path).is_file():
                raise InputError(f"DWPose model file not found: {path}; download it again")
        from rtmlib import YOLOX, RTMPose

        try:
            with contextlib.redirect_stdout(io.StringIO()):  # rtmlib prints each load
                self._det = YOLOX(
                    str(det_model), model_input_size=_DET_SIZE, det_mode="multiclass",
                    score_thr=det_score, backend="onnxruntime", device=device,
                )
                self._pose = RTMPose(
                    str(pose_model), model_input_size=_POSE_SIZE, backend="onnxruntime",
                    device=device,
                )
        except Exception as e:  # onnxruntime's errors for a truncated or foreign file
            raise InputError(
                f"could not load the DWPose models ({e}); download them again") from e
        self._check_input(self._det.session, _DET_SIZE, det_model)
        self._check_input(self._pose.session, _POSE_SIZE, pose_model)
        self._input_name = self._pose.session.get_inputs()[0].name
        self._dynamic_batch = not isinstance(self._pose.session.get_inputs()[0].shape[0], int)
        if batch_frames is None:
            batch_frames = 8 if self._dynamic_batch and device.startswith("cuda") else 1
        self.batch_frames = batch_frames if self._dynamic_batch else 1
        self.redetect_every = redetect_every
        self.track_score = track_score
        self.match_iou = match_iou

    @staticmethod
    def _check_input(session, size: tuple[int, int], path) -> None:
        shape = session.get_inputs()[0].shape
        if tuple(shape[2:]) != (size[1], size[0]):
            raise InputError(
                f"{Path(path).name} takes {shape[2:]} inputs, expected {size[1]}x{size[0]}: "
                "not the DWPose model pair (yolox_l.onnx, dw-ll_ucoco_384.onnx)"
            )

    def _person_boxes(self, image: np.ndarray) -> np.ndarray:
        """(M, 4) xyxy boxes of class "person"; rtmlib's "human" mode would keep every
        COCO class, so the multiclass output is filtered here."""
        boxes, classes = self._det(np.ascontiguousarray(image[..., ::-1]))
        if len(boxes) == 0:
            return np.zeros((0, 4), dtype=np.float32)
        boxes = np.asarray(boxes, dtype=np.float32)[np.asarray(classes) == 0]
        return boxes[(boxes[:, 2] - boxes[:, 0] > 1) & (boxes[:, 3] - boxes[:, 1] > 1)]

    def _estimate(self, images: list[np.ndarray], boxes) -> np.ndarray:
        """(K, 134, 3) poses, one per (image, box) pair, in one model call when it can."""
        crops, centers, scales = zip(*(self._pose.preprocess(img, box)
                                       for img, box in zip(images, boxes, strict=True)),
                                     strict=True)
        batch = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32)
        step = len(batch) if self._dynamic_batch else 1
        outputs = [self._pose.session.run(None, {self._input_name: batch[i:i + step]})
                   for i in range(0, len(batch), step)]
        simcc_x = np.concatenate([o[0] for o in outputs])
        simcc_y = np.concatenate([o[1] for o in outputs])
        poses = []
        for i, (center, scale) in enumerate(zip(centers, scales, strict=True)):
            kpts, scores = self._pose.postprocess(
                [simcc_x[i:i + 1], simcc_y[i:i + 1]], center, scale)
            height, width = images[i].shape[:2]
            poses.append(coco_wholebody_to_dwpose(kpts, scores, width, height)[0])
        return np.stack(poses)

    def _candidates(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Everyone in the image, unsorted, with their sort key (box area x mean score)."""
        boxes = self._person_boxes(image)
        if not len(boxes):
            return _no_people(), np.zeros(0)
        people = self._estimate([image] * len(boxes), boxes)
        keep = np.array([_is_person(p) for p in people])
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        return people[keep], (area * people[:, :, 2].mean(axis=1))[keep]

    def detect_people(self, image: np.ndarray) -> np.ndarray:
        people, size = self._candidates(_as_rgb(image))
        return people[np.argsort(-size, kind="stable")]

    def _detect_tracked(self, image: np.ndarray, track: np.ndarray | None,
                        person: int = 0) -> np.ndarray | None:
        """Run the detector: person `person` (0: the largest) when nobody is tracked yet,
        else the candidate that continues `track`, or None."""
        people, size = self._candidates(image)
        if not len(people):
            return None
        if track is None:
            order = np.argsort(-size, kind="stable")
            return people[order[_chosen(person, len(people), "the first frame with people")]]
        overlap = [box_iou(keypoint_box(p), track) for p in people]
        best = int(np.argmax(overlap))
        return people[best] if overlap[best] >= self.match_iou else None

    def detect_video(
        self, frames: Iterable[np.ndarray], fps: float, width: int, height: int,
        progress: Progress | None = None, person: int = 0,
    ) -> PoseSequence:
        check_person_index(person)
        total = len(frames) if hasattr(frames, "__len__") else None
        poses: list[np.ndarray | None] = []
        track = None  # keypoint box of the tracked person in the last frame they were seen
        since_detect = lost = 0
        first = True  # the chosen person is picked in the first frame with anybody
        checked = _frames_with_size(frames, width, height)
        while chunk := list(itertools.islice(checked, self.batch_frames)):
            guesses = [None] * len(chunk)
            cropped = min(len(chunk), self.redetect_every - since_detect)
            if track is not None and cropped > 0:
                guesses[:cropped] = self._estimate(chunk[:cropped], [_expand(track)] * cropped)
            for image, guess in zip(chunk, guesses, strict=True):
                if guess is not None and guess[BODY, 2].mean() >= self.track_score:
                    pose, since_detect = guess, since_detect + 1
                else:
                    pose = self._detect_tracked(image, track, person if first else 0)
                    since_detect, first = 1, first and pose is None
                if pose is None:
                    lost += 1
                    if lost > max(fps, 1) and person == 0:
                        track = None  # a chosen person (not the largest) is never re-picked
                    since_detect = self.redetect_every  # look with the detector next time
                else:
                    track, lost = keypoint_box(pose), 0
                poses.append(pose)
                if progress is not None:
                    progress(len(poses), total)
        return PoseSequence.from_frames(poses, width, height, fps)


# --- choosing a backend -----------------------------------------------------------------------

BACKENDS = ("auto", "dwpose", "mediapipe")


def make_detector(
    backend: str = "auto", weights_dir: str | Path | None = None, device: str = "cpu",
    allow_download: bool = True, notify: Callable[[str], None] = print,
) -> PoseDetector:
    """A pose detector. "auto" takes DWPose when its weights are on disk or can be
    downloaded, else MediaPipe (bundled) after one line through `notify`."""
    if backend not in BACKENDS:
        raise InputError(f"unknown pose backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if backend == "mediapipe":
        return MediaPipeDetector()
    weights = find_dwpose_weights(weights_dir)
    if weights is None and allow_download:
        weights = download_dwpose_weights()
    if weights is not None:
        return DWPoseDetector(*weights, device=device)
    if backend == "dwpose":
        raise InputError(
            f"DWPose weights ({', '.join(DWPOSE_FILES)}) were not found"
            + (f" in {weights_dir}" if weights_dir else "")
            + f" and could not be downloaded from {DWPOSE_REPO}; put them there or choose "
            "the 'mediapipe' pose backend"
        )
    notify("DWPose weights not available offline; using MediaPipe (bundled) for pose detection.")
    return MediaPipeDetector()
