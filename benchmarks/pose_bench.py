"""Speed figures of the pose stage.

Every `bench_*` function in this file returns rows (name, value, unit, target); running the
file calls each of them in the order they are defined and prints one table. To add a
figure, add a `bench_*` function (no registration needed).

    .venv/bin/python benchmarks/pose_bench.py                   # all
    .venv/bin/python benchmarks/pose_bench.py render mediapipe  # some

Times are medians of repeated runs after a warm-up. The machine may be shared, so each
bench also reports a ratio against a baseline run in the same process where it has one.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from animator.config import RetargetConfig  # noqa: E402
from animator.pose import retarget as rt  # noqa: E402
from animator.pose.skeleton import BONES, NUM_KEYPOINTS, PoseSequence, missing_pose  # noqa: E402

Row = tuple[str, float, str, str]


def timed(fn: Callable[[], object], repeats: int = 7) -> float:
    """Median seconds of fn() over `repeats` runs, after one warm-up run."""
    fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


# Bone lengths in torso lengths (neck to hip) by child joint, and a standing pose's angles
# (image coordinates, y down); the person faces the camera.
_LENGTHS = {0: 0.4, 2: 0.36, 5: 0.36, 3: 0.55, 6: 0.55, 4: 0.48, 7: 0.48, 8: 1.0, 11: 1.0,
            9: 0.85, 12: 0.85, 10: 0.85, 13: 0.85, 14: 0.08, 15: 0.08, 16: 0.14, 17: 0.14,
            18: 0.3, 19: 0.28, 20: 0.13, 21: 0.3, 22: 0.28, 23: 0.13}  # fmt: skip
_ANGLES = {0: -1.57, 2: 3.14, 5: 0.0, 3: 1.72, 6: 1.42, 4: 1.67, 7: 1.47, 8: 1.74, 11: 1.4,
           9: 1.6, 12: 1.54, 10: 1.57, 13: 1.57, 14: -2.47, 15: -0.67, 16: 3.14, 17: 0.0,
           18: 0.94, 19: 0.54, 20: 1.94, 21: 2.2, 22: 2.6, 23: 1.2}  # fmt: skip


def synthetic_pose_sequence(frames: int, seed: int = 0, size: int = 720) -> PoseSequence:
    """A dancing whole-body skeleton as a detector would give it (torso 0.2 x the image,
    limbs swinging at up to 0.6 Hz): noise of 1 % of the torso, 2 % of the points dropped,
    2 % of the frames empty."""
    rng = np.random.default_rng(seed)
    torso = 0.2 * size
    t = np.arange(frames) / 25.0
    xy = np.full((frames, NUM_KEYPOINTS, 2), np.nan)
    xy[:, 1, 0] = size / 2 + 0.1 * size * np.sin(2 * np.pi * 0.1 * t)
    xy[:, 1, 1] = size / 4 + 0.02 * size * np.sin(2 * np.pi * 1.2 * t)
    for parent, child in BONES:
        swing = 0.8 if child in (3, 4, 6, 7) else 0.3
        a = _ANGLES[child] + swing * np.sin(2 * np.pi * 0.6 * t + rng.uniform(0, 2 * np.pi))
        length = torso * _LENGTHS[child]
        xy[:, child] = xy[:, parent] + length * np.stack([np.cos(a), np.sin(a)], -1)
    for start, stop, anchor, spread in ((24, 92, 0, 0.12), (92, 113, 7, 0.08),
                                        (113, 134, 4, 0.08)):  # fmt: skip
        offsets = rng.normal(0, spread * torso, (stop - start, 2))
        xy[:, start:stop] = xy[:, anchor, None] + offsets
    xy += rng.normal(0, 0.01 * torso, xy.shape)
    kp = np.concatenate([xy, np.full((frames, NUM_KEYPOINTS, 1), 0.9)], -1).astype(np.float32)
    kp[rng.random((frames, NUM_KEYPOINTS)) < 0.02] = (np.nan, np.nan, 0.0)
    empty = rng.choice(frames, frames // 50, replace=False)
    kp[empty] = missing_pose(len(empty))
    return PoseSequence(kp, size, size, 25.0)


def _per_frame_rebuild(root, vec, r):
    """Baseline: the same rebuild as `rt.compose` written as the usual loop per frame and
    bone (what public retargeting scripts do)."""
    out = np.full_like(vec, np.nan)
    for t in range(vec.shape[-1]):
        pos = {1: root[:, t]}
        for level in rt.LEVELS:
            for j in level:
                pos[j] = pos[rt.PARENT[j]] + r[j] * vec[:, j, t]
                out[:, j, t] = pos[j]
    return out


def bench_retarget() -> list[Row]:
    """Retargeting with smoothing and lead-in (the app's defaults), against the 50k
    frames/s target; the rebuild step alone against a per-frame loop."""
    portrait = synthetic_pose_sequence(1, seed=1, size=1024)
    config = RetargetConfig()
    rows = []
    for frames in (600, 6000):
        driver = synthetic_pose_sequence(frames)
        seconds = timed(lambda d=driver: rt.retarget(d, portrait, config), repeats=9)
        rows.append((f"retarget + smoothing, {frames} frames", frames / seconds, "frames/s",
                     ">= 50000"))  # fmt: skip

    driver = synthetic_pose_sequence(600)
    xy, _ = rt.visible(driver.keypoints, config)
    root = rt.root_positions(xy, np.full(xy.shape[-1], 100.0))
    vec, _ = rt.decompose(xy, root)
    seen = ~np.isnan(xy[0])
    r = np.full(NUM_KEYPOINTS, 1.2)
    w = np.ones(NUM_KEYPOINTS)
    fast = timed(lambda: rt.compose(root, vec, seen, r, w))
    slow = timed(lambda: _per_frame_rebuild(root, vec, r), repeats=3)
    rows.append(("rebuild (compose), 600 frames", 600 / fast, "frames/s", ""))
    rows.append(("rebuild vs per-frame loop", slow / fast, "x faster", "> 1"))
    return rows


def bench_render() -> list[Row]:
    """Skeleton maps at 576x1024 (the generator's portrait size) against the 300 frames/s
    target; baseline: the same limbs drawn the common way, one full-image blend per limb."""
    import cv2

    from animator.pose.motions import make_motion
    from animator.pose.render import draw_dense, draw_pose, render_sequence
    from animator.pose.skeleton import DRAW_COLORS, DRAW_LIMBS

    poses = make_motion("dance", seconds=4.0, width=576, height=1024)
    frames = list(poses.keypoints)

    def naive(pose):
        canvas = np.zeros((1024, 576, 3), np.uint8)
        for (a, b), color in zip(DRAW_LIMBS, DRAW_COLORS, strict=False):
            layer = canvas.copy()
            cv2.line(layer, tuple(int(v) for v in pose[a, :2]), tuple(int(v) for v in pose[b, :2]),
                     color, 8)
            canvas = cv2.addWeighted(canvas, 0.4, layer, 0.6, 0)
        return canvas

    n = len(frames)
    plain = timed(lambda: [draw_pose(p, 576, 1024) for p in frames], repeats=5)
    with_face = timed(lambda: [draw_pose(p, 576, 1024, face=True) for p in frames], repeats=5)
    conf = timed(lambda: list(render_sequence(poses, style="confidence", face=True)), repeats=5)
    dense = timed(lambda: [draw_dense(p, 576, 1024) for p in frames], repeats=5)
    baseline = timed(lambda: [naive(p) for p in frames], repeats=3)
    return [
        ("render skeleton 576x1024 (body+hands)", n / plain, "frames/s", ">= 300"),
        ("render skeleton 576x1024 (+face)", n / with_face, "frames/s", ">= 300"),
        ("render confidence style (+face)", n / conf, "frames/s", ""),
        ("render dense part map 576x1024", n / dense, "frames/s", ""),
        ("render vs per-limb full-image blend", baseline / plain, "x faster", "> 1"),
    ]


def _sway_frames(n: int, size: int = 512) -> list[np.ndarray]:
    """A real person (the astronaut photo) swaying, as video frames."""
    import cv2
    import skimage.data

    image = cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    frames = []
    for t in range(n):
        m = cv2.getRotationMatrix2D((size / 2, size * 0.75), 9 * np.sin(t / 8), 1.0)
        m[0, 2] += 18 * np.sin(t / 8)
        frames.append(cv2.warpAffine(image, m, (size, size), borderMode=cv2.BORDER_REFLECT101))
    return frames


def bench_mediapipe() -> list[Row]:
    """MediaPipe Holistic on 512-px frames: video (tracking) mode against the 15 frames/s
    target; baseline: every frame detected from scratch (still-image mode)."""
    from animator.pose.detect import MediaPipeDetector

    frames = _sway_frames(100)
    with MediaPipeDetector() as detector:
        video = timed(lambda: detector.detect_video(frames, 25.0, 512, 512), repeats=3)
        still = timed(lambda: [detector.detect_image(f) for f in frames[:30]], repeats=3)
    return [
        ("MediaPipe video mode, 512 px", len(frames) / video, "frames/s", ">= 15"),
        ("MediaPipe still-image mode, 512 px", 30 / still, "frames/s", ""),
        ("video mode vs still mode", (still / 30) / (video / len(frames)), "x faster", "> 1"),
    ]


OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")  # Debian's opencv-doc


def _clip_rows(name: str, poses, detect_s: float) -> list[Row]:
    """Per clip: frames with a person, frames passing the checks, parts dropped, and the
    checks' cost per frame against detection's."""
    from animator.pose.plausibility import check_poses

    _, report = check_poses(poses)
    check_s = timed(lambda: check_poses(poses), repeats=5)
    parts = ", ".join(f"{k} {v}" for k, v in report.dropped.items() if v)
    parts += f", jumps {report.jumps}" if report.jumps else ""
    n = len(poses)
    return [
        (f"{name}: frames with a person (of {n})", report.with_person, "frames", ""),
        (f"{name}: frames passing the checks", report.passed, "frames", ""),
        (f"{name}: frames that lost parts ({parts or 'none'})", report.touched, "frames", ""),
        (f"{name}: checks per frame", 1e3 * check_s / n, "ms", ""),
        (f"{name}: checks / detection time", 100 * check_s / detect_s, "%", "<= 5"),
    ]


def bench_real_media() -> list[Row]:
    """The opencv-doc sample media through MediaPipe (the offline default) as Animator
    reads them (640-px long side): the close-up Megamind.avi (all 270 frames), vtest.avi's
    first 10 s per chosen person (the baseline: Holistic on the whole frame, as before
    pedestrian boxes), and messi5.jpg as a portrait."""
    from animator.config import InputLimits
    from animator.pose.detect import MediaPipeDetector
    from animator.pose.skeleton import PoseSequence
    from animator.video import read_image, read_video

    if not OPENCV_DATA.is_dir():
        return [(f"real media SKIPPED: {OPENCV_DATA} missing (apt install opencv-doc)",
                 float("nan"), "", "")]
    limits = InputLimits(max_side=640)
    rows: list[Row] = []
    with MediaPipeDetector() as detector:
        clip = read_video(OPENCV_DATA / "Megamind.avi", limits=limits)
        h, w = clip.frames[0].shape[:2]
        start = time.perf_counter()
        poses = detector.detect_video(clip.frames, clip.fps, w, h)
        rows += _clip_rows("Megamind.avi", poses, time.perf_counter() - start)

        # at its own 720x528, a blurred second person shows in the background
        clip = read_video(OPENCV_DATA / "Megamind.avi", start=0.15,
                          limits=InputLimits(max_side=1024))
        h, w = clip.frames[0].shape[:2]
        for person in (0, 1):
            poses = detector.detect_video(clip.frames, clip.fps, w, h, person=person)
            rows.append((f"Megamind.avi 720 px, person {person}: frames with the person "
                         f"(of {len(poses)})", poses.present().sum(), "frames", ""))

        clip = read_video(OPENCV_DATA / "vtest.avi", end=10.0, limits=limits)
        h, w = clip.frames[0].shape[:2]
        n = len(clip.frames)
        people = len(detector.detect_people(clip.frames[0]))
        rows.append(("vtest.avi: people found in frame 0", people, "people", ""))
        with detector._open(static=False) as graph:  # the baseline: the whole frame only
            whole = sum(detector._process(graph, f) is not None for f in clip.frames)
        rows.append((f"vtest.avi, whole-frame Holistic (before): frames with a person (of {n})",
                     whole, "frames", ""))
        for person in range(min(people, 3)):
            start = time.perf_counter()
            poses = detector.detect_video(clip.frames, clip.fps, w, h, person=person)
            seconds = time.perf_counter() - start
            rows.append((f"vtest.avi person {person}: detection rate", 100 * poses.present().mean(),
                         "%", ""))
            rows.append((f"vtest.avi person {person}: detection per frame", 1e3 * seconds / n,
                         "ms", ""))
            rows += _clip_rows(f"vtest.avi person {person}", poses, seconds)

        image = read_image(OPENCV_DATA / "messi5.jpg")
        start = time.perf_counter()
        pose, count = detector.detect_image(image)
        seconds = time.perf_counter() - start
        rows.append(("messi5.jpg: people found", count, "people", ""))
        rows += _clip_rows("messi5.jpg", PoseSequence(pose[None], image.shape[1],
                                                      image.shape[0]), seconds)
    return rows


def bench_end_to_end() -> list[Row]:
    """A 10 s, 30 fps, 512-px driving clip with audio, uploaded to a local app server with
    gradio_client, to the preview video downloaded: against the 30 s target."""
    import os
    import subprocess
    import tempfile

    import imageio_ffmpeg

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client, handle_file

    import app
    from animator.config import InputLimits
    from animator.video import write_video

    with tempfile.TemporaryDirectory() as tmp:
        tone = Path(tmp) / "tone.m4a"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi",
                        "-i", "sine=f=440:d=10", "-c:a", "aac", str(tone)], check=True)
        clip = write_video(_sway_frames(300), Path(tmp) / "drive.mp4", 30.0, audio=tone)
        portrait = Path(__file__).resolve().parents[1] / "assets/portraits/astronaut.jpg"
        _, url, _ = app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True,
                                    quiet=True, **app.launch_kwargs(InputLimits()))
        try:
            client = Client(url, verbose=False)
            def run():
                app.animator.clear_pose_cache()  # measure detection every time
                client.predict(portrait=handle_file(str(portrait)), video=handle_file(str(clip)),
                               api_name="/extract_pose")

            seconds = timed(run, repeats=3)
        finally:
            app.demo.close()
    return [("10 s 30 fps clip: upload -> preview video", seconds, "s", "<= 30")]


def main() -> None:
    wanted = sys.argv[1:]  # e.g. `pose_bench.py render mediapipe` runs only those two
    benches = [f for name, f in list(globals().items()) if name.startswith("bench_")
               and (not wanted or name.removeprefix("bench_") in wanted)]
    rows: list[Row] = []
    for bench in benches:
        try:
            rows.extend(bench())
        except Exception as e:  # one broken bench must not hide the others
            rows.append((f"{bench.__name__} FAILED: {e!r}", float("nan"), "", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'name':<{width}}  {'value':>12}  {'unit':<10}  target")
    for name, value, unit, target in rows:
        shown = f"{value:>12.1f}" if abs(value) >= 1 or value == 0 else f"{value:>12.3f}"
        print(f"{name:<{width}}  {shown}  {unit:<10}  {target}")


if __name__ == "__main__":
    main()
