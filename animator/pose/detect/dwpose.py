"""`DWPoseDetector`: the standard DWPose ONNX pair (YOLOX-L person boxes, then DWPose-L
whole-body SimCC per box) through rtmlib and onnxruntime, with a keypoint-box tracker for
video. These are the poses that public animators were trained on.
"""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from animator.errors import InputError
from animator.pose.detect.common import (
    _as_rgb,
    _chosen,
    _frames_with_size,
    _is_person,
    _no_people,
    box_iou,
    check_person_index,
    coco_wholebody_to_dwpose,
    keypoint_box,
)
from animator.pose.detect.interface import Progress, _Detector
from animator.pose.skeleton import (
    BODY,
    PoseSequence,
)
from animator.pose.store import file_identity

_DET_SIZE = (640, 640)  # YOLOX input, (w, h)
_POSE_SIZE = (288, 384)  # DWPose input, (w, h)


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
        self._models = (file_identity(det_model), file_identity(pose_model), device, det_score)

    @property
    def fingerprint(self) -> str:
        """What decides this detector's output, for the pose store (`pose/store.py`)."""
        import onnxruntime
        import rtmlib

        return repr(("dwpose", getattr(rtmlib, "__version__", ""), onnxruntime.__version__,
                     self._models, self.redetect_every, self.track_score, self.match_iou,
                     self.batch_frames))

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
