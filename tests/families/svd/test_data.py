"""VideoDataset: detection caches, deterministic items, crops that keep poses on the pixels,
dense-map sources, face caches, bad files skipped and reported, sharding."""

import itertools
import os
import shutil

import numpy as np
import pytest

from animator.errors import InputError
from animator.families.svd.data import (
    VideoDataset,
    collate,
    dense_source,
    face_path,
    find_videos,
    poses_path,
    shard_batches,
)
from animator.pose.skeleton import NOSE, PoseSequence, missing_pose
from animator.video import iter_video, write_video

SMALL = dict(num_frames=2, stride=2, height=64, width=64)


@pytest.fixture(scope="module")
def detected(tmp_path_factory, driving_path):
    """Two 12-frame clips of the real driving video with poses found by MediaPipe (cached)."""
    folder = tmp_path_factory.mktemp("videos")
    frames = list(itertools.islice(iter_video(driving_path, max_side=96), 24))
    write_video(frames[:12], folder / "a.mp4", 25)
    write_video(frames[12:], folder / "b.mp4", 25)
    VideoDataset(folder, **SMALL)  # detects and writes the caches
    return folder


@pytest.fixture
def videos(detected, tmp_path):
    """A private copy of `detected` (caches included, their mtimes kept)."""
    folder = tmp_path / "videos"
    shutil.copytree(detected, folder)
    return folder


def _refuse():
    raise AssertionError("the detector must not run when the caches are fresh")


def test_poses_are_detected_once_and_cached(videos):
    poses = PoseSequence.load(poses_path(videos / "a.mp4"))
    assert len(poses) == 12 and poses.present().all()  # a real person in every frame
    assert (poses.width, poses.height) == (96, 96) and poses.fps == 25
    dataset = VideoDataset(videos, detector=_refuse, **SMALL)
    assert len(dataset) == 2 * 4  # 12 frames: clips of span 3 start at 0, 3, 6, 9
    assert not face_path(videos / "a.mp4").exists()  # no face model: nothing cached

    os.utime(videos / "b.mp4")  # the video changed after its cache: detect again
    calls = []

    def counting():
        from animator.pose.detect import make_detector

        calls.append(1)
        return make_detector("mediapipe")

    VideoDataset(videos, detector=counting, **SMALL)
    assert calls == [1]


def test_items_are_deterministic_per_key(videos):
    dataset = VideoDataset(videos, detector=_refuse, crop="random", seed=3, **SMALL)
    again = VideoDataset(videos, detector=_refuse, crop="random", seed=3, **SMALL)
    for key in (0, 4, 13):
        a, b = dataset[key], again[key]
        assert all(np.array_equal(a[k], b[k]) for k in ("frames", "reference", "skeleton",
                                                        "dense"))
    item = dataset[1]
    assert item["frames"].shape == (2, 3, 64, 64) and item["frames"].dtype.is_floating_point \
        is False
    assert item["skeleton"].shape == item["dense"].shape == (2, 3, 64, 64)
    assert item["reference"].shape == (3, 64, 64) and item["fps"] == 12.5
    assert item["has_face"] is False and item["skipped"] == []
    # The same clip in later epochs (key + len) draws other reference frames.
    refs = {dataset.clip(1 + e * len(dataset)).reference_index for e in range(6)}
    assert len(refs) > 1
    batch = collate([dataset[0], dataset[1]])
    assert batch["frames"].shape == (2, 2, 3, 64, 64) and batch["key"].tolist() == [0, 1]


def _dot_video(folder, name="dot.mp4", size=(160, 96), spot=(88, 40), frames=4):
    """Black frames with a white square at `spot`, and a cached pose that has only the nose
    there, stored at half the video's size (as if detected on smaller frames)."""
    image = np.zeros((size[1], size[0], 3), np.uint8)
    image[spot[1] - 3 : spot[1] + 4, spot[0] - 3 : spot[0] + 4] = 255
    write_video([image] * frames, folder / name, 25)
    kp = missing_pose(frames)
    kp[:, NOSE] = (spot[0] / 2, spot[1] / 2, 1.0)
    PoseSequence(kp, size[0] // 2, size[1] // 2, 25.0).save(poses_path(folder / name))
    return folder / name


def _centroid(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.array([xs.mean(), ys.mean()])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crop_and_scale_move_the_keypoints_with_the_pixels(tmp_path, seed):
    _dot_video(tmp_path)
    dataset = VideoDataset(tmp_path, num_frames=2, height=64, width=64, crop="random",
                           seed=seed, detector=_refuse)
    clip = dataset.clip(0)
    spot = _centroid(clip.frames[0].max(axis=-1) > 128)
    joint = _centroid(clip.skeleton[0].max(axis=-1) > 0)
    assert np.abs(spot - joint).max() < 1.0
    assert np.abs(_centroid(clip.reference.max(axis=-1) > 128) - spot).max() < 1.0


def test_dense_maps_from_a_sibling_video_or_folder(tmp_path):
    video = _dot_video(tmp_path)
    # Frame i of the maps is blue 50 * (i + 1); its own frame rate differs from the video's.
    write_video([np.full((48, 80, 3), (0, 0, 50 * (i + 1)), np.uint8) for i in range(4)],
                tmp_path / "dot.dense.mp4", 30)
    assert dense_source(video) == tmp_path / "dot.dense.mp4"
    assert find_videos(tmp_path) == [video]  # the dense video is not a training video
    dataset = VideoDataset(tmp_path, num_frames=2, height=64, width=64, detector=_refuse)
    dense = dataset.clip(1).dense  # clip 1 = frames 2 and 3
    assert dense.shape == (2, 64, 64, 3) and dense[..., 0].mean() < 8
    assert np.abs(dense[..., 2].mean(axis=(1, 2)) - (150, 200)).max() < 8

    (tmp_path / "dot.dense.mp4").unlink()
    (tmp_path / "dot.dense").mkdir()
    import PIL.Image

    for i in range(4):
        PIL.Image.new("RGB", (80, 48), (0, 150, 0)).save(tmp_path / "dot.dense" / f"{i:03d}.png")
    dense = VideoDataset(tmp_path, num_frames=2, height=64, width=64,
                         detector=_refuse).clip(0).dense
    assert abs(dense[..., 1].mean() - 150) < 2

    (tmp_path / "dot.dense" / "003.png").unlink()  # one map short of the video
    with pytest.raises(InputError, match="No usable training clips") as error:
        VideoDataset(tmp_path, num_frames=2, height=64, width=64, detector=_refuse)
    assert "3 frames, the video 4" in str(error.value)


def test_without_dense_maps_they_are_drawn_from_the_poses(videos):
    clip = VideoDataset(videos, detector=_refuse, **SMALL).clip(0)
    assert clip.dense.shape == (2, 64, 64, 3) and clip.dense.any()
    assert VideoDataset(videos, detector=_refuse, dense=False, **SMALL).clip(0).dense is None


class _StubEmbedder:
    """Stands in for FaceEmbedder (whose models are not on test machines): a fixed vector."""

    def __init__(self):
        self.calls = 0

    def embed(self, image):
        self.calls += 1
        assert image.dtype == np.uint8 and image.shape[-1] == 3
        return np.arange(512, dtype=np.float32)


def test_face_embeddings_are_cached(videos):
    stub = _StubEmbedder()
    dataset = VideoDataset(videos, detector=_refuse, face=stub, **SMALL)
    assert stub.calls == 2  # the first probed frame of each video had a face
    assert np.array_equal(np.load(face_path(videos / "a.mp4")), np.arange(512))
    later = VideoDataset(videos, detector=_refuse, **SMALL)  # no face model: the cache is read
    item = later[0]
    assert item["has_face"] is True and item["face"][5] == 5
    assert dataset[0]["has_face"] is True


def test_corrupt_and_empty_videos_are_skipped_and_reported(videos):
    (videos / "broken.mp4").write_bytes(b"\x00not a video" * 100)
    (videos / "empty.mov").write_bytes(b"")
    notes = []
    dataset = VideoDataset(videos, detector=_refuse, notify=notes.append, **SMALL)
    assert len(dataset.videos) == 2 and len(dataset) == 8
    assert set(dataset.skipped) == {str(videos / "broken.mp4"), str(videos / "empty.mov")}
    assert "empty" in dataset.skipped[str(videos / "empty.mov")]
    assert "broken.mp4" in notes[0] and "2 video(s) skipped" in notes[0]


def test_only_bad_videos_is_an_error(tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"junk" * 50)
    with pytest.raises(InputError, match="(?s)No usable training clips.*broken.mp4"):
        VideoDataset(tmp_path, detector=_refuse, **SMALL)
    with pytest.raises(InputError, match="does not exist"):
        VideoDataset(tmp_path / "nowhere", **SMALL)
    (tmp_path / "broken.mp4").unlink()
    with pytest.raises(InputError, match="No videos in"):
        VideoDataset(tmp_path, **SMALL)


def test_a_clip_that_fails_later_is_replaced_and_reported(videos):
    dataset = VideoDataset(videos, detector=_refuse, **SMALL)
    (videos / "a.mp4").write_bytes(b"truncated")  # damaged after the dataset was built
    item = dataset[0]  # clip 0 is a.mp4's first; the next working one is b.mp4's first
    assert item["video"] == str(videos / "b.mp4") and item["key"] == 0
    assert len(item["skipped"]) == 4 and all("a.mp4" in s for s in item["skipped"])
    assert collate([item, dataset[4]])["skipped"] == item["skipped"]


def test_shards_are_disjoint_equal_and_cover_the_epoch():
    shards = [shard_batches(10, 2, 3, rank, seed=1, epoch=0) for rank in range(3)]
    assert [len(s) for s in shards] == [1, 1, 1]  # 10 // 3 = 3 items each -> one batch of 2
    flat = [k for s in shards for b in s for k in b]
    assert len(flat) == len(set(flat)) == 6
    two = [shard_batches(8, 1, 2, rank, seed=1, epoch=2) for rank in range(2)]
    keys = sorted(k for s in two for b in s for k in b)
    assert keys == list(range(16, 24))  # epoch 2's keys, every item once
    assert shard_batches(8, 1, 1, 0, seed=1, epoch=0) != shard_batches(8, 1, 1, 0, seed=1,
                                                                       epoch=1)


def test_a_face_model_folder_embeds_in_the_identity_presets_channel_order(videos, tmp_path,
                                                                           monkeypatch):
    """StableAnimator's inference_basic.py hands insightface RGB (cv2.imread, then
    COLOR_RGB2BGR); its preset says so, and a dataset given a face-model folder caches its
    embeddings in that same order, so training and generation feed the weights alike."""
    import animator.face
    from animator.families.svd.presets import PRESETS

    made = []

    class Recorder:
        def __init__(self, folder, channels="bgr", **kwargs):
            made.append(channels)

        def embed(self, image):
            return None

    monkeypatch.setattr(animator.face, "FaceEmbedder", Recorder)
    VideoDataset(videos, detector=_refuse, face=tmp_path, **SMALL)
    VideoDataset(videos, detector=_refuse, face=tmp_path, face_channels="bgr", **SMALL)
    assert PRESETS["stableanimator"].face_channels == "rgb"
    assert made == ["rgb", "bgr"]
