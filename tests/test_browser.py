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
