"""The page's endpoints through gradio_client: a driving video with nobody in it refused
before any work, readable output names, and which frame rate is which."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.utils import sanitize_parameter_names

import app
from animator.video import VideoWriter


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def test_a_driving_video_with_nobody_is_refused_before_any_work(client, portrait_path,
                                                                tmp_path, monkeypatch):
    empty = tmp_path / "empty_room.mp4"
    with VideoWriter(empty, 10) as writer:
        for i in range(20):  # 2 s of a grey wall with a square moving across
            frame = np.full((256, 256, 3), 120, np.uint8)
            frame[100:140, 10 * i:10 * i + 40] = 200
            writer.write(frame)

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded for a video with nobody in it")

    monkeypatch.setattr(app.animator, "load", no_loading)
    started = time.perf_counter()
    with pytest.raises(Exception, match="No person found in the driving video") as error:
        client.predict(handle_file(str(portrait_path)), handle_file(str(empty)),
                       api_name="/animate")
    assert "built-in motion" in str(error.value) and time.perf_counter() - started < 30


def test_output_names_are_readable(client):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for endpoint in ("/extract_pose", "/animate"):
        names = [sanitize_parameter_names(r["label"]) for r in api[endpoint]["returns"]]
        assert all("__" not in n and n.strip("_") == n for n in names), names
    assert "side_by_side_driving_skeleton_result" in [
        sanitize_parameter_names(r["label"]) for r in api["/animate"]["returns"]]


def test_the_settings_say_which_frame_rate_is_which(client, portrait_path):
    *_, settings, _, _ = client.predict(handle_file(str(portrait_path)), motion="wave",
                                        steps=1, api_name="/animate")
    settings = json.loads(settings)
    assert "fps" not in settings and {"model_fps", "output_fps"} <= settings.keys()
    assert "output_fps: frames per second of the clip" in settings["about_fps"]
    assert "model_fps: SVD frame-rate conditioning" in settings["about_fps"]
