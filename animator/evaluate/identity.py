"""Identity: ArcFace cosine similarity (CSIM) between the portrait's face and each frame's.

StableAnimator reports CSIM as the cosine of ArcFace embeddings of the reference face and
the generated face. We use the project's `FaceEmbedder` (insightface, largest face) on the
portrait once, then on every `stride`-th frame. A frame with no face found is counted, not
scored: a generator that loses the face is told so by `missing`, not by a low mean.
Drift is the slope of a line fitted to CSIM over time, per second: negative when the face
wanders away from the portrait as the clip goes on.
"""

from __future__ import annotations

import numpy as np


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


class IdentityScores:
    """CSIM per scored frame against the portrait's embedding."""

    def __init__(self, embedder, reference: np.ndarray, stride: int = 1):
        """`reference`: the portrait's embedding (`embedder.embed(portrait)`)."""
        self.embedder, self.reference, self.stride = embedder, reference, max(1, stride)
        self.frames: list[int] = []  # indices of the scored frames
        self.csim: list[float] = []
        self.missing = 0  # scored frames in which no face was found
        self._index = 0

    def add(self, frame: np.ndarray) -> None:
        index, self._index = self._index, self._index + 1
        if index % self.stride:
            return
        embedding = self.embedder.embed(frame)
        if embedding is None:
            self.missing += 1
            return
        self.frames.append(index)
        self.csim.append(cosine(self.reference, embedding))

    def summary(self, fps: float) -> dict[str, float | int | None]:
        values = np.asarray(self.csim)
        drift = None
        if len(values) >= 2:
            drift = float(np.polyfit(np.asarray(self.frames) / fps, values, 1)[0])
        return {"mean": float(values.mean()) if len(values) else None,
                "min": float(values.min()) if len(values) else None,
                "drift_per_s": drift, "scored": len(values), "no_face": self.missing}


__all__ = ["IdentityScores", "cosine"]
