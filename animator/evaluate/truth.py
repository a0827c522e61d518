"""Agreement with a ground-truth video, frame pair by frame pair, in one protocol.

`TruthComparison` takes the (generated, ground-truth) pairs as the clip streams by and
keeps what each score needs: the pixel scores (`pixels.py`, or DisCo's in `disco.py`),
LPIPS per pair, Inception features per frame for FID and the 16-frame windows for FID-VID
and FVD (`fvd.py`). The networks run on small batches (a few frames at a time), which
is about a third faster on a CPU than one frame at a time and keeps memory flat.

`InBackground` runs a comparison on its own thread, fed through a short queue: the pose
detector (MediaPipe keeps about 1.3 of 2 cores busy) and the networks then share the
machine instead of taking turns.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from animator.evaluate.disco import DiscoPixelScores, to_truth_size
from animator.evaluate.fvd import Windows, video_distance
from animator.evaluate.pixels import PixelScores

BATCH = 4  # frames (pairs) per LPIPS / Inception call


@dataclass
class Networks:
    """The networks a comparison runs (None: that score is not measured)."""

    lpips: Any = None  # lpips.LPIPS, fed as the protocol says (its `unit_input`)
    fid: Any = None  # fid.FIDInception
    fid_vid: Any = None  # fvd.VideoNetwork
    fvd: Any = None  # fvd.VideoNetwork


@dataclass
class TruthResult:
    """What `TruthComparison.finish` found."""

    summary: dict[str, Any]  # pixel means, frames, lpips, fid, fid_vid, fvd
    per_frame: dict[str, list[float]]  # pixel scores and LPIPS, one value per compared pair
    features: dict[str, tuple[np.ndarray, np.ndarray]]  # (generated, truth), for pooling;
    # float32, as the networks computed them (half the memory of a test set's worth)
    notes: list[str] = field(default_factory=list)


class TruthComparison:
    """Feed (generated, ground-truth) frame pairs in order; `finish()` gives the scores."""

    def __init__(self, protocol: str = "standard", networks: Networks | None = None):
        self.protocol = protocol
        self.networks = networks or Networks()
        self.pixels = DiscoPixelScores() if protocol == "disco" else PixelScores()
        self.lpips: list[float] = []
        self._pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self._embeddings: tuple[list, list] = ([], [])
        self._windows = {name: (Windows(net), Windows(net))
                         for name, net in (("fid_vid", self.networks.fid_vid),
                                           ("fvd", self.networks.fvd)) if net is not None}

    def add(self, frame: np.ndarray, truth: np.ndarray) -> None:
        self.pixels.add(frame, truth)
        if self.protocol == "disco":  # DisCo compares at the truth's size
            frame = to_truth_size(frame, truth)
        if self.networks.lpips is not None or self.networks.fid is not None:
            self._pairs.append((frame, truth))
            if len(self._pairs) >= BATCH:
                self._flush()
        for generated, real in self._windows.values():
            generated.add(frame)
            real.add(truth)

    def _flush(self) -> None:
        if not self._pairs:
            return
        frames = np.stack([p[0] for p in self._pairs])
        truths = np.stack([p[1] for p in self._pairs])
        self._pairs = []
        if self.networks.lpips is not None:
            self.lpips += self.networks.lpips.distances(frames, truths).tolist()
        if self.networks.fid is not None:
            self._embeddings[0].append(self.networks.fid.embed_many(frames))
            self._embeddings[1].append(self.networks.fid.embed_many(truths))

    def finish(self) -> TruthResult:
        self._flush()
        summary = self.pixels.summary()
        per_frame = {k: list(getattr(self.pixels, k)) for k in self.pixels.keys}
        features, notes = {}, []
        if self.networks.lpips is not None:
            summary["lpips"] = float(np.mean(self.lpips)) if self.lpips else None
            per_frame["lpips"] = list(self.lpips)
        if self.networks.fid is not None:
            if sum(len(e) for e in self._embeddings[0]) >= 2:
                features["fid"] = tuple(np.concatenate(e).astype(np.float32)
                                        for e in self._embeddings)
                from animator.evaluate.fid import fid

                summary["fid"] = fid(*features["fid"])
            else:
                summary["fid"] = None
                notes.append("FID needs at least 2 frames with a ground truth: not measured.")
        for name, (generated, real) in self._windows.items():
            pair = (generated.features().astype(np.float32),
                    real.features().astype(np.float32))
            label = "FVD" if name == "fvd" else "FID-VID"
            if min(len(pair[0]), len(pair[1])) < 2:
                summary[name] = None
                stride = generated.network.metric.stride
                notes.append(f"{label} needs at least 2 windows of 16 frames "
                             f"({16 + stride} frames with a ground truth): not measured.")
                continue
            features[name] = pair
            summary[name] = video_distance(generated.network, *pair)
        return TruthResult(summary, per_frame, features, notes)


class InBackground:
    """A `TruthComparison` on a worker thread; `add` and `finish` as the comparison's (an
    error in the worker is raised by the next call)."""

    def __init__(self, comparison: TruthComparison, depth: int = 8):
        self.comparison = comparison
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="truth-comparison",
                                        daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (pair := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.comparison.add(*pair)
                except BaseException as e:  # handed to the caller's thread
                    self._error = e

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def add(self, frame: np.ndarray, truth: np.ndarray) -> None:
        self._raise()
        self._queue.put((frame, truth))

    def finish(self) -> TruthResult:
        self._queue.put(None)
        self._thread.join()
        self._raise()
        return self.comparison.finish()

    def close(self) -> None:
        """Stop the worker without a result (the clip's evaluation failed)."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()


__all__ = ["InBackground", "Networks", "TruthComparison", "TruthResult"]
