"""The app as users reach it: a real in-process Gradio server driven by gradio_client."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradio_client import Client, handle_file
from PIL import Image

import app
from animator.config import InputLimits
from animator.video import probe_video

RETARGET_DEFAULTS = dict(start=0, end=None, transition=0.5, smoothing=7, root_motion=1.0,
                         ground=True, start_at_closest=False, head=1.0, arms=1.0, legs=1.0,
                         hands=1.0)


@pytest.fixture(scope="module")
def client():
    _, url, _ = app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                                **app.launch_kwargs(InputLimits()))
    try:
        yield Client(url, verbose=False)
    finally:
        app.demo.close()


def extract(client, portrait, video=None, motion=app.NO_MOTION, **overrides):
    options = {**RETARGET_DEFAULTS, **overrides}
    return client.predict(
        handle_file(str(portrait)), handle_file(str(video)) if video else None, motion,
        *options.values(), api_name="/extract_pose",
    )


def test_extract_pose_from_video_keeps_frames_and_audio(client, portrait_path, driving_path):
    video, first, poses_file, notes = extract(client, portrait_path, driving_path)
    info = probe_video(video)
    source = probe_video(driving_path)
    lead_in = round(0.5 * source.fps)
    assert info.num_frames == source.num_frames + lead_in
    assert info.has_audio
    assert info.width > info.height  # driving | portrait side by side
    poses = json.loads(open(poses_file).read())
    assert len(poses["frames"]) == info.num_frames
    assert (poses["canvas_width"], poses["canvas_height"]) == (512, 512)  # portrait pixels
    assert first is not None and "Body scale" in notes


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
