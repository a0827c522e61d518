"""`animator.evaluate` and `python -m animator evaluate`, on answers known in advance.

Pure metric functions get exact answers (a pose shifted by a known amount, a known jitter,
a known pixel offset); the streamed evaluation gets real footage (the example driving video
and its real MediaPipe poses) against itself, shifted by a frame, with flicker injected;
identity uses the tiny insightface stand-ins of test_face.py; LPIPS tiny random AlexNet
weights the test writes. The README's command lines run as subprocesses.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from animator.animate import Animator
from animator.cli import main
from animator.config import RetargetConfig
from animator.errors import InputError
from animator.evaluate import EvaluateConfig, evaluate_clip, make_target
from animator.evaluate.identity import IdentityScores
from animator.evaluate.lpips import load_lpips
from animator.evaluate.pixels import PixelScores
from animator.evaluate.pose import PARTS, body_sizes, keypoint_jitter, pose_accuracy
from animator.evaluate.runs import Run, evaluate_runs
from animator.evaluate.sync import RATE, audio_lag
from animator.evaluate.temporal import warping_error
from animator.face import FaceEmbedder
from animator.pose.motions import make_motion
from animator.pose.skeleton import FACE, L_HIP, NECK, R_HIP, PoseSequence
from animator.video import read_video, write_video
from tests.test_face import DET, red_face

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "animator", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


# --- pose accuracy: exact answers ----------------------------------------------------------


def _motion() -> PoseSequence:
    return make_motion("dance", seconds=2.0, fps=10, width=256, height=384)


def test_pose_against_itself_is_perfect():
    target = _motion()
    result = pose_accuracy(target, target)
    assert result.overall.error == 0 and result.overall.found == 1
    assert result.overall.pck == {"0.05": 1.0, "0.1": 1.0}
    assert all(p.pck["0.1"] == 1.0 for p in result.parts.values())
    assert result.lost_frames == [] and result.size_kind == "torso"
    assert np.all(result.frame_error == 0)


def test_pixel_shift_gives_its_share_of_the_torso():
    target = _motion()
    kind, sizes = body_sizes(target)
    torso = np.linalg.norm(target.xy[:, NECK] - target.xy[:, [R_HIP, L_HIP]].mean(axis=1), axis=1)
    assert kind == "torso"
    np.testing.assert_allclose(sizes, torso, rtol=1e-5)
    moved = target.copy()
    moved.keypoints[..., 0] += 0.07 * sizes[:, None]  # 7 % of each frame's torso, sideways
    result = pose_accuracy(target, moved)
    assert result.overall.error == pytest.approx(0.07, rel=1e-4)
    assert result.overall.pck == {"0.05": 0.0, "0.1": 1.0}


def test_frame_shift_moves_the_error_by_the_motion_between_frames():
    target = _motion()
    for k in (1, 2):
        result = pose_accuracy(target[:-k], target[k:])
        step = np.linalg.norm(target.xy[k:] - target.xy[:-k], axis=-1)  # (T-k, 134) pixels
        _, sizes = body_sizes(target[:-k])
        expected = (step / sizes[:, None]).mean()
        assert result.overall.error == pytest.approx(expected, rel=1e-5)
        for name, idx in PARTS.items():
            assert result.parts[name].error == pytest.approx(
                (step[:, idx] / sizes[:, None]).mean(), rel=1e-5)


def test_lost_frames_and_missing_points_are_misses():
    target = _motion()
    detected = target.copy()
    detected.keypoints[[3, 7]] = (np.nan, np.nan, 0.0)  # person lost in two frames
    detected.keypoints[:, FACE] = (np.nan, np.nan, 0.0)  # the face never found
    result = pose_accuracy(target, detected)
    assert result.lost_frames == [3, 7]
    T, visible = len(target), len(target) * 134
    found = (T - 2) * (134 - 68)
    assert result.overall.found == pytest.approx(found / visible)
    assert result.overall.pck["0.1"] == pytest.approx(found / visible)
    assert result.overall.error == 0  # the points found are exact
    assert result.parts["face"].found == 0 and result.parts["face"].error is None
    assert np.isnan(result.frame_error[3]) and result.frame_pck["0.1"][3] == 0


def test_upper_body_is_judged_by_head_size():
    target = _motion()
    target.keypoints[:, 8:14] = (np.nan, np.nan, 0.0)  # no hips, knees, ankles
    target.keypoints[:, 18:24] = (np.nan, np.nan, 0.0)
    kind, sizes = body_sizes(target)
    face = target.xy[:, FACE]
    diagonal = np.linalg.norm(face.max(axis=1) - face.min(axis=1), axis=1)
    assert kind == "head"
    np.testing.assert_allclose(sizes, diagonal, rtol=1e-5)


def test_jitter_of_alternating_noise_is_four_times_its_size():
    T = 12
    kp = np.zeros((T, 134, 3), np.float32)
    kp[..., 2] = 1.0
    kp[:, :, 0] = np.arange(T)[:, None] * 3.0 + 50  # straight, steady motion: no jitter
    kp[:, :, 1] = 100
    kp[:, NECK, 1], kp[:, [R_HIP, L_HIP], 1] = 50, 150  # torso 100 px
    steady = PoseSequence(kp, 400, 400, 10)
    sizes = body_sizes(steady)[1]
    assert keypoint_jitter(steady, sizes)[0] == pytest.approx(0, abs=1e-9)
    shaky = steady.copy()
    shaky.keypoints[:, :, 0] += np.where(np.arange(T) % 2, 2.0, -2.0)[:, None]
    # |(+d) - 2(-d) + (+d)| = 4d = 8 px on a 100 px torso
    assert keypoint_jitter(shaky, sizes)[0] == pytest.approx(0.08, rel=1e-4)


# --- pixels, flicker, audio: exact or known answers ------------------------------------------


def test_pixel_scores_known_answers():
    rng = np.random.default_rng(0)
    frame = rng.integers(20, 230, (48, 64, 3), dtype=np.uint8)
    scores = PixelScores()
    scores.add(frame, frame)
    assert scores.summary() == {"l1": 0.0, "psnr": math.inf, "ssim": 1.0, "frames": 1}
    scores = PixelScores()
    scores.add(frame + 10, frame)
    summary = scores.summary()
    assert summary["l1"] == pytest.approx(10 / 255)
    assert summary["psnr"] == pytest.approx(20 * math.log10(255 / 10))
    assert summary["ssim"] < 1


@pytest.fixture(scope="module")
def sway_frames(driving_path):
    return read_video(driving_path).frames


def test_flicker_zero_when_still_and_raised_by_injected_flicker(sway_frames):
    frames = sway_frames[:30]
    assert warping_error([frames[0]] * 5).mean == 0
    clean = warping_error(frames).mean
    pulsed = [np.clip(f.astype(np.int16) + (12 if i % 2 else -12), 0, 255).astype(np.uint8)
              for i, f in enumerate(frames)]
    flickered = warping_error(pulsed).mean
    assert clean < 6  # real, smooth footage: a few levels of flow error
    assert flickered > clean + 12  # a +-12 level pulse between frames shows up as ~24


def test_audio_lag_found_after_leading_silence():
    rng = np.random.default_rng(3)
    bursts = np.repeat(rng.random(400) ** 4, RATE // 100)  # 4 s of speech-like loudness
    driving = (rng.standard_normal(len(bursts)) * bursts).astype(np.float32)
    start, silence = 1.3, 0.2  # the clip plays the driving audio from 1.3 s, after 0.2 s
    clip = np.concatenate([np.zeros(int(silence * RATE), np.float32),
                           driving[int(start * RATE):int(3.5 * RATE)]])
    assert audio_lag(clip, driving) == pytest.approx(start - silence, abs=0.011)


# --- LPIPS with tiny random weights ----------------------------------------------------------


def _tiny_alexnet(folder: Path, widths=(4, 6, 5, 5, 3)) -> dict:
    torch.manual_seed(0)
    state, c_in = {}, 3
    for index, c_out, k in zip((0, 3, 6, 8, 10), widths, (11, 5, 3, 3, 3), strict=True):
        state[f"features.{index}.weight"] = torch.randn(c_out, c_in, k, k) * 0.1
        state[f"features.{index}.bias"] = torch.randn(c_out) * 0.1
        c_in = c_out
    lins = {f"lin{i}.model.1.weight": torch.rand(1, c, 1, 1) for i, c in enumerate(widths)}
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({**state, "classifier.1.weight": torch.zeros(2, 2)},
               folder / "alexnet-owt-7be5be79.pth")
    torch.save(lins, folder / "alex.pth")
    return {**state, **lins}


def _lpips_by_hand(state, a: np.ndarray, b: np.ndarray) -> float:
    shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
    scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)

    def feats(img):
        x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
        x = (x - shift) / scale
        out = []
        for i, (index, stride, pad) in enumerate(((0, 4, 2), (3, 1, 2), (6, 1, 1), (8, 1, 1),
                                                  (10, 1, 1))):
            x = F.relu(F.conv2d(x, state[f"features.{index}.weight"],
                                state[f"features.{index}.bias"], stride=stride, padding=pad))
            out.append(x)
            if i < 2:
                x = F.max_pool2d(x, 3, 2)
        return out

    total = 0.0
    for i, (fa, fb) in enumerate(zip(feats(a), feats(b), strict=True)):
        na = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
        nb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
        total += float(((na - nb) ** 2 * state[f"lin{i}.model.1.weight"]).sum(1).mean())
    return total


def test_lpips_with_tiny_weights_matches_the_formula(tmp_path):
    state = _tiny_alexnet(tmp_path / "lpips")
    model = load_lpips(tmp_path)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (96, 80, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 40, a.shape), 0, 255).astype(np.uint8)
    assert model.distance(a, a) == 0
    assert model.distance(a, b) == pytest.approx(_lpips_by_hand(state, a, b), rel=1e-4)
    assert model.distance(a, b) > 0


def test_lpips_refuses_clearly_without_or_with_bad_weights(tmp_path):
    with pytest.raises(InputError, match="alexnet-owt-7be5be79.pth"):
        load_lpips(tmp_path)
    folder = tmp_path / "lpips"
    _tiny_alexnet(folder)
    torch.save({"lin0.model.1.weight": torch.rand(1, 9, 1, 1)}, folder / "alex.pth")
    with pytest.raises(InputError, match="do not fit"):
        load_lpips(tmp_path)
    (folder / "alex.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="download it again"):
        load_lpips(tmp_path)


# --- whole clips: real footage, real detection ------------------------------------------------


@pytest.fixture(scope="module")
def animator():
    return Animator(device="cpu", pose_backend="mediapipe")


@pytest.fixture(scope="module")
def sway_poses(animator, sway_frames):
    """Real MediaPipe poses of the example driving video: the target of a perfect clip."""
    h, w = sway_frames[0].shape[:2]
    return animator.detector.detect_video(sway_frames, 25.0, w, h)


def test_real_clip_against_its_own_poses_and_itself_is_perfect(animator, sway_poses,
                                                                driving_path):
    target = make_target(animator, portrait=None, poses=sway_poses, fps=25.0)
    ev = evaluate_clip(driving_path, target, animator=animator, ground_truth=driving_path,
                       config=EvaluateConfig(identity=False))
    assert ev.frames == 100 and ev.pose.frames == 100
    assert ev.pose.overall.error == 0 and ev.pose.overall.pck["0.05"] == 1
    assert ev.pose.lost_frames == [] and ev.pose.overall.points > 100 * 50
    assert ev.pixels == {"l1": 0.0, "psnr": math.inf, "ssim": 1.0, "frames": 100}
    assert ev.jitter == pytest.approx(ev.target_jitter)
    assert ev.sync.duration_error == pytest.approx(0, abs=0.02) and ev.sync.has_audio
    row = ev.row()
    assert row["pck_0_1"] == 1 and row["psnr"] == math.inf
    assert json.loads(json.dumps(ev.to_dict()))["pixels"]["psnr"] == "inf"


def test_real_clip_one_frame_late_scores_the_motion_of_one_frame(animator, sway_poses,
                                                                 driving_path):
    late = PoseSequence(np.concatenate([sway_poses.keypoints[:1], sway_poses.keypoints[:-1]]),
                        sway_poses.width, sway_poses.height, sway_poses.fps)
    target = make_target(animator, portrait=None, poses=late, fps=25.0)
    ev = evaluate_clip(driving_path, target, animator=animator,
                       config=EvaluateConfig(identity=False))
    # The detector sees the same frames, so the error is exactly the target-vs-detected
    # distance of the shifted poses: the motion between consecutive frames.
    expected = pose_accuracy(late, sway_poses)
    assert ev.pose.overall.error == pytest.approx(expected.overall.error, rel=1e-6)
    kp = sway_poses.keypoints
    seen = (kp[:-1, :, 2] >= 0.3) & (kp[1:, :, 2] >= 0.3)  # in the target and detected
    step = np.linalg.norm(kp[1:, :, :2] - kp[:-1, :, :2], axis=-1)
    _, sizes = body_sizes(late)
    first = int((kp[0, :, 2] >= 0.3).sum())  # frame 0 is not shifted: error 0
    by_hand = (step / sizes[1:, None])[seen].sum() / (seen.sum() + first)
    assert ev.pose.overall.error == pytest.approx(by_hand, rel=1e-5)
    assert 0 < ev.pose.overall.error < 0.1 and ev.pose.overall.pck["0.05"] < 1


def test_self_driven_reconstruction_is_lined_up_with_its_ground_truth(tmp_path, animator,
                                                                      sway_frames,
                                                                      driving_path):
    """A perfect reconstruction: lead-in frames, then the driving frames cropped to the
    canvas as `Animator` crops the portrait. Lined up right it matches its ground truth
    up to H.264; one frame late it does not."""
    from PIL import Image

    from animator.framing import Framing

    portrait = tmp_path / "frame0.png"
    Image.fromarray(sway_frames[0]).save(portrait)
    target = make_target(animator, portrait=portrait, driving=driving_path, fps=25.0,
                         retarget_config=RetargetConfig(transition=0.5))
    assert target.lead_in > 0 and target.truth_start == 0
    framing = Framing.around((384, 384), (256, 384), target.person_x)
    body = [framing.image(f) for f in sway_frames[target.truth_start:]]
    body = body[: len(target.poses) - target.lead_in]
    lead = [np.zeros_like(body[0])] * target.lead_in
    right = write_video(lead + body, tmp_path / "right.mp4", 25.0, crf=12)
    late = write_video(lead + body[:1] + body[:-1], tmp_path / "late.mp4", 25.0, crf=12)
    config = EvaluateConfig(identity=False, pose=False)  # the pixels are what is checked
    good, bad = (evaluate_clip(clip, target, animator=animator, ground_truth=driving_path,
                               config=config) for clip in (right, late))
    assert good.pose is None and any("--no-pose" in n for n in good.notes)
    assert good.pixels["frames"] == len(body)
    assert np.isnan(good.per_frame["psnr"][: target.lead_in]).all()  # lead-in not scored
    assert good.pixels["psnr"] > 38 and good.pixels["ssim"] > 0.97
    assert bad.pixels["psnr"] < good.pixels["psnr"] - 8


# --- identity with the tiny face models --------------------------------------------------------


def checker_face(image, x, y, size):
    """Another "person" for the stand-in: still red on average (a face to its detector),
    but a checkerboard instead of noise, so the recogniser's features differ."""
    yy, xx = np.mgrid[0:size, 0:size]
    light = (yy // 16 + xx // 16) % 2 == 1
    image[y:y + size, x:x + size] = np.where(light[..., None], (255, 0, 120), (150, 120, 0))


def test_another_face_lowers_csim(model_files):
    embedder = FaceEmbedder(model_files, det_size=DET)
    portrait = np.zeros((256, 256, 3), np.uint8)
    red_face(portrait, 128, 64, 64, np.random.default_rng(1))
    other = np.zeros_like(portrait)
    checker_face(other, 128, 64, 64)
    scores = IdentityScores(embedder, embedder.embed(portrait))
    for frame in (portrait, portrait, other, np.zeros_like(portrait)):
        scores.add(frame)
    assert scores.csim[:2] == pytest.approx([1.0, 1.0], abs=1e-5)
    assert scores.csim[2] < 0.97  # the random stand-in recogniser keeps faces close
    summary = scores.summary(fps=1.0)
    assert summary["min"] == scores.csim[2] and summary["no_face"] == 1
    assert summary["drift_per_s"] < 0  # the face goes wrong later in the clip


def test_csim_through_a_written_clip(model_files, tmp_path, animator):
    """The portrait's face in a real H.264 clip scores above another face's clip."""
    rng = np.random.default_rng(1)
    portrait = np.zeros((256, 256, 3), np.uint8)
    red_face(portrait, 128, 64, 64, rng)
    other = np.zeros_like(portrait)
    checker_face(other, 128, 64, 64)
    same = write_video([portrait] * 6, tmp_path / "same.mp4", 6.0, crf=10)
    changed = write_video([other] * 6, tmp_path / "other.mp4", 6.0, crf=10)
    embedder = FaceEmbedder(model_files, det_size=DET)
    target = make_target(animator, portrait=None, poses=None, fps=6.0)
    target.portrait = portrait
    results = [evaluate_clip(clip, target, animator=animator, embedder=embedder)
               for clip in (same, changed)]
    assert results[0].identity["scored"] == 6
    assert results[0].identity["mean"] > 0.99
    assert results[1].identity["mean"] < results[0].identity["mean"] - 0.02


# --- refusals ----------------------------------------------------------------------------------


def test_refusals_say_what_to_do(tmp_path, animator, portrait_path, driving_path):
    run = Run(driving_path, "sway", portrait_path)
    with pytest.raises(InputError, match="--poses"):
        evaluate_runs([run], tmp_path, animator=animator)
    run.driving = str(driving_path)
    with pytest.raises(InputError, match="--identity-stride must be 1 or more"):
        evaluate_runs([run], tmp_path, animator=animator,
                      config=EvaluateConfig(identity_stride=0))
    with pytest.raises(InputError, match="FID compares with a ground truth"):
        evaluate_runs([run], tmp_path, animator=animator, config=EvaluateConfig(fid=True))
    with pytest.raises(InputError, match="pt_inception-2015-12-05-6726825d.pth"):
        evaluate_runs([run], tmp_path, animator=animator, ground_truth=driving_path,
                      config=EvaluateConfig(fid=True, weights_dir=str(tmp_path)))
    with pytest.raises(InputError, match="FVD compares with a ground truth"):
        evaluate_runs([run], tmp_path, animator=animator, config=EvaluateConfig(fvd=True))
    for protocol, name in (("standard", "i3d_torchscript.pt"), ("disco", "i3d_pretrained_400")):
        with pytest.raises(InputError, match=f"FVD \\({protocol} protocol\\) needs {name}"):
            evaluate_runs([run], tmp_path, animator=animator, ground_truth=driving_path,
                          config=EvaluateConfig(fvd=True, protocol=protocol,
                                                weights_dir=str(tmp_path)))
    with pytest.raises(InputError, match="resnet-50-kinetics.pth"):
        evaluate_runs([run], tmp_path, animator=animator, ground_truth=driving_path,
                      config=EvaluateConfig(fid_vid=True, weights_dir=str(tmp_path)))
    with pytest.raises(InputError, match="--ground-truth"):
        evaluate_runs([run], tmp_path, animator=animator, config=EvaluateConfig(lpips=True))
    with pytest.raises(InputError, match="lpips"):
        evaluate_runs([run], tmp_path, animator=animator, ground_truth=driving_path,
                      config=EvaluateConfig(lpips=True, weights_dir=str(tmp_path)))
    bad = tmp_path / "poses.json"
    bad.write_text("{")
    with pytest.raises(InputError, match="poses.json"):
        make_target(animator, portrait=portrait_path, poses=bad, fps=25)
    make_motion("wave", width=300, height=200).save(bad)
    with pytest.raises(InputError, match="300x200 portrait"):
        make_target(animator, portrait=portrait_path, poses=bad, fps=25)


# --- the command line, as the README shows it --------------------------------------------------

# The README section's command lines, verbatim (after `.venv/bin/python -m animator`).
def test_cli_driving_video_derives_target_and_checks_audio_sync(tmp_path, driving_path,
                                                                 portrait_path):
    clip = tmp_path / "sway.mp4"
    span = ["--start", "1", "--end", "2.5"]
    assert main(["animate", "--image", str(portrait_path), "--video", str(driving_path), *span,
                 "--preset", "tiny", "--fps", "10", "--out", str(clip)]) == 0
    assert main(["evaluate", str(clip), "--image", str(portrait_path), "--driving",
                 str(driving_path), *span, "--out-dir", str(tmp_path / "ev")]) == 0
    row = json.loads((tmp_path / "ev" / "metrics.json").read_text())[0]
    assert row["sync"]["has_audio"] and row["sync"]["audio_ok"]
    assert abs(row["sync"]["audio_lag_error"]) < 0.03, row["sync"]
    assert row["sync"]["duration_error"] == pytest.approx(0, abs=0.02)


def test_cli_bad_input_exits_2(tmp_path, driving_path, capsys):
    done = run_cli("evaluate", str(tmp_path / "missing.mp4"), "--poses", "x.json")
    assert done.returncode == 2 and "neither a video file nor a folder" in done.stderr
    assert main(["evaluate", str(driving_path), "--motion", "wave", "--fvd"]) == 2
    assert "FVD compares with a ground truth" in capsys.readouterr().err
    assert main(["evaluate", str(driving_path), "--jobs", "jobs.jsonl"]) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_no_pose_reads_the_frames_but_detects_nothing(tmp_path, monkeypatch):
    from animator.pose.detect import MediaPipeDetector

    def refuse(*args, **kwargs):
        raise AssertionError("the poses were detected")

    monkeypatch.setattr(MediaPipeDetector, "detect_video", refuse)
    monkeypatch.setenv("ANIMATOR_POSE_CACHE", "off")
    poses = make_motion("wave", seconds=0.8, fps=10.0, width=64, height=64)
    clip = write_video([np.full((64, 64, 3), 90, np.uint8)] * 8, tmp_path / "c.mp4", 10.0)
    poses.save(tmp_path / "c.json")
    assert main(["evaluate", str(clip), "--poses", str(tmp_path / "c.json"), "--no-pose",
                 "--no-identity", "--pose-backend", "mediapipe",
                 "--out-dir", str(tmp_path / "out")]) == 0
    (row,) = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert row["frames"] == 8 and row["pose"] is None
    assert any("--no-pose" in note for note in row["notes"])


# --- FID with tiny random weights ---------------------------------------------------------------


def test_frechet_distance_of_known_gaussians():
    from animator.evaluate.fid import frechet_distance

    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = 1 + 0 + 4 + np.sum(a + b - 2 * np.sqrt(a * b))
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def _tiny_inception(folder: Path):
    from animator.evaluate.fid import WEIGHTS, FIDInception

    torch.manual_seed(0)
    model = FIDInception(scale=1 / 16)
    with torch.no_grad():  # variance-keeping init, so 40 random layers still see the image
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.8, 1.2)
                module.bias.uniform_(-0.1, 0.1)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v for k, v in model.state_dict().items() if "num_batches" not in k}
    torch.save({**state, "fc.weight": torch.zeros(1008, model.features),
                "fc.bias": torch.zeros(1008)}, folder / WEIGHTS)
    return model


def test_fid_with_tiny_weights(tmp_path, sway_frames):
    from animator.evaluate.fid import fid, load_fid

    with pytest.raises(InputError, match="pt_inception-2015-12-05"):
        load_fid(tmp_path)
    original = _tiny_inception(tmp_path / "fid")
    model = load_fid(tmp_path)
    frame = sway_frames[0]
    # Loading folds batch norm into the convolutions: the same function, to float rounding.
    np.testing.assert_allclose(model.embed(frame), original.embed(frame), rtol=1e-4,
                               atol=1e-6)
    assert model.features == 128
    real = np.stack([model.embed(f) for f in sway_frames[:12]])
    noisy = np.stack([model.embed(np.clip(f.astype(int) + 60, 0, 255).astype(np.uint8))
                      for f in sway_frames[:12]])
    assert fid(real, noisy) > 1e-3 and abs(fid(real, real)) < 1e-6 * fid(real, noisy)


def test_fid_and_lpips_of_a_clip_against_itself_are_zero(tmp_path, animator, sway_poses,
                                                         driving_path):
    from animator.evaluate.fid import load_fid

    _tiny_inception(tmp_path / "fid")
    _tiny_alexnet(tmp_path / "lpips")
    clip = write_video(read_video(driving_path, end=0.6).frames, tmp_path / "short.mp4", 25)
    target = make_target(animator, portrait=None, poses=sway_poses[:15], fps=25.0)
    ev = evaluate_clip(clip, target, animator=animator, ground_truth=clip,
                       config=EvaluateConfig(identity=False), fid_model=load_fid(tmp_path),
                       lpips_model=load_lpips(tmp_path))
    assert ev.frames == 15 and ev.pixels["frames"] == 15
    assert ev.lpips == 0 and abs(ev.fid) < 1e-6
    assert {"fid", "lpips"} <= ev.row().keys()
