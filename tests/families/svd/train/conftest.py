"""Fixtures of the training tests: one thread, the driving frames, two tiny seeded videos."""

from __future__ import annotations

from itertools import islice

import pytest
import torch

from animator.video import iter_video
from tests.families.svd.train.runs import _seed_video


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models gain nothing from a second thread, and on a shared machine idle OpenMP
    threads spinning for a busy core slow training several times over."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def frames(driving_path):
    return list(islice(iter_video(driving_path, max_side=64), 16))


@pytest.fixture(scope="module")
def clips(tmp_path_factory, frames):
    """Two 8-frame videos: with 2-frame clips at stride 2, four clips in all."""
    folder = tmp_path_factory.mktemp("clips")
    _seed_video(folder, "a.mp4", frames[:8], 0)
    _seed_video(folder, "b.mp4", frames[8:], 1)
    return folder
