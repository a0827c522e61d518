"""MediaPipe Holistic's landmarks mapped onto DWPose-134: the body and foot index table, the
iBUG-68 face points picked from the face mesh, the hands, and the fading of body scores at
the image border (`_from_holistic`).
"""

from __future__ import annotations

import numpy as np

from animator.pose.detect.common import (
    _finish,
    _is_person,
)
from animator.pose.skeleton import (
    FACE,
    LEFT_HAND,
    RIGHT_HAND,
    missing_pose,
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
