"""The `PoseDetector` protocol every backend offers, and `_Detector`, what the backends
share (single-image person choice, context management).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

import numpy as np

from animator.pose.detect.common import (
    _chosen,
    check_person_index,
)
from animator.pose.skeleton import (
    PoseSequence,
)

Progress = Callable[[int, "int | None"], None]


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
