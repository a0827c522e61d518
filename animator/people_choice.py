"""Whose pose is animated: the portrait's person `person` detected (refused when nobody is
there, told when several are), and the people a person index chooses from, numbered on the
picture for the page."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from animator.errors import InputError
from animator.pose.detect import keypoint_box
from animator.pose.people import draw_numbered_boxes
from animator.pose.plausibility import check_poses
from animator.pose.skeleton import PoseSequence


@dataclass
class PeopleFound:
    """The people a person index counts (0: the largest), for choosing one."""

    image: np.ndarray  # RGB: the portrait or the first driving frame with people, boxes numbered
    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1 in pixels of `image`, in index order
    frame: int  # driving frame shown (0 for a portrait)


def detect_portrait_pose(detector, lock: threading.Lock, image: np.ndarray, person: int
                         ) -> tuple[PoseSequence, list[str]]:
    """The portrait's person `person` (0: the largest) as a one-frame sequence, implausible
    joints removed (`pose.plausibility`), with notices; `detector` is used under `lock`."""
    with lock:
        pose, num_people = detector.detect_image(image, person=person)
    if pose is None:
        raise InputError(
            "No person found in the portrait. Use a photo of one person whose head and "
            "shoulders are clearly visible."
        )
    notices = []
    if num_people > 1:
        which = "the largest" if person == 0 else f"person {person}"
        notices.append(f"Found {num_people} people in the portrait; animating {which} "
                       f"(people are numbered 0 to {num_people - 1}, largest first).")
    height, width = image.shape[:2]
    checked, report = check_poses(PoseSequence(pose[None], width, height, fps=25.0))
    notices += [report.notice("portrait")] if report.touched else []
    return checked, notices


def first_people(frames: Iterable[np.ndarray], detector, lock: threading.Lock,
                 shrink: Callable[[np.ndarray], np.ndarray] | None = None) -> PeopleFound:
    """The people of the first of `frames` that shows anybody (else of the last frame), with
    numbered boxes drawn; `detector` is used under `lock`. `shrink` gives the copy of a
    frame the detector looks at (as the driving poses are found); boxes are in the frame's
    own pixels."""
    first, frame, seen = 0, None, None
    with lock:
        for index, frame in enumerate(frames):
            first, seen = index, shrink(frame) if shrink else frame
            people = np.array(detector.detect_people(seen), np.float32).reshape(-1, 134, 3)
            if len(people):
                break
    if frame is None:
        raise InputError("The driving video has no frames to look for people in.")
    people[..., 0] *= frame.shape[1] / seen.shape[1]
    people[..., 1] *= frame.shape[0] / seen.shape[0]
    boxes = np.array([_grown(keypoint_box(p), frame.shape) for p in people],
                     np.float32).reshape(-1, 4)
    return PeopleFound(draw_numbered_boxes(frame, boxes), boxes, first)


def _grown(box: np.ndarray | None, shape: tuple, margin: float = 0.1) -> np.ndarray:
    """A keypoint box grown by `margin` on each side (joints stop short of the outline)."""
    if box is None:
        return np.zeros(4, np.float32)
    size = np.maximum(box[2:] - box[:2], 1.0)
    grown = np.concatenate([box[:2] - margin * size, box[2:] + margin * size])
    return np.clip(grown, 0, [shape[1] - 1, shape[0] - 1] * 2)
