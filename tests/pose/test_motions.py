from __future__ import annotations

import numpy as np
import pytest

from animator.errors import InputError
from animator.pose import motions
from animator.pose.motions import MOTIONS, list_motions, make_motion
from animator.pose.skeleton import (
    BONES,
    FACE,
    HAND_EDGES,
    L_ANKLE,
    L_SHOULDER,
    L_WRIST,
    LEFT_HAND,
    NECK,
    NOSE,
    NUM_KEYPOINTS,
    R_ANKLE,
    R_HIP,
    R_SHOULDER,
    R_WRIST,
    RIGHT_HAND,
    PoseSequence,
)

SECONDS, FPS = 2.0, 12.0


@pytest.fixture(scope="module", params=list(MOTIONS))
def clip(request) -> tuple[str, PoseSequence]:
    return request.param, make_motion(request.param, seconds=SECONDS, fps=FPS)


def lengths(xy: np.ndarray, edges) -> np.ndarray:
    """(T, E) lengths of the edges in every frame."""
    a, b = np.array(edges).T
    return np.linalg.norm(xy[:, a] - xy[:, b], axis=-1)


def test_list_motions():
    assert list_motions() == list(MOTIONS)
    assert {"wave", "walk", "squat", "arm_circles", "dance"} <= set(MOTIONS)
    assert all(MOTIONS[name] for name in MOTIONS)


def test_clip_shape_and_every_point_valid(clip):
    _, seq = clip
    assert isinstance(seq, PoseSequence)
    assert len(seq) == round(SECONDS * FPS) and seq.fps == FPS
    assert (seq.width, seq.height) == (512, 768)
    assert seq.keypoints.shape == (len(seq), NUM_KEYPOINTS, 3)
    assert seq.valid(0.99).all()


def test_bone_lengths_are_constant(clip):
    _, seq = clip
    xy = seq.xy.astype(np.float64)
    hands = (LEFT_HAND, RIGHT_HAND)
    hand_edges = [(a + h.start, b + h.start) for h in hands for a, b in HAND_EDGES]
    # The face is rigid: fixed distances from two of its points (nose tip, jaw start).
    face_edges = [(anchor, j) for anchor in (NOSE, FACE.start) for j in range(FACE.start, FACE.stop)
                  if j not in (anchor, FACE.start + 30)]  # fmt: skip
    for edges in (BONES, hand_edges, face_edges):
        d = lengths(xy, edges)
        assert d.min() > 1.0
        assert ((d.max(axis=0) - d.min(axis=0)) / d.mean(axis=0)).max() < 1e-4


def test_stays_inside_the_canvas_and_moves(clip):
    name, seq = clip
    x, y = seq.xy[..., 0], seq.xy[..., 1]
    assert x.min() >= 0 and x.max() < seq.width and y.min() >= 0 and y.max() < seq.height
    travel = np.linalg.norm(seq.xy - seq.xy[0], axis=-1).max()
    assert travel > 20, name


def test_loops(clip):
    name, seq = clip
    xy = seq.xy.astype(np.float64)
    steps = np.linalg.norm(np.diff(xy, axis=0), axis=-1).max(axis=1)
    wrap = np.linalg.norm(xy[0] - xy[-1], axis=-1).max()
    assert wrap <= 1.5 * steps.max() + 1e-3, name
    # Exactly: the phase after the last frame is the first frame.
    build = motions._BUILDERS[name]
    np.testing.assert_allclose(motions._build(build(1.0, 2)), motions._build(build(0.0, 2)),
                               atol=1e-9)  # fmt: skip


def test_deterministic(clip):
    name, seq = clip
    np.testing.assert_array_equal(make_motion(name, seconds=SECONDS, fps=FPS).keypoints,
                                  seq.keypoints)  # fmt: skip


def test_plausible_standing_body(clip):
    name, seq = clip
    xy = seq.xy
    # Facing the camera: the person's right side is on the image's left.
    assert (xy[:, R_SHOULDER, 0] < xy[:, L_SHOULDER, 0]).all()
    assert (xy[:, NOSE, 1] < xy[:, NECK, 1]).all() and (xy[:, NECK, 1] < xy[:, R_HIP, 1]).all()
    assert (xy[:, R_HIP, 1] < xy[:, R_ANKLE, 1]).all()
    # Hands and face hang from their joints.
    np.testing.assert_allclose(xy[:, LEFT_HAND.start], xy[:, L_WRIST], atol=1e-3)
    np.testing.assert_allclose(xy[:, RIGHT_HAND.start], xy[:, R_WRIST], atol=1e-3)
    np.testing.assert_allclose(xy[:, FACE.start + 30], xy[:, NOSE], atol=1e-3)
    height = xy[..., 1].max() - xy[..., 1].min()
    assert height > 0.6 * seq.height, name
    if name != "walk":  # feet planted
        assert np.ptp(xy[:, [L_ANKLE, R_ANKLE]], axis=0).max() < 1e-2


def test_other_canvas_sizes_fit():
    seq = make_motion("arm_circles", seconds=1.0, fps=10, width=1024, height=576)
    assert (seq.width, seq.height) == (1024, 576)
    assert (seq.xy >= 0).all() and (seq.xy[..., 0] < 1024).all() and (seq.xy[..., 1] < 576).all()
    assert len(make_motion("wave", seconds=0.01, fps=25)) == 1


def test_bad_arguments():
    with pytest.raises(InputError) as info:
        make_motion("moonwalk")
    for name in MOTIONS:
        assert name in str(info.value)
    with pytest.raises(InputError, match="positive"):
        make_motion("wave", seconds=0)
    with pytest.raises(InputError, match="positive"):
        make_motion("wave", fps=-1)
    with pytest.raises(InputError, match="16x16"):
        make_motion("wave", width=0)
