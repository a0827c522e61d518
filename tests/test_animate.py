"""`Animator`, the end-to-end flow, on real media: checks, notices and the pose cache."""

from __future__ import annotations

import numpy as np
import pytest

from animator.animate import Animator
from animator.config import InputLimits, RetargetConfig
from animator.errors import InputError
from animator.pose.skeleton import PoseSequence
from animator.video import probe_video, write_video


@pytest.fixture(scope="module")
def animator():
    return Animator(pose_backend="mediapipe")


def test_preview_from_video(animator, portrait_path, driving_path, tmp_path):
    result = animator.preview_pose(portrait_path, driving_path, out_dir=tmp_path)
    poses = result.retargeted.poses
    assert (poses.width, poses.height) == (512, 512)  # portrait pixels
    assert len(poses) == 100 and result.retargeted.lead_in == 0  # no lead-in by default
    assert poses.present().all()
    assert result.first_frame.shape == (512, 512, 3)
    assert PoseSequence.load(result.poses_file).keypoints.shape == poses.keypoints.shape
    assert any("upper body" in n for n in result.notices)  # the astronaut shows no legs
    assert probe_video(result.video).has_audio


def test_pose_cache_skips_detection_on_rerun(portrait_path, driving_path, tmp_path,
                                             monkeypatch):
    animator = Animator(pose_backend="mediapipe", pose_store=None)  # memory only: counted
    animator.preview_pose(portrait_path, driving_path, out_dir=tmp_path / "a", end=2.0)
    calls = []
    original = animator.detector.detect_video
    monkeypatch.setattr(animator.detector, "detect_video",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    result = animator.preview_pose(portrait_path, driving_path, out_dir=tmp_path / "b",
                                   end=2.0,
                                   retarget_config=RetargetConfig(transition=0, smoothing=0))
    assert calls == [] and result.retargeted.lead_in == 0
    animator.preview_pose(portrait_path, driving_path, out_dir=tmp_path / "c", start=1.0,
                          end=2.0)
    assert calls == [1]  # another part of the video is detected anew


def test_a_portrait_is_detected_once(portrait_path, monkeypatch):
    """The page's person choice, preview and animation of one portrait share its pose."""
    animator = Animator(pose_backend="mediapipe", pose_store=None)
    image = animator.read_portrait(portrait_path)
    calls = []
    original = animator.detector.detect_image
    monkeypatch.setattr(animator.detector, "detect_image",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    first, notices = animator.portrait_pose(image)
    again, notices_again = animator.portrait_pose(image.copy())
    assert calls == [1] and again is first and notices_again == notices
    notices_again.append("a caller's own note")  # the remembered notices are not shared
    assert animator.portrait_pose(image)[1] == notices
    animator.portrait_pose(np.ascontiguousarray(image[:, ::-1]))  # another picture
    assert calls == [1, 1]


def test_video_without_a_person_is_refused(animator, portrait_path, tmp_path):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (128, 128, 3), dtype=np.uint8) for _ in range(10)]
    empty = write_video(frames, tmp_path / "noise.mp4", 10.0)
    with pytest.raises(InputError, match="No person found in any frame"):
        animator.preview_pose(portrait_path, empty, out_dir=tmp_path)


def test_pose_file_as_driving_input(animator, portrait_path, tmp_path):
    saved = animator.preview_pose(portrait_path, "walk", out_dir=tmp_path / "a")
    driver = saved.driving.poses.save(tmp_path / "walk.npz")
    again = animator.preview_pose(portrait_path, driver, out_dir=tmp_path / "b")
    np.testing.assert_allclose(again.retargeted.poses.keypoints, saved.retargeted.poses.keypoints)


def test_unknown_driving_and_bad_pose_file(animator, portrait_path, tmp_path):
    with pytest.raises(InputError, match="neither a file nor a built-in motion"):
        animator.preview_pose(portrait_path, "moonwalk", out_dir=tmp_path)
    broken = tmp_path / "poses.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="The pose file poses.json is not valid JSON"):
        animator.preview_pose(portrait_path, broken, out_dir=tmp_path)


def test_long_video_is_cut_with_a_notice(portrait_path, driving_path, tmp_path):
    short = Animator(pose_backend="mediapipe", limits=InputLimits(max_duration=2.0))
    result = short.preview_pose(portrait_path, driving_path, out_dir=tmp_path)
    assert len(result.driving.poses) == 50
    assert any("2.0 s" in n for n in result.notices)


def test_generation_is_deterministic_for_a_seed(portrait_path, tmp_path):
    from animator.video import iter_video

    tiny = Animator("tiny", device="cpu", pose_backend="mediapipe")
    runs = [tiny.animate(portrait_path, "wave", fps=4, end=1.0, comparison=False,
                         generation={"seed": 5, "num_inference_steps": 2},
                         out_dir=tmp_path / str(i)) for i in range(2)]
    first, second = (np.stack(list(iter_video(r.video))) for r in runs)
    np.testing.assert_array_equal(first, second)
    other = tiny.animate(portrait_path, "wave", fps=4, end=1.0, comparison=False,
                         generation={"seed": 6, "num_inference_steps": 2},
                         out_dir=tmp_path / "other")
    assert not np.array_equal(np.stack(list(iter_video(other.video))), first)


def test_pose_file_gets_the_limits_and_notices_of_a_video(tmp_path):
    """A 2000 s pose file is cut like a 2000 s video: same duration cap, same words."""
    from animator.config import InputLimits
    from animator.pose.motions import make_motion

    long = make_motion("walk", seconds=4, fps=25)
    long = PoseSequence(np.tile(long.keypoints, (500, 1, 1)), long.width, long.height, 25)
    assert len(long) == 50_000
    path = long.save(tmp_path / "long.npz")
    animator = Animator(device="cpu", limits=InputLimits(max_duration=20, max_frames=600))
    drive = animator.driving_poses(path)
    assert len(drive.poses) == 500 and drive.poses.fps == 25
    assert any("Used the first 20.0 s of a 2000.0 s pose file (max duration setting)" in n
               for n in drive.notices), drive.notices
    fast = PoseSequence(long.keypoints[:1200], long.width, long.height, 60).save(
        tmp_path / "fast.npz")
    drive = animator.driving_poses(fast, start=2.0, end=6.0)
    assert drive.poses.fps == 30 and len(drive.poses) == 120  # max fps, then [2 s, 6 s)
    np.testing.assert_array_equal(drive.poses.keypoints[0], long.keypoints[120])
    assert any("from 60 to 30 frames per second" in n for n in drive.notices)
    capped = Animator(device="cpu", limits=InputLimits(max_frames=50)).driving_poses(path)
    assert len(capped.poses) == 50 and any("Kept the first 50 frames" in n
                                           for n in capped.notices)


def test_progress_counts_steps_and_windows(tmp_path, portrait_path):
    """"step s/S, window w/W": steps as the user set them, windows as planned."""
    seen = []
    animator = Animator(device="cpu")
    animator.animate(portrait_path, "wave", generation={"num_inference_steps": 2, "window": 4,
                                                        "overlap": 1},
                     retarget_config=RetargetConfig(transition=0), fps=4, end=2.0,
                     out_dir=tmp_path, comparison=False,
                     progress=lambda f, desc: seen.append(desc))
    steps = [d for d in seen if d.startswith("Generating")]
    assert steps[0].startswith("Generating: step 1/2, window 1/3")
    assert steps[-1].startswith("Generating: step 2/2, window 3/3") and len(steps) == 6


def test_no_face_found_sends_zeros_with_identity_on(portrait_path, tmp_path, monkeypatch):
    """StableAnimator's inference (and its training loader): no face found -> the embedding
    is np.zeros((512,)), which goes through the face encoder; identity attention stays on.
    The user is told; the settings record holds every generation setting used."""
    from animator.face import NO_FACE_NOTICE
    from animator.families.svd.models.unet import identity_processors

    tiny = Animator("tiny", device="cpu", pose_backend="mediapipe")
    loaded = tiny.load()

    class NoFace:  # a face model that finds no face
        def embed_with_notice(self, image):
            return None, NO_FACE_NOTICE

    monkeypatch.setattr(loaded, "face", NoFace())
    seen = []
    context = loaded.pipeline._context

    def spy(clip, face_embedding, identity_strength):
        out = context(clip, face_embedding, identity_strength)
        strengths = {p.strength for p in identity_processors(loaded.pipeline.unet).values()}
        seen.append((face_embedding, strengths))
        return out

    monkeypatch.setattr(loaded.pipeline, "_context", spy)
    result = tiny.animate(portrait_path, "wave", fps=4, end=0.5, comparison=False,
                          generation={"num_inference_steps": 1, "window_noise": "repeat",
                                      "sigma_schedule": "ays"}, out_dir=tmp_path)
    (embedding, strengths), = seen
    assert isinstance(embedding, np.ndarray) and embedding.shape == (512,)
    assert not embedding.any() and strengths == {1.0}
    assert NO_FACE_NOTICE in result.notices
    assert {k: result.settings[k] for k in ("window_noise", "generator_device",
                                            "sigma_schedule", "decode_chunk_size")} == \
        {"window_noise": "repeat", "generator_device": "cpu", "sigma_schedule": "ays",
         "decode_chunk_size": 4}
