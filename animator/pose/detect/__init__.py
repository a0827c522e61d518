"""Whole-body pose detection into the DWPose-134 layout (see `skeleton.py`).

Two backends share one interface, `PoseDetector` (interface.py):

- `DWPoseDetector` (dwpose.py): the standard DWPose ONNX pair (YOLOX-L person boxes, then
  DWPose-L whole-body SimCC per box) through rtmlib and onnxruntime. These are the poses
  that public animators were trained on, so it is preferred whenever its weights are at
  hand; where the weights come from is dwpose_weights.py.
- `MediaPipeDetector` (mediapipe.py): MediaPipe Holistic, whose models ship inside the
  wheel: it works offline with no download. Its 33 body, 21+21 hand and 468 face-mesh
  landmarks are mapped onto DWPose-134 (holistic.py). Small or several people are found
  through regions, with the pedestrian detector and person tracker of `pose/people.py`.

Both return pixels of the input image, missing points as NaN with score 0, points beyond
the picture kept as the public preprocessing keeps them (a limb leaving the frame is drawn
to the edge; scores decide what is drawn), the neck as the shoulders' mean; these shared
conventions, boxes and person-index checks are in common.py. Portraits and videos get one
person each (`detect_image`, `detect_video`); `detect_people` returns all.
`make_detector` (factory.py) picks the backend and falls back to MediaPipe when DWPose is
unavailable.
"""

from animator.pose.detect.common import (
    VISIBLE,
    _as_rgb,
    _chosen,
    _finish,
    _is_person,
    _overlaps,
    box_iou,
    check_person_index,
    coco_wholebody_to_dwpose,
    keypoint_box,
    person_size,
)
from animator.pose.detect.dwpose import DWPoseDetector
from animator.pose.detect.dwpose_weights import (
    DWPOSE_FILES,
    DWPOSE_REPO,
    _hub_reachable,
    download_dwpose_weights,
    find_dwpose_weights,
)
from animator.pose.detect.factory import BACKENDS, make_detector
from animator.pose.detect.holistic import MEDIAPIPE_FACE_68, MEDIAPIPE_PART_SCORE, _from_holistic
from animator.pose.detect.interface import PoseDetector, Progress
from animator.pose.detect.mediapipe import MediaPipeDetector

__all__ = [
    "BACKENDS", "DWPOSE_FILES", "DWPOSE_REPO", "MEDIAPIPE_FACE_68", "MEDIAPIPE_PART_SCORE",
    "VISIBLE", "DWPoseDetector", "MediaPipeDetector", "PoseDetector", "Progress", "box_iou",
    "check_person_index", "coco_wholebody_to_dwpose", "download_dwpose_weights",
    "find_dwpose_weights", "keypoint_box", "make_detector", "person_size",
    # private helpers that the tests check on their own
    "_as_rgb", "_chosen", "_finish", "_from_holistic", "_hub_reachable", "_is_person",
    "_overlaps",
]  # fmt: skip
