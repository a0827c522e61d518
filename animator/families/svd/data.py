"""Training clips from a folder of videos: frames, a reference frame, pose maps, face embedding.

Folder layout (every file next to its video; the caches are written on first use):

```
data/
  dance01.mp4              a training video (.mp4 .mov .m4v .mkv .webm .avi), one person
  dance01.poses.npz        cache: the person's poses, every frame (PoseSequence.save)
  dance01.face.npy         cache: raw 512-d ArcFace embedding (all zeros = no face found);
                           only written when a face model is configured
  dance01.dense.mp4        optional dense maps (e.g. SMPL-X part/normal renders), frame for
                           frame with the video, any size of the same aspect
  dance02.dense/           ...or the same as one image per frame (PNG/JPEG, sorted by name)
```

Without a dense video or folder, dense maps are drawn from the poses (`render.draw_dense`).
Poses are detected once (MediaPipe by default: offline, bundled) on frames scaled to
`detect_max_side`, and re-detected when the video is newer than its cache.

Every video is cut into clips of `num_frames` frames taken every `stride` frames, a new clip
every `clip_step` frames. Item `key` is clip `key % len(dataset)`; its random choices (the
reference frame, a random crop) come from a generator seeded with (seed, key), so an item is
the same in every process and after a resume, while the sampler's keys (`shard_batches`) make
each epoch draw fresh choices. Frames are scaled to cover height x width and cropped; the same
scale and crop move the keypoints before the maps are drawn, so maps and pixels line up.

Unusable videos are left out when the dataset is built and listed in `skipped`; an item that
fails later (a file changed or truncated mid-run) is replaced by the next clip and reported in
the batch's "skipped" list, so an epoch never stops on one bad file.

One idea, over 400 lines: a folder of videos turned into training items. The caches are the
dataset's own preparation (written once, next to each video, read by every process), and
the sampler's sharding (`shard_batches`) and `collate` define the keys and batches the items
are seeded and shaped for; apart, each would need the others' conventions to be read.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from animator.errors import InputError
from animator.families.svd.videos import (
    IMAGE_SUFFIXES,
    dense_source,
    face_path,
    find_videos,
    poses_path,
)
from animator.pose.render import STYLES, draw_dense, draw_pose
from animator.pose.skeleton import PoseSequence
from animator.video import iter_video, probe_video, read_image

logger = logging.getLogger(__name__)

FACE_DIM = 512
_FACE_PROBES = 5  # frames tried (evenly spaced) when looking for the person's face


class BadClip(Exception):
    """A clip that could not be decoded as expected (fewer frames than its poses say)."""


_UNREADABLE = (InputError, OSError, BadClip)


def _is_fresh(cache: Path, video: Path) -> bool:
    return cache.is_file() and cache.stat().st_mtime >= video.stat().st_mtime


@dataclass
class Video:
    """One usable training video and what was cached for it."""

    path: Path
    poses: PoseSequence  # every decoded frame, in pixels of the detection size
    face: np.ndarray  # (512,) raw ArcFace embedding; zeros = none
    dense: Path | None  # dense video or folder; None = draw from the poses
    dense_frames: list[Path] | None = None  # the folder's images, sorted
    dense_fps: float = 0.0  # the dense video's own frame rate (frames are sought by time)

    @property
    def num_frames(self) -> int:
        return len(self.poses)

    @property
    def fps(self) -> float:
        return self.poses.fps


@dataclass
class Clip:
    """One training example as uint8 RGB arrays at the training size."""

    frames: np.ndarray  # (N, H, W, 3) the clip
    reference: np.ndarray  # (H, W, 3) another frame of the same video
    skeleton: np.ndarray  # (N, H, W, 3) skeleton maps of the clip
    reference_skeleton: np.ndarray  # (H, W, 3) skeleton map of the reference frame
    dense: np.ndarray | None  # (N, H, W, 3) dense maps, None when not asked for
    face: np.ndarray  # (512,) float32 ArcFace embedding, zeros = none
    fps: float  # frame rate of the clip (the video's over the stride)
    video: str
    start: int  # first frame index in the video
    reference_index: int


class VideoDataset(torch.utils.data.Dataset):
    """Clips of a folder of videos; items are dicts of tensors (see `__getitem__`).

    Args:
        source: a folder of videos (layout in the module docstring), one video, or a list.
        num_frames, stride, clip_step: clip length, frame step inside a clip, and frame step
            between clip starts (0 = clips back to back).
        height, width: training size; frames are scaled to cover it, then cropped.
        crop: "center" or "random" (per item, from its seed).
        seed: base of every random choice.
        style, swap_rb, draw_face: how skeleton maps are drawn (the preset's convention).
        dense: produce dense maps (from `<stem>.dense.*` or drawn from the poses).
        detector: factory of a pose detector, called once if some pose cache is missing;
            default MediaPipe (`make_detector("mediapipe")`).
        face: a FaceEmbedder (or a folder of insightface models) for missing face caches;
            None = no face embeddings (zeros, `has_face` False).
        face_channels: channel order a folder's embedder hands the face models; None = the
            identity preset's (`presets.IDENTITY_FACE_CHANNELS`, StableAnimator's), so the
            cached embeddings match what generation feeds the same weights.
        detect_max_side: longest side of the frames that poses are detected on.
        min_person: fraction of a clip's frames that must show the person.
        exclude: videos to leave out (e.g. the validation video).
    """

    def __init__(
        self,
        source: str | Path | Sequence[str | Path],
        *,
        num_frames: int = 14,
        stride: int = 1,
        clip_step: int = 0,
        height: int = 512,
        width: int = 512,
        crop: str = "center",
        seed: int = 0,
        style: str = "dwpose",
        swap_rb: bool = False,
        draw_face: bool = True,
        dense: bool = True,
        detector: Callable[[], object] | None = None,
        face=None,
        face_channels: str | None = None,
        detect_max_side: int = 640,
        min_person: float = 0.5,
        exclude: Iterable[str | Path] = (),
        notify: Callable[[str], None] = logger.info,
    ):
        if num_frames < 1 or stride < 1 or clip_step < 0:
            raise InputError("num_frames and stride must be at least 1 and clip_step at least 0.")
        if height % 8 or width % 8 or height < 8 or width < 8:
            raise InputError(f"The training size must be multiples of 8, got {height}x{width}.")
        if crop not in ("center", "random"):
            raise InputError(f"crop must be 'center' or 'random', got {crop!r}.")
        if style not in STYLES:
            raise InputError(f"Unknown skeleton style {style!r}; use one of {', '.join(STYLES)}.")
        self.num_frames, self.stride = num_frames, stride
        self.span = (num_frames - 1) * stride + 1
        self.clip_step = clip_step or self.span
        self.height, self.width, self.crop, self.seed = height, width, crop, seed
        self.draw = {"style": style, "swap_rb": swap_rb, "face": draw_face}
        self.with_dense = dense
        self.detect_max_side = detect_max_side
        self.skipped: dict[str, str] = {}  # video path -> why it was left out

        excluded = {Path(p).expanduser().resolve() for p in exclude}
        videos = [p for p in find_videos(source) if p.resolve() not in excluded]
        self._make_detector = detector or _mediapipe
        self._detector = None
        self._face = _embedder(face, face_channels)
        self.videos: list[Video] = []
        self.clips: list[tuple[int, int]] = []  # (video index, first frame)
        try:
            for path in videos:
                try:
                    video = self._prepare(path, notify)
                except _UNREADABLE as error:
                    self.skipped[str(path)] = _reason(error)
                    continue
                starts = self._starts(video, min_person)
                if not starts:
                    self.skipped[str(path)] = (
                        f"no clip of {num_frames} frames (stride {stride}) with the person in "
                        f"at least {min_person:.0%} of them ({video.num_frames} frames)")
                    continue
                self.clips += [(len(self.videos), s) for s in starts]
                self.videos.append(video)
        finally:
            if self._detector is not None:
                self._detector.close()
            # Not needed any more; without them the dataset pickles into DataLoader workers.
            self._detector = self._face = self._make_detector = None
        if self.skipped:
            notify(self.report())
        if not self.clips:
            raise InputError(f"No usable training clips in {source}: " + self.report())

    # --- preparation ---------------------------------------------------------------------

    def _prepare(self, path: Path, notify: Callable[[str], None]) -> Video:
        """Poses and face embedding from the caches, computed (and cached) when missing. A video
        with fresh caches is not even opened, so that a large folder is ready at once."""
        cache = poses_path(path)
        poses = None
        if _is_fresh(cache, path):
            try:
                poses = PoseSequence.load(cache)
            except (ValueError, OSError, KeyError) as error:
                notify(f"{cache.name} is unreadable ({error}); detecting the poses again.")
        frames_for_face: list[np.ndarray] = []
        if poses is None:
            info = probe_video(path)
            poses = self._detect(path, info.fps, info.num_frames, frames_for_face)
            _atomic(cache, poses.save)
        if not poses.present().any():
            raise InputError("no person found in any frame")
        face = self._face_embedding(path, frames_for_face, len(poses))
        video = Video(path, poses, face, dense_source(path) if self.with_dense else None)
        if video.dense is None:
            return video
        if video.dense.is_dir():
            video.dense_frames = sorted(p for p in video.dense.iterdir()
                                        if p.suffix.lower() in IMAGE_SUFFIXES)
            count = len(video.dense_frames)
        else:
            info = probe_video(video.dense)
            count, video.dense_fps = info.num_frames, info.fps
        if count != len(poses):
            raise InputError(f"its dense maps {video.dense.name} have {count} frames, the video "
                             f"{len(poses)}: render one dense map per video frame")
        return video

    def _detect(self, path: Path, fps: float, expected: int, keep: list[np.ndarray]
                ) -> PoseSequence:
        """Detect the person in every frame; keep a few evenly spaced frames for the face."""
        if self._detector is None:
            self._detector = self._make_detector()
        probes = set(np.linspace(0, max(expected - 1, 0), _FACE_PROBES).round().astype(int))
        frames = iter_video(path, max_side=self.detect_max_side)
        first = next(frames)
        height, width = first.shape[:2]

        def kept(stream):
            for index, frame in enumerate(stream):
                if index in probes and self._face is not None:
                    keep.append(frame)
                yield frame

        return self._detector.detect_video(kept(itertools.chain([first], frames)), fps, width,
                                           height)

    def _face_embedding(self, path: Path, frames: list[np.ndarray], expected: int) -> np.ndarray:
        cache = face_path(path)
        if _is_fresh(cache, path):
            try:
                face = np.load(cache, allow_pickle=False).astype(np.float32).reshape(-1)
            except (ValueError, OSError):
                face = None  # a damaged cache is computed again
            if face is not None and face.size == FACE_DIM:
                return face
        if self._face is None:
            return np.zeros(FACE_DIM, np.float32)
        if not frames:
            probes = np.linspace(0, max(expected - 1, 0), _FACE_PROBES).round().astype(int)
            for index, frame in enumerate(iter_video(path, max_side=self.detect_max_side)):
                if index in probes:
                    frames.append(frame)
        face = np.zeros(FACE_DIM, np.float32)
        for frame in frames:
            embedding = self._face.embed(frame)
            if embedding is not None:
                face = embedding.astype(np.float32)
                break
        _atomic(cache, lambda path: np.save(path, face))
        return face

    def _starts(self, video: Video, min_person: float) -> list[int]:
        present = video.poses.present()
        starts = []
        for start in range(0, video.num_frames - self.span + 1, self.clip_step):
            if present[start : start + self.span : self.stride].mean() >= min_person:
                starts.append(start)
        return starts

    def report(self) -> str:
        """One line per video left out, with the reason."""
        lines = [f"{len(self.skipped)} video(s) skipped:"]
        lines += [f"  {Path(p).name}: {why}" for p, why in self.skipped.items()]
        return "\n".join(lines)

    # --- items ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.clips)

    def clip(self, key: int) -> Clip:
        """The clip for `key` (any non-negative int); raises when its files fail to decode."""
        video_index, start = self.clips[key % len(self.clips)]
        video = self.videos[video_index]
        rng = np.random.default_rng([self.seed, key])
        people = np.flatnonzero(video.poses.present())
        ref = int(rng.choice(people))
        h0, w0 = video.poses.height, video.poses.width
        scale = max(self.width / w0, self.height / h0)
        size = (max(self.width, round(w0 * scale)), max(self.height, round(h0 * scale)))
        if self.crop == "random":
            offset = (int(rng.integers(size[0] - self.width + 1)),
                      int(rng.integers(size[1] - self.height + 1)))
        else:
            offset = ((size[0] - self.width) // 2, (size[1] - self.height) // 2)

        def fit(images: list[np.ndarray]) -> np.ndarray:
            out = np.empty((len(images), self.height, self.width, 3), np.uint8)
            for i, image in enumerate(images):
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                out[i] = image[offset[1] : offset[1] + self.height,
                               offset[0] : offset[0] + self.width]
            return out

        indices = list(range(start, start + self.span, self.stride))
        frames = fit(self._read(video.path, start, self.num_frames, video.fps, size))
        reference = fit(self._read(video.path, ref, 1, video.fps, size))[0]
        to_canvas = np.array([size[0] / w0, size[1] / h0, 1.0])
        shift = np.array([offset[0], offset[1], 0.0])
        keypoints = video.poses.keypoints.astype(np.float64) * to_canvas - shift

        def skeleton(i: int) -> np.ndarray:
            return draw_pose(keypoints[i], self.width, self.height, **self.draw)

        dense = None
        if self.with_dense:
            if video.dense is None:
                dense = np.stack([draw_dense(keypoints[i], self.width, self.height)
                                  for i in indices])
            elif video.dense_frames is not None:
                dense = fit([read_image(video.dense_frames[i], min_side=1) for i in indices])
            else:
                dense = fit(self._read(video.dense, start, self.num_frames, video.dense_fps,
                                       size))
        return Clip(frames=frames, reference=reference,
                    skeleton=np.stack([skeleton(i) for i in indices]),
                    reference_skeleton=skeleton(ref), dense=dense, face=video.face,
                    fps=video.fps / self.stride, video=str(video.path), start=start,
                    reference_index=ref)

    def _read(self, path: Path, start: int, count: int, fps: float, size: tuple[int, int]
              ) -> list[np.ndarray]:
        """`count` frames from frame `start` every `stride`, decoded at about `size` or more.

        The seek lands a quarter frame early: ffmpeg then starts exactly on frame `start`
        (checked against full decodes), with no rounding risk at the boundary."""
        stride = self.stride if count > 1 else 1
        frames = iter_video(path, start=max(0.0, (start - 0.25) / fps), stride=stride,
                            max_side=max(size))
        out = list(itertools.islice(frames, count))
        frames.close()
        if len(out) < count:
            raise BadClip(f"{path.name}: got {len(out)} of {count} frames from frame {start}")
        return out

    def __getitem__(self, key: int) -> dict:
        """A dict of tensors: "frames" (N, 3, H, W), "reference" (3, H, W), "skeleton",
        "reference_skeleton", "dense" (uint8, RGB; convert on the device), "face" (512,)
        float32, "has_face" bool, "fps" float, "key" int, "video" str, "start" int and
        "skipped": the clips that failed before this one was used instead."""
        skipped = []
        for attempt in range(len(self.clips)):
            try:
                clip = self.clip(key + attempt)
            except _UNREADABLE as error:
                video_index, start = self.clips[(key + attempt) % len(self.clips)]
                skipped.append(f"{self.videos[video_index].path} @ {start}: {_reason(error)}")
                continue
            return _tensors(clip, key, skipped)
        raise RuntimeError("Every clip of the dataset failed to load:\n" + "\n".join(skipped))


def _tensors(clip: Clip, key: int, skipped: list[str]) -> dict:
    def chw(images: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(np.moveaxis(images, -1, -3)))

    item = {
        "frames": chw(clip.frames),
        "reference": chw(clip.reference),
        "skeleton": chw(clip.skeleton),
        "reference_skeleton": chw(clip.reference_skeleton),
        "face": torch.from_numpy(clip.face.astype(np.float32)),
        "has_face": bool(clip.face.any()),
        "fps": clip.fps,
        "key": key,
        "video": clip.video,
        "start": clip.start,
        "skipped": skipped,
    }
    if clip.dense is not None:
        item["dense"] = chw(clip.dense)
    return item


def collate(items: list[dict]) -> dict:
    """Stack tensors; lists for the strings; one flat "skipped" list."""
    batch = {}
    for name in items[0]:
        values = [item[name] for item in items]
        if name == "skipped":
            batch[name] = [s for v in values for s in v]
        elif isinstance(values[0], torch.Tensor):
            batch[name] = torch.stack(values)
        elif isinstance(values[0], (bool, int, float)):
            batch[name] = torch.tensor(values)
        else:
            batch[name] = values
    return batch


def shard_batches(num_items: int, batch_size: int, num_replicas: int = 1, rank: int = 0,
                  seed: int = 0, epoch: int = 0) -> list[list[int]]:
    """This process's batches of item keys for one epoch.

    The epoch's permutation of all items (seeded by seed and epoch) is dealt round-robin to
    the processes, each share cut to the same whole number of batches (so no process waits on
    another); keys are `epoch * num_items + item`, so every epoch draws fresh choices per item.
    """
    order = np.random.default_rng([seed, epoch]).permutation(num_items)
    per_rank = (num_items // num_replicas) // batch_size * batch_size
    mine = order[rank::num_replicas][:per_rank] + epoch * num_items
    return [mine[i : i + batch_size].tolist() for i in range(0, per_rank, batch_size)]


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary name and rename, so that processes preparing the same
    folder at once never read a half-written cache."""
    temp = path.with_name(f".{os.getpid()}.{path.name}")
    write(temp)
    os.replace(temp, path)


def _mediapipe():
    from animator.pose.detect import make_detector

    return make_detector("mediapipe")


def _embedder(face, channels: str | None):
    if face is None or hasattr(face, "embed"):
        return face
    from animator.face import FaceEmbedder
    from animator.families.svd.presets import IDENTITY_FACE_CHANNELS

    return FaceEmbedder(face, channels=channels or IDENTITY_FACE_CHANNELS)


def _reason(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
