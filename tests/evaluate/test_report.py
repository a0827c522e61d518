"""The report: protocol named everywhere, every number explained with its better direction,
a pooled row like a paper's table, and an HTML page that fits a 390 px phone (a real
headless Chromium measures it)."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from animator.evaluate import EvaluateConfig, evaluate_clip, make_target
from animator.evaluate.report import POOLED, write_report
from animator.video import read_video, write_video

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory, driving_path):
    """Two clips (the example video and a noisier copy) against the example video, with
    the portrait (frame 0) for proportions, in DisCo's protocol."""
    from animator.animate import Animator

    folder = tmp_path_factory.mktemp("report")
    frames = read_video(driving_path, end=1.0).frames
    portrait = folder / "portrait.png"
    Image.fromarray(frames[0]).save(portrait)
    rng = np.random.default_rng(0)
    noisy = [np.clip(f.astype(int) + rng.integers(-20, 20, f.shape), 0, 255).astype(np.uint8)
             for f in frames]
    truth = write_video(frames, folder / "truth.mp4", 25.0, crf=12)
    clips = [truth, write_video(noisy, folder / "noisy.mp4", 25.0, crf=12)]
    animator = Animator(device="cpu", pose_backend="mediapipe")
    poses = animator.detector.detect_video(frames, 25.0, 384, 384)
    target = make_target(animator, portrait=portrait, poses=poses, fps=25.0)
    config = EvaluateConfig(identity=False, protocol="disco")
    return [evaluate_clip(c, target, animator=animator, ground_truth=truth, config=config)
            for c in clips]


def test_tables_name_the_protocol_and_pool_the_clips(evaluations, tmp_path):
    files = write_report(evaluations, tmp_path, names=["same", "noisy"])
    rows = list(csv.DictReader(open(files["csv"])))
    assert [r["name"] for r in rows] == ["same", "noisy", POOLED]
    assert {r["protocol"] for r in rows} == {"disco"}
    same, noisy = evaluations
    frames = same.pixels["frames"] + noisy.pixels["frames"]
    pooled_l1 = (same.pixels["l1"] * same.pixels["frames"]
                 + noisy.pixels["l1"] * noisy.pixels["frames"]) / frames
    assert float(rows[2]["l1"]) == pytest.approx(pooled_l1)
    assert float(rows[0]["psnr"]) == 100.0  # DisCo's identical frames (after lossless-ish H.264)
    detail = json.loads(files["json"].read_text())
    assert detail[0]["protocol"] == "disco" and detail[-1]["pooled"]
    assert detail[0]["proportions"]["finding"].startswith("No driving video")
    page = files["report"].read_text()
    assert "Protocol: DisCo" in page and "wrapping uint8" in page


def test_every_number_shown_says_what_it_measures_and_which_way_is_better(evaluations,
                                                                           tmp_path):
    import re

    page = write_report(evaluations, tmp_path, html=True)["report"].read_text()
    headers = re.findall(r"<th title=\"([^\"]*)\">([^<]*)</th>", page)
    legend = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", page))
    assert len(headers) >= 10
    for title, label in headers:
        assert "better" in title and legend[label] == title + "."


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_html_report_fits_a_phone(evaluations, tmp_path):
    from playwright.sync_api import sync_playwright

    report = write_report(evaluations, tmp_path, names=["a clip with a long name " * 3,
                                                        "noisy"], html=True)["report"]
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = chrome.new_page(viewport={"width": 390, "height": 844})
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            width = page.evaluate("document.documentElement.scrollWidth")
            images = page.evaluate("[...document.images].map(i => [i.naturalWidth, "
                                   "i.getBoundingClientRect().right])")
            table = page.evaluate("[document.querySelector('.scroll').scrollWidth, "
                                  "document.querySelector('.scroll').clientWidth]")
            font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        finally:
            chrome.close()
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"
    assert images and all(natural > 0 and right <= 390 for natural, right in images)
    assert table[0] > table[1]  # the wide table scrolls inside its box, not the page
    assert font >= 16
