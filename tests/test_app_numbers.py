"""Numbers through the API (gradio_client, on the shared in-process server): text,
infinity, NaN and out-of-range values get our message naming the field, never Gradio's
"Could not preprocess", and nothing runs."""

from __future__ import annotations

import pytest
from gradio_client import Client, handle_file

import app


@pytest.fixture(scope="module")
def client(app_url):
    return Client(app_url, verbose=False)


def call(client, portrait, api_name="/extract_pose", **options):
    defaults = dict(preset="tiny", fps=5, steps=1, transition=0.0) \
        if api_name == "/animate" else {}
    return client.predict(portrait=handle_file(str(portrait)), video=None, motion="wave",
                          api_name=api_name, **{**defaults, **options})


@pytest.mark.parametrize("options, words", [
    ({"person": "abc"}, "Person in the portrait (0 = the largest): must be a number, "
                        "got 'abc'"),
    ({"person": "inf"}, "Person in the portrait (0 = the largest): must be a finite number"),
    ({"driving_person": "-Infinity"}, "Person in the driving video (0 = the largest): must "
                                      "be a finite number"),
    ({"person": -1}, "must be at least 0, got -1"),
    ({"start": "nan"}, "Start (s): must be a finite number"),
    ({"transition": "abc"}, "must be a number, got 'abc'"),
])
def test_bad_numbers_of_the_pose_endpoint_name_the_field(client, portrait_path, options,
                                                         words):
    with pytest.raises(Exception) as error:
        call(client, portrait_path, **options)
    assert words in str(error.value) and "preprocess" not in str(error.value)


@pytest.mark.parametrize("options, words", [
    ({"seed": 1e30}, "Setting 'seed' must be at most 4294967295"),
    ({"seed": "inf"}, "Seed: must be a finite number"),
    ({"fps": "nan"}, "Output frames per second: must be a finite number"),
    ({"min_guidance": "nan"}, "must be a finite number"),
])
def test_bad_numbers_of_the_animate_endpoint_name_the_field(client, portrait_path, options,
                                                            words):
    jobs = app.animator.work_dir / "jobs"
    before = set(jobs.iterdir()) if jobs.is_dir() else set()
    with pytest.raises(Exception) as error:
        call(client, portrait_path, api_name="/animate", **options)
    assert words in str(error.value) and "preprocess" not in str(error.value)
    assert (set(jobs.iterdir()) if jobs.is_dir() else set()) == before  # nothing ran


def test_numbers_given_as_text_still_work(client, portrait_path):
    *_, notes = call(client, portrait_path, person="0", transition="0")
    assert "Body scale" in notes


def test_launch_limits_must_be_finite(monkeypatch, capsys):
    for argv in (["--max-duration", "nan"], ["--max-upload-mb", "inf"], ["--max-duration", "0"]):
        with pytest.raises(SystemExit) as stop:
            app.parse_args(argv)
        assert stop.value.code == 2
        assert "must be a finite number above 0" in capsys.readouterr().err
    monkeypatch.setenv("ANIMATOR_MAX_DURATION", "nan")
    with pytest.raises(SystemExit):
        app.parse_args([])
    monkeypatch.setenv("ANIMATOR_MAX_DURATION", "7")
    assert app.parse_args([]).max_duration == 7.0
