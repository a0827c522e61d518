"""`MediaPipeDetector`: MediaPipe Holistic, whose models ship inside the wheel, so it works
offline with no download.

Holistic sees one person per image; several people are found as regions (faces, and for
people too small for it person boxes from `animator.pose.people`: OpenCV's bundled HOG
pedestrian detector, or a YOLOX ONNX detector when its file is on the machine), each shown
to it alone, cropped and upscaled; a chosen person in video is followed by a `PersonTrack`.
The landmark mapping onto DWPose-134 is in holistic.py.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from animator.pose.detect.common import (
    _as_rgb,
    _chosen,
    _frames_with_size,
    _no_people,
    _overlaps,
    check_person_index,
    keypoint_box,
    person_size,
)
from animator.pose.detect.dwpose_weights import find_dwpose_weights
from animator.pose.detect.holistic import _from_holistic
from animator.pose.detect.interface import Progress, _Detector
from animator.pose.people import (
    OnnxPeopleDetector,
    PeopleDetector,
    PersonTrack,
    appearance,
    crop_region,
    look_distance,
)
from animator.pose.skeleton import (
    NOSE,
    PoseSequence,
)
from animator.pose.store import file_identity

# protobuf 4.25 warns on every MediaPipe graph run that mediapipe 0.10.14 uses an old API.
warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype\(\) is deprecated")


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
                 follow_aspect: float = 0.6, person_boxes: str | Path | None = "auto"):
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from mediapipe.python.solutions import holistic

        self._holistic_module = holistic
        self._confidences = (min_detection_confidence, min_tracking_confidence)
        self._faces = None
        self._pedestrian_detector = None
        self._box_file = None  # the file the boxes detector was made from (None: HOG)
        self.crop_side = crop_side
        self.redetect_every = redetect_every
        self.max_look = max_look
        self.max_offset = max_offset
        self.follow_aspect = follow_aspect
        self.face_widths = (3.0, 2.0, 1.5)  # half-widths, in face sizes, of a face's region
        # people's boxes: a YOLOX-style ONNX file ("auto": DWPose's when it is on disk),
        # None for OpenCV's HOG pedestrian detector (bundled, always there)
        self.person_boxes = person_boxes

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
        people: list[np.ndarray] = []
        # A fresh graph per image: Holistic's "static" mode still carries face and hand
        # regions over from the previous image, which moves points by pixels between
        # identical calls; a new graph makes the portrait's pose repeatable.
        if len(faces) <= 1:
            with self._open(static=True) as graph:
                pose = self._in_region(graph, image, (0, 0, width, height))
            people += [pose] if pose is not None else []
        for face in faces if len(faces) > 1 else ():
            pose = self._person_of_face(image, face)
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

    def _person_of_face(self, image: np.ndarray, face: np.ndarray) -> np.ndarray | None:
        """The person below a face: Holistic on a region hanging from the face, 6 face
        widths wide, narrowed (4, then 3) while the pose it finds has its nose outside this
        face (a sharper neighbour in the region took its place), None if none fits."""
        height, width = image.shape[:2]
        x0, y0, x1, y1 = face
        size = max(x1 - x0, y1 - y0)
        grown = np.array([x0 - size / 2, y0 - size / 2, x1 + size / 2, y1 + size / 2])
        for half in self.face_widths:
            region = (int(max(0, (x0 + x1) / 2 - half * size)), int(max(0, y0 - size)),
                      int(min(width, (x0 + x1) / 2 + half * size)), height)
            with self._open(static=True) as graph:
                pose = self._in_region(graph, image, region)
            if pose is None:
                continue
            nose = pose[NOSE]
            if nose[2] > 0 and grown[0] <= nose[0] <= grown[2] and grown[1] <= nose[1] <= grown[3]:
                return pose
        return None

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

    def _person_box_file(self) -> str | Path | None:
        """The ONNX person detector's file, None for OpenCV's HOG: the one in use once the
        boxes detector is made (DWPose's weights may appear later), else the one to use."""
        if self._pedestrian_detector is not None:
            return self._box_file
        if self.person_boxes == "auto":
            weights = find_dwpose_weights()
            return weights[0] if weights is not None else None
        return self.person_boxes

    def _pedestrians(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._pedestrian_detector is None:
            path = self._box_file = self._person_box_file()
            self._pedestrian_detector = (OnnxPeopleDetector(path) if path is not None
                                         else PeopleDetector())
        return self._pedestrian_detector(image)

    @property
    def fingerprint(self) -> str:
        """What decides this detector's output, for the pose store (`pose/store.py`)."""
        import mediapipe

        boxes = self._person_box_file()
        return repr(("mediapipe", mediapipe.__version__, cv2.__version__, self._confidences,
                     self.crop_side, self.redetect_every, self.max_look, self.max_offset,
                     self.follow_aspect, self.face_widths,
                     file_identity(boxes) if boxes is not None else "hog"))

    def close(self) -> None:
        if self._faces is not None:
            self._faces.close()
            self._faces = None
