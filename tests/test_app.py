"""The app as users reach it: a real in-process Gradio server driven by gradio_client."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

import app
from animator.video import probe_video


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def extract(client, portrait, video=None, motion=app.NO_MOTION, **options):
    """/extract_pose with keyword arguments, as the README shows; the rest take defaults."""
    return client.predict(portrait=handle_file(str(portrait)),
                          video=handle_file(str(video)) if video else None, motion=motion,
                          api_name="/extract_pose", **options)


def test_extract_pose_from_video_keeps_frames_and_audio(client, portrait_path, driving_path):
    video, first, poses_file, notes = extract(client, portrait_path, driving_path)
    info = probe_video(video)
    source = probe_video(driving_path)
    assert info.num_frames == source.num_frames  # no lead-in by default (as the public code)
    assert info.has_audio
    assert info.width > info.height  # driving | portrait side by side
    poses = json.loads(open(poses_file).read())
    assert len(poses["frames"]) == info.num_frames
    assert (poses["canvas_width"], poses["canvas_height"]) == (512, 512)  # portrait pixels
    assert first is not None and "Body scale" in notes
    # the page keeps its detections in the pose store too (README, "Command line")
    store = app.animator.pose_store
    assert store.folder == Path(os.environ["ANIMATOR_POSE_CACHE"])
    assert any(store.folder.glob("*.npz"))


def test_extract_pose_with_builtin_motion(client, portrait_path):
    video, _, _, notes = extract(client, portrait_path, motion="wave", transition=0)
    info = probe_video(video)
    assert info.num_frames == 100 and not info.has_audio  # 4 s at 25 fps, no soundtrack


def test_bad_video_gets_a_readable_error_and_server_keeps_serving(client, portrait_path,
                                                                  tmp_path, driving_path):
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(Exception, match="(?i)video") as error:
        extract(client, portrait_path, fake)
    assert "Traceback" not in str(error.value)
    video, *_ = extract(client, portrait_path, motion="squat")  # still serving
    assert probe_video(video).num_frames > 0


def test_portrait_without_a_person_is_refused(client, tmp_path, driving_path):
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((256, 256, 3), 200, np.uint8)).save(blank)
    with pytest.raises(Exception, match="No person found in the portrait"):
        extract(client, blank, motion="wave")


def test_missing_driving_input_is_explained(client, portrait_path):
    with pytest.raises(Exception, match="driving video or pick a built-in motion"):
        extract(client, portrait_path)


# --- generation (/animate) with the tiny preset -------------------------------------------

def animate_args(portrait, video=None, motion=app.NO_MOTION, **options) -> dict:
    """/animate keyword arguments: the tiny preset, 5 fps, 2 steps; built-in motions get no
    lead-in, so frame counts are exact."""
    defaults = dict(preset="tiny", fps=5, seed=7, steps=2, min_guidance=1.0, max_guidance=2.0,
                    transition=0.0 if video is None else 0.5)
    return dict(portrait=handle_file(str(portrait)),
                video=handle_file(str(video)) if video else None, motion=motion,
                api_name="/animate", **{**defaults, **options})


def job_dirs() -> set:
    jobs = app.animator.work_dir / "jobs"
    return set(jobs.iterdir()) if jobs.is_dir() else set()


def new_job_dirs(before: set) -> set:
    """Job folders made since `before` (each job also removes folders past their TTL, so
    earlier runs' folders may go meanwhile)."""
    return job_dirs() - before


def test_animate_from_video_has_frames_fps_and_audio(client, portrait_path, driving_path):
    video, comparison, seed, settings, poses_file, notes = client.predict(
        **animate_args(portrait_path, driving_path, transition=0.4))
    info = probe_video(video)
    assert info.fps == 5 and info.num_frames == 20 + 2  # 4 s at 5 fps + 0.4 s lead-in
    assert info.has_audio and abs(info.duration - 4.4) < 0.25
    assert (info.width, info.height) == (64, 64)  # the tiny preset's size
    assert probe_video(comparison).width == 3 * 64  # driving | skeleton | result
    assert seed == "7" and json.loads(settings)["num_inference_steps"] == 2
    assert len(json.loads(open(poses_file).read())["frames"]) == 22


def test_animate_motion_without_audio_and_random_seed(client, portrait_path):
    video, _, seed, settings, _, _ = client.predict(
        **animate_args(portrait_path, motion="wave", randomize_seed=True))
    info = probe_video(video)
    assert info.num_frames == 20 and not info.has_audio  # 4 s at 5 fps
    assert str(json.loads(settings)["seed"]) == seed


def test_two_users_at_once_both_complete(client, portrait_path):
    jobs = [client.submit(**animate_args(portrait_path, motion=m, steps=1))
            for m in ("squat", "walk")]
    for job in jobs:
        assert probe_video(job.result(timeout=300)[0]).num_frames == 20


def test_failed_job_leaves_no_files(client, portrait_path, tmp_path):
    before = job_dirs()
    with pytest.raises(Exception, match="(?i)multiples of 8|must be"):
        client.predict(**animate_args(portrait_path, motion="wave", resolution="60x60"))
    assert not new_job_dirs(before)


def test_cancel_stops_the_job_and_cleans_up(client, portrait_path):
    before = job_dirs()
    steps = []
    original = app.animator.animate

    def counting(*args, progress, **kwargs):
        return original(*args, progress=lambda f, d: (steps.append(d), progress(f, d)),
                        **kwargs)

    app.animator.animate = counting
    try:
        job = client.submit(**animate_args(portrait_path, motion="dance", steps=50, fps=10))
        deadline = time.time() + 120
        while not any(d.startswith("Generating") for d in steps) and time.time() < deadline:
            time.sleep(0.2)
        job.cancel()
        time.sleep(3)
        generated = sum(d.startswith("Generating") for d in steps)
        time.sleep(3)
        assert sum(d.startswith("Generating") for d in steps) == generated  # it really stopped
        assert generated < 50 * 7  # far from done
    finally:
        app.animator.animate = original
    assert not new_job_dirs(before)
    video, *_ = client.predict(**animate_args(portrait_path, motion="wave", steps=1))
    assert probe_video(video).num_frames == 20  # and the server still serves


def test_without_a_gpu_the_page_says_so_and_estimates_the_time():
    cpu = app.Animator(device="cpu")
    text = app.device_notice(cpu, "stableanimator")
    assert "needs a GPU" in text and "would take about" in text and "`tiny`" in text
    assert "noise" in app.device_notice(cpu, "tiny")


def test_command_line_flags():
    args = app.parse_args(["--port", "8080", "--host", "0.0.0.0", "--share", "--preset", "tiny",
                           "--device", "cpu", "--low-memory", "--max-duration", "7",
                           "--max-upload-mb", "50"])
    assert (args.port, args.host, args.share, args.preset, args.device, args.low_memory) == \
        (8080, "0.0.0.0", True, "tiny", "cpu", True)
    animator = app.make_animator(args)
    assert (animator.preset, animator.device, animator.low_memory) == ("tiny", "cpu", True)
    assert (animator.limits.max_duration, animator.limits.max_upload_mb) == (7, 50)
    assert app.launch_kwargs(animator.limits)["max_file_size"] == "50mb"


def test_preset_that_cannot_load_is_explained(client, portrait_path, monkeypatch, tmp_path):
    monkeypatch.setattr(app.animator, "weights_dir", tmp_path)  # an empty weights folder
    try:
        with pytest.raises(Exception, match="python -m animator download"):
            client.predict(**animate_args(portrait_path, motion="wave",
                                          preset="stableanimator"))
    finally:
        app.animator.use_preset("tiny")
    video, *_ = client.predict(**animate_args(portrait_path, motion="wave", steps=1))
    assert probe_video(video).num_frames == 20


def test_readme_api_script_runs_as_written(app_url, tmp_path):
    """The "Use via API" script of README.md, run verbatim against the local server."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    section = readme.split("## Use via API", 1)[1]
    script = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 'Client("http://127.0.0.1:7860/")' in script
    script_file = tmp_path / "api_client.py"
    script_file.write_text(script.replace("http://127.0.0.1:7860/", app_url))
    done = subprocess.run([sys.executable, str(script_file)], cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    video, seed = done.stdout.strip().splitlines()[-1].split()
    assert seed == "1234" and probe_video(video).fps == 10


def test_api_naming_another_preset_gets_its_defaults(monkeypatch, portrait_path):
    """Settings left at the page's values follow the named preset; explicit ones win."""
    from dataclasses import replace

    from animator.families.svd import presets

    tiny = presets.PRESETS["tiny"]
    other = replace(tiny, name="tiny3",
                    defaults=replace(tiny.defaults, num_inference_steps=3, window=6))
    monkeypatch.setitem(presets.PRESETS, "tiny3", other)
    demo = app.build_demo(app.Animator("tiny", device="cpu"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        client = Client(url, verbose=False)
        args = animate_args(portrait_path, motion="wave", preset="tiny3", end=1.0)
        for name in ("steps", "min_guidance", "max_guidance"):  # back to the page's values
            args.pop(name)
        settings = json.loads(client.predict(**args)[3])
        assert (settings["num_inference_steps"], settings["window"]) == (3, 6)
        settings = json.loads(client.predict(**{**args, "steps": 2})[3])
        assert settings["num_inference_steps"] == 2
    finally:
        demo.close()


def test_client_that_disconnects_stops_its_job(app_url, portrait_path, monkeypatch):
    """A client killed mid-job: the server notices (heartbeat), stops the generation at
    the next step, removes the job's files and keeps serving."""
    import subprocess
    import sys

    monkeypatch.setenv("GRADIO_HEARTBEAT_INTERVAL", "1")  # notice the loss within a second
    before = job_dirs()
    steps = []
    original = app.animator.animate

    def counting(*args, progress, **kwargs):
        return original(*args, progress=lambda f, d: (steps.append(d), progress(f, d)),
                        **kwargs)

    def generated():
        return sum(d.startswith("Generating") for d in steps)

    code = (f"from gradio_client import Client, handle_file\n"
            f"c = Client({app_url!r}, verbose=False)\n"
            f"c.submit(portrait=handle_file({str(portrait_path)!r}), motion='dance', "
            f"preset='tiny', steps=50, fps=10, api_name='/animate')\n"
            f"import time; time.sleep(300)\n")
    app.animator.animate = counting
    client = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 120
        while not generated() and time.time() < deadline:
            time.sleep(0.2)
        client.kill()
        client.wait()
        time.sleep(6)
        stopped_at = generated()
        time.sleep(3)
        assert generated() == stopped_at < 50 * 7  # it stopped, far from done
    finally:
        client.kill()
        app.animator.animate = original
    assert not new_job_dirs(before)


# --- the API as a script author calls it (issue 9, section 3) ------------------------------

def test_portrait_and_video_are_the_first_two_parameters(client, portrait_path, driving_path):
    for endpoint in ("/extract_pose", "/animate"):
        params = client.view_api(return_format="dict", print_info=False)[
            "named_endpoints"][endpoint]["parameters"]
        assert [p["parameter_name"] for p in params[:2]] == ["portrait", "video"]
        assert all(p["parameter_has_default"] for p in params[1:])
    preview, *_ = client.predict(handle_file(str(portrait_path)),
                                 handle_file(str(driving_path)), api_name="/extract_pose")
    assert probe_video(preview).has_audio
    video, _, seed, settings, _, notes = client.predict(
        handle_file(str(portrait_path)), handle_file(str(driving_path)), api_name="/animate")
    assert probe_video(video).has_audio and str(json.loads(settings)["seed"]) == seed


def test_every_output_has_a_name_and_motion_a_real_none(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for endpoint, names in (("/extract_pose", ["Pose preview: driving, retargeted",
                                               "First retargeted frame over the portrait",
                                               "Retargeted poses (JSON)", "Notes"]),
                            ("/animate", ["Animation", "Side by side: driving, skeleton, result",
                                          "Seed used", "Settings used",
                                          "Retargeted poses (JSON)", "Notes"])):
        assert [r["label"] for r in api[endpoint]["returns"]] == names
        motion = next(p for p in api[endpoint]["parameters"] if p["parameter_name"] == "motion")
        assert motion["parameter_default"] == "none" and "none" in motion["type"]["enum"]


def test_server_started_with_a_local_preset_offers_it(tmp_path, portrait_path):
    from animator.families.svd.models.tiny import tiny_pipeline

    folder = tmp_path / "mine"
    tiny_pipeline(random_init=True).save_pretrained(folder)
    local = f"local:{folder}"
    demo = app.build_demo(app.Animator(local, device="cpu"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        c = Client(url, verbose=False)
        params = c.view_api(return_format="dict", print_info=False)[
            "named_endpoints"]["/animate"]["parameters"]
        preset = next(p for p in params if p["parameter_name"] == "preset")
        assert preset["parameter_default"] == local and local in preset["type"]["enum"]
        video, _, _, settings, _, _ = c.predict(portrait=handle_file(str(portrait_path)),
                                                motion="wave", end=1, fps=5, steps=1,
                                                transition=0, resolution="64x64",
                                                api_name="/animate")
        assert json.loads(settings)["preset"] == local and probe_video(video).num_frames == 5
    finally:
        demo.close()


def test_mcp_flag_serves_the_endpoints_as_tools():
    import asyncio

    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    args = app.parse_args(["--mcp"])
    assert args.mcp
    demo = app.build_demo(app.Animator("tiny", device="cpu"))
    _, url, _ = demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                            **app.launch_kwargs(app.InputLimits(), mcp=args.mcp))

    async def tools() -> dict:
        async with streamablehttp_client(f"{url}gradio_api/mcp/") as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return {t.name: t for t in (await session.list_tools()).tools}

    try:
        listed = asyncio.run(tools())
        animate = next(t for name, t in listed.items() if name.endswith("animate"))
        assert {"portrait", "video", "motion", "preset"} <= set(
            animate.inputSchema["properties"])
        assert any(name.endswith("extract_pose") for name in listed)
    finally:
        demo.close()


# --- the page's behaviour behind its widgets (issue 9, section 4) --------------------------

def _png16(path, image: np.ndarray) -> None:
    """A 16-bit RGB PNG (Pillow cannot write one; OpenCV can, in BGR order)."""
    import cv2

    cv2.imwrite(str(path), (image[..., ::-1].astype(np.uint16) * 257))


def test_unreadable_portraits_get_our_message(client, tmp_path, portrait_path):
    text = tmp_path / "photo.png"
    text.write_text("not a picture")
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path in (text, pdf, empty):
        with pytest.raises(Exception) as error:
            extract(client, path, motion="wave")
        message = str(error.value)
        assert "upload a JPEG, PNG or WebP photo" in message or "damaged" in message, message
        assert "/tmp" not in message and "gradio" not in message.lower()


def test_16_bit_png_portrait_gives_the_same_poses(client, tmp_path, portrait_path):
    image = np.asarray(Image.open(portrait_path).convert("RGB"))
    deep = tmp_path / "deep.png"
    _png16(deep, image)
    *_, notes8 = extract(client, portrait_path, motion="wave", transition=0)
    *_, notes16 = extract(client, deep, motion="wave", transition=0)
    scale = [line for line in notes8.splitlines() if "Body scale" in line]
    assert scale and scale == [line for line in notes16.splitlines() if "Body scale" in line]


def test_tiny_preset_without_a_gpu_says_there_is_no_gpu():
    text = app.device_notice(app.Animator(device="cpu"), "tiny")
    assert "No GPU here" in text and "would take about" in text and "noise" in text


def test_notices_belong_to_their_job(client, portrait_path):
    *_, notes = client.predict(**animate_args(portrait_path, motion="wave", steps=1))
    assert "No face model" in notes  # the tiny preset has none: said for the generation...
    *_, pose_notes = extract(client, portrait_path, motion="wave")
    assert "No face model" not in pose_notes  # ...and not for a later pose preview


def test_video_and_motion_both_given_says_which_ran(client, portrait_path, driving_path):
    video, *_, notes = client.predict(**animate_args(portrait_path, driving_path,
                                                     motion="wave", steps=1))
    assert "animated 'wave'" in notes and not probe_video(video).has_audio


def test_user_errors_log_one_line_not_a_traceback(client, portrait_path, tmp_path, capfd):
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video")
    capfd.readouterr()
    with pytest.raises(Exception, match="(?i)video"):
        extract(client, portrait_path, fake)
    time.sleep(0.5)
    logged = capfd.readouterr()
    assert "Traceback" not in logged.err + logged.out


def test_custom_resolution_has_an_upper_bound(client, portrait_path):
    with pytest.raises(Exception, match="2048"):
        client.predict(**animate_args(portrait_path, motion="wave", resolution="4096x4096"))


def test_person_choice_through_the_api(client, portrait_path):
    with pytest.raises(Exception, match="(?i)person 3") as error:
        extract(client, portrait_path, motion="wave", person=3)
    assert "0" in str(error.value)  # the numbers that exist
    *_, notes = extract(client, portrait_path, motion="wave", person=0, driving_person=0)
    assert "Body scale" in notes
