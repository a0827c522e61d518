"""The Fréchet distance (FID, FID-VID, FVD): the reference formula's value, in milliseconds.

The reference is pytorch-fid's: numpy covariances and scipy's general matrix square root.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from animator.evaluate.fid import fid
from animator.evaluate.frechet import frechet_distance, frechet_from_features


def reference(a: np.ndarray, b: np.ndarray) -> float:
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(s1 @ s2)
    d = a.mean(0) - b.mean(0)
    return float(d @ d + np.trace(s1) + np.trace(s2) - 2 * np.trace(root.real))


@pytest.fixture(scope="module")
def features():
    rng = np.random.default_rng(0)
    return rng.random((300, 64)) ** 3, rng.random((250, 64)) ** 2, rng.random((50, 256)) ** 3


def test_full_rank_sets_give_the_reference_value(features):
    a, b, _ = features
    expected = reference(a, b)
    assert fid(a, b) == pytest.approx(expected, rel=1e-10)
    covs = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert frechet_distance(*covs) == pytest.approx(expected, rel=1e-10)


def test_few_frames_many_features_agree_both_ways(features):
    """50 frames of 256-d features (a clip's FID): singular covariances. The feature form
    and the covariance form agree to 1e-10; sqrtm, inexact on singular matrices, to 1e-6."""
    a, _, c = features
    b = np.sqrt(c) + 0.05
    by_features = fid(c, b)
    by_covariances = frechet_distance(c.mean(0), np.cov(c, rowvar=False), b.mean(0),
                                      np.cov(b, rowvar=False))
    assert by_features == pytest.approx(by_covariances, rel=1e-10)
    assert by_features == pytest.approx(reference(c, b), rel=1e-6)


def test_identical_sets_score_zero_never_below(features):
    """The reference gives -1.4e-6 here (rounding); a distance is never negative."""
    _, _, c = features
    assert reference(c, c) < 0
    assert 0 <= fid(c, c) < 1e-12
    assert 0 <= frechet_distance(c.mean(0), np.cov(c, rowvar=False), c.mean(0),
                                 np.cov(c, rowvar=False)) < 1e-12


def test_population_covariance_option(features):
    a, b, _ = features
    s1, s2 = np.cov(a, rowvar=False, ddof=0), np.cov(b, rowvar=False, ddof=0)
    expected = frechet_distance(a.mean(0), s1, b.mean(0), s2)
    assert frechet_from_features(a, b, ddof=0) == pytest.approx(expected, rel=1e-10)


def test_a_matrix_that_is_no_covariance_is_refused_not_rounded():
    """The reference raises on a complex square root; its imaginary part is not dropped."""
    with pytest.raises(ValueError, match="negative eigenvalue"):
        frechet_distance(np.zeros(2), np.diag([1.0, -0.5]), np.zeros(2), np.eye(2))
