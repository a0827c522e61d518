"""What a person sees: the page rendered by a real headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                       "(apt-get install chromium)"),
]


def chromium(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=15000",
         "--window-size=1400,1800", *args, url],
        capture_output=True, text=True, timeout=120,
    )


def test_page_shows_the_main_controls(app_url, tmp_path):
    dom = chromium(app_url, tmp_path, "--dump-dom").stdout
    for element in ("portrait", "driving", "motion", "preview", "generate", "stop", "preset",
                    "device_notice"):
        assert f'id="{element}"' in dom, f"#{element} missing from the rendered page"
    for text in ("Preview pose", "Generate", "Stop", "Portrait", "Driving video"):
        assert text in dom


def test_screenshot_is_a_rendered_page(app_url, tmp_path):
    shot = tmp_path / "page.png"
    chromium(app_url, tmp_path, f"--screenshot={shot}")
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape == (1800, 1400)
    assert pixels.std() > 10  # text and widgets, not a blank page


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chrome
        finally:
            chrome.close()


def _box(page, element: str) -> dict:
    return page.locator(f"#{element}").first.bounding_box()


def test_on_a_phone_each_button_has_its_results_right_below(app_url, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(app_url)
    page.wait_for_selector("#generate")
    for button, result in (("preview", "preview_video"), ("generate", "result")):
        below = _box(page, result)["y"] - (_box(page, button)["y"] + _box(page, button)["height"])
        assert 0 <= below < 150, f"#{result} is {below:.0f} px below #{button}"


def test_seed_empty_until_a_run_and_stop_says_stopped(app_url, browser, portrait_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#generate")
    assert page.locator("#seed_used textarea, #seed_used input").first.input_value() == ""
    page.locator("#portrait input[type=file]").set_input_files(str(portrait_path))
    page.locator("#portrait_view img").first.wait_for(timeout=30_000)  # read by the app
    page.get_by_text("1 found").first.wait_for(timeout=30_000)  # its people, numbered
    page.locator("#motion input").first.fill("dance")
    page.keyboard.press("Enter")
    page.click("#generate")
    page.get_by_text("Generating").first.wait_for(timeout=120_000)
    page.click("#stop")
    page.get_by_text("Stopped.").first.wait_for(timeout=30_000)
