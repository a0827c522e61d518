"""The page in a real headless Chromium, at a desk's width and a 390 px phone's: examples
near the top that work after any uptime, refusals readable in the notes, one progress
display, buttons that follow the job, a player for drivers browsers cannot play."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import app
from animator.video import probe_video

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                       "(apt-get install chromium)"),
]
WIDTHS = (1400, 390)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chrome
        finally:
            chrome.close()


def opened(browser, url: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    page.wait_for_selector("#generate")
    return page


def box(page, element: str) -> dict:
    return page.locator(f"#{element}").first.bounding_box()


def error_badges(page) -> int:
    """Gradio's red "Error" labels left in outputs."""
    return page.locator("[data-testid='status-tracker'] .error").count()


def red(page, element: str) -> bool:
    color = page.locator(f"#{element}").first.evaluate("e => getComputedStyle(e).backgroundColor")
    r, g, b = (int(v) for v in re.findall(r"\d+", color)[:3])
    return r > 180 and g < 120 and b < 120


@pytest.mark.parametrize("width", WIDTHS)
def test_examples_near_the_top_fit_and_work_after_the_cache_is_cleaned(app_url, browser,
                                                                        width):
    from gradio.route_utils import delete_files_created_by_app

    page = opened(browser, app_url, width)
    examples = box(page, "examples")
    assert examples["y"] < box(page, "portrait")["y"] and examples["y"] < 700
    fits = page.locator("#examples").evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert fits and examples["x"] + examples["width"] <= width
    # What Gradio's delete_cache does after an hour (age 0: every file the app made).
    delete_files_created_by_app(app.demo, age=0)
    page.locator("#examples button").last.click()  # the built-in motion
    page.locator("#pose_notes").get_by_text("Body scale").wait_for(timeout=60_000)
    assert "not found" not in page.locator("#pose_notes").inner_text()
    assert error_badges(page) == 0
    page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_refusals_are_shown_where_the_user_looks_without_error_badges(app_url, browser, width,
                                                                      tmp_path):
    page = opened(browser, app_url, width)
    assert not red(page, "stop") and page.locator("#stop").is_disabled()  # idle
    text = tmp_path / "portrait.jpg"
    text.write_text("not a picture")
    page.locator("#portrait input[type=file]").set_input_files(str(text))
    page.locator("#portrait_notes").get_by_text("Not done").wait_for(timeout=20_000)
    page.click("#preview")
    page.locator("#pose_notes").get_by_text("Not done").wait_for(timeout=20_000)
    assert error_badges(page) == 0
    page.close()


def test_a_failed_load_says_what_to_run_rendered_in_the_notes(app_url, browser, portrait_path,
                                                              tmp_path, monkeypatch):
    page = opened(browser, app_url, 1400)
    monkeypatch.setattr(app.animator, "weights_dir", tmp_path)  # no weights: refused
    page.locator("#portrait input[type=file]").set_input_files(str(portrait_path))
    page.get_by_text("1 found").first.wait_for(timeout=30_000)
    page.locator("#motion input").first.fill("wave")
    page.keyboard.press("Enter")
    page.locator("#preset input").first.fill("stableanimator")
    page.keyboard.press("Enter")
    try:
        page.click("#generate")
        notes = page.locator("#notes")
        notes.get_by_text("python -m animator download").first.wait_for(timeout=90_000)
    finally:
        app.animator.use_preset("tiny")
    assert notes.locator("code").count() and "`" not in notes.inner_text()  # rendered
    assert error_badges(page) == 0 and "Error" not in page.locator("#seed_used").inner_text()
    assert not page.locator("#generate").is_disabled()  # ready again
    page.close()


def test_one_progress_display_and_buttons_that_follow_the_job(app_url, browser,
                                                              portrait_path):
    page = opened(browser, app_url, 1400)
    page.locator("#portrait input[type=file]").set_input_files(str(portrait_path))
    page.get_by_text("1 found").first.wait_for(timeout=30_000)
    page.locator("#motion input").first.fill("dance")
    page.keyboard.press("Enter")
    page.click("#generate")
    page.get_by_text("Generating:").first.wait_for(timeout=120_000)
    shown = [t for t in page.locator("[data-testid='status-tracker']:not(.hide)")
             .all_inner_texts() if t.strip()]
    assert len(shown) == 1, shown  # one display, on the player
    assert len(re.findall(r"\d+(?:\.\d+)?%", shown[0])) <= 1, shown[0]
    assert page.locator("#result [data-testid='status-tracker']:not(.hide)").count() == 1
    assert page.locator("#generate").is_disabled() and "Generating" in page.inner_text(
        "#generate")
    assert not page.locator("#stop").is_disabled() and red(page, "stop")
    page.click("#stop")
    page.get_by_text("Stopped.").first.wait_for(timeout=30_000)
    page.wait_for_function("!document.querySelector('#generate').disabled", timeout=10_000)
    assert page.locator("#stop").is_disabled() and not red(page, "stop")
    page.close()


def test_an_avi_driver_gets_a_playable_copy_in_the_player(app_url, browser, driving_path,
                                                          tmp_path):
    import imageio_ffmpeg

    avi = tmp_path / "driver.avi"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(driving_path),
                    "-t", "1.5", "-c:v", "mjpeg", "-q:v", "8", "-c:a", "pcm_s16le", str(avi)],
                   check=True)
    assert probe_video(avi).codec == "mjpeg"
    page = opened(browser, app_url, 390)
    page.locator("#driving input[type=file]").set_input_files(str(avi))
    page.wait_for_function(
        "(() => { const v = document.querySelector('#driving video');"
        " return v && /\\.mp4$/.test(v.currentSrc) && v.readyState >= 1 && v.videoWidth > 0"
        " })()", timeout=60_000)
    page.get_by_text("1 found").first.wait_for(timeout=30_000)  # its people, from the .avi
    assert error_badges(page) == 0
    page.close()
