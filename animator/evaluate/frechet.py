"""The Fréchet distance between two Gaussians fitted to feature sets (FID, FID-VID, FVD).

    d^2 = |mu_a - mu_b|^2 + Tr(A) + Tr(B) - 2 Tr((A B)^(1/2))

The reference implementations (pytorch-fid, DisCo, StyleGAN-V) take a general matrix square
root of A B with `scipy.linalg.sqrtm`: ~150 s for 2048-d features on a 2-core machine, and
an imaginary part to inspect. Only the trace is needed, and for covariances that trace is a
sum of square roots of non-negative eigenvalues:

- from features (what `evaluate` has): with centred features X_a (n x D), X_b (m x D),
  A B = X_a^T X_a X_b^T X_b / ((n - d)(m - d)), whose non-zero eigenvalues are the squared
  singular values of X_a X_b^T / sqrt((n - d)(m - d)); so Tr((A B)^(1/2)) is the sum of
  those singular values (an n x m SVD: milliseconds for a clip's frames, exact; a thin QR
  first when a set has more rows than features);
- from covariance matrices: the eigenvalues of A^(1/2) B A^(1/2), a symmetric matrix.

The same value to ~1e-10 (tests compare with `sqrtm`). Where the reference raises because
the matrix root is complex (an input that is not a covariance), this raises too; numerical
noise can make a distance of identical sets a hair below zero, so it is clamped at 0.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

NEGATIVE = 1e-6  # eigenvalues below -NEGATIVE x the largest mean the input is not a covariance
NOISE = 1e-12  # eigenvalues under NOISE x the largest are rounding noise of a zero: taken as 0


def _clamped(value: float) -> float:
    return max(0.0, float(value))


def _roots(eigenvalues: np.ndarray) -> np.ndarray:
    """Square roots of non-negative eigenvalues; the noise of a zero would grow to its root
    (1e-16 -> 1e-8, summed over a thousand of them for rank-deficient covariances)."""
    top = float(eigenvalues.max(initial=0.0))
    return np.sqrt(np.where(eigenvalues > NOISE * top, eigenvalues, 0.0))


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    _check_non_negative(w, "covariance")
    return (v * _roots(w)) @ v.T


def _check_non_negative(eigenvalues: np.ndarray, what: str) -> None:
    top = float(np.abs(eigenvalues).max(initial=0.0))
    low = float(eigenvalues.min(initial=0.0))
    if low < -NEGATIVE * max(top, 1e-300):
        raise ValueError(f"The {what} has a negative eigenvalue ({low:.3g}, largest {top:.3g}): "
                         "its square root is complex, so these are not covariances of "
                         "features (the reference implementation raises here too).")


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Fréchet distance of N(mu1, cov1) and N(mu2, cov2) (module docstring)."""
    cov1, cov2 = np.atleast_2d(np.asarray(cov1, np.float64)), np.atleast_2d(
        np.asarray(cov2, np.float64))
    diff = np.atleast_1d(np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64))
    root = _psd_sqrt(cov1)
    inner = np.linalg.eigvalsh(root @ cov2 @ root)
    _check_non_negative(inner, "product of the covariances")
    trace = _roots(inner).sum()
    return _clamped(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2 * trace)


def _rows_for_svd(x: np.ndarray) -> np.ndarray:
    """A matrix with x's row space and Gram matrix but at most D rows (R of a thin QR)."""
    return linalg.qr(x, mode="r")[0] if x.shape[0] > x.shape[1] else x


def frechet_from_features(features_a: np.ndarray, features_b: np.ndarray,
                          ddof: int = 1) -> float:
    """Fréchet distance of Gaussians fitted to two (N, D) feature sets, N >= 2 each.

    `ddof` 1 divides the covariances by N - 1 (numpy's `cov`, pytorch-fid, DisCo); 0 by N
    (StyleGAN-V's FVD statistics)."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets of shapes {a.shape} and {b.shape} do not match")
    if min(len(a), len(b)) <= ddof:
        raise ValueError(f"a Fréchet distance needs more than {ddof} samples per set")
    xa, xb = a - a.mean(0), b - b.mean(0)
    na, nb = len(a) - ddof, len(b) - ddof
    diff = a.mean(0) - b.mean(0)
    singular = np.linalg.svd(_rows_for_svd(xa) @ _rows_for_svd(xb).T, compute_uv=False)
    trace = singular.sum() / np.sqrt(na * nb)
    return _clamped(diff @ diff + (xa * xa).sum() / na + (xb * xb).sum() / nb - 2 * trace)


__all__ = ["frechet_distance", "frechet_from_features"]
