"""Pose maps of a whole sequence: `render_sequence` yields them at any size, `RenderedPoses`
draws them on demand for the generators (skeletons or dense part maps).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from animator.pose.render.common import (
    _check_size,
)
from animator.pose.render.dense import draw_dense
from animator.pose.render.dwpose import draw_pose
from animator.pose.skeleton import (
    PoseSequence,
)


def render_sequence(
    poses: PoseSequence, width: int | None = None, height: int | None = None, **draw_kw
) -> Iterator[np.ndarray]:
    """Yield one skeleton map per frame at width x height (default: the sequence's own
    size), scaling coordinates from the sequence's canvas; empty frames come out black."""
    width = poses.width if width is None else width
    height = poses.height if height is None else height
    width, height = _check_size(width, height)
    scale = np.array([width / poses.width, height / poses.height, 1.0])
    for kp in poses.keypoints:
        yield draw_pose(kp * scale, width, height, **draw_kw)


class RenderedPoses(Sequence):
    """Pose maps of a sequence drawn on demand: `maps[i]` draws frame i.

    The generator reads its pose maps window by window; a lazy sequence keeps a long clip's
    maps (1.7 MB each at 576x1024) from all sitting in memory at once. `dense=True` draws
    dense part maps instead of skeletons. Coordinates must already be in canvas pixels.
    """

    def __init__(self, poses: PoseSequence, *, dense: bool = False, **draw_kw):
        self.poses, self.dense, self.draw_kw = poses, dense, draw_kw

    def __len__(self) -> int:
        return len(self.poses)

    def __getitem__(self, index: int) -> np.ndarray:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        pose, size = self.poses.keypoints[index], (self.poses.width, self.poses.height)
        if self.dense:
            return draw_dense(pose, *size, threshold=self.draw_kw.get("threshold", 0.3))
        return draw_pose(pose, *size, **self.draw_kw)
