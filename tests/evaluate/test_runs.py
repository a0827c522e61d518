"""Inputs checked before any work: frames too small for SSIM, ground truths by name."""

from __future__ import annotations

import numpy as np
import pytest

from animator.errors import InputError
from animator.evaluate import EvaluateConfig
from animator.evaluate.runs import Run, evaluate_runs, truth_for
from animator.video import write_video


class NoAnimator:
    """Evaluation must refuse before it reaches the detector."""

    def __getattr__(self, name):
        raise AssertionError(f"reached the work ({name}) before refusing")


def test_frames_smaller_than_the_ssim_window_are_refused_up_front(tmp_path):
    frames = [np.full((10, 16, 3), 100, np.uint8)] * 3
    clip = write_video(frames, tmp_path / "tiny.mp4", 10)
    with pytest.raises(InputError, match="10x16|16x10"):
        evaluate_runs([Run(clip, "tiny", None)], tmp_path / "out", animator=NoAnimator(),
                      ground_truth=clip)


def test_ground_truth_folder_is_matched_by_name(tmp_path):
    folder = tmp_path / "truth"
    folder.mkdir()
    frames = [np.full((32, 32, 3), 100, np.uint8)] * 3
    write_video(frames, folder / "a.mp4", 10)
    clip = write_video(frames, tmp_path / "a.mp4", 10)
    assert truth_for(Run(clip, "a", None), folder) == folder / "a.mp4"
    other = write_video(frames, tmp_path / "b.mp4", 10)
    with pytest.raises(InputError, match="No ground truth for b.mp4"):
        evaluate_runs([Run(clip, "a", None), Run(other, "b", None)], tmp_path / "out",
                      animator=NoAnimator(), ground_truth=folder)
    with pytest.raises(InputError, match="does not exist"):
        evaluate_runs([Run(clip, "a", None)], tmp_path / "out", animator=NoAnimator(),
                      ground_truth=tmp_path / "missing")
    with pytest.raises(InputError, match="Unknown protocol"):
        evaluate_runs([Run(clip, "a", None)], tmp_path / "out", animator=NoAnimator(),
                      ground_truth=folder, config=EvaluateConfig(protocol="tiktok"))
