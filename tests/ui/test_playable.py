"""The player's copy of a driver browsers cannot play: small, H.264, mapped back to the
upload (which is what every handler reads), and removed with the old jobs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg

from animator.jobs import remove_old_jobs
from animator.ui import inputs, playable
from animator.video import probe_video


def test_an_avi_gets_a_small_h264_copy_that_maps_back(driving_path, tmp_path):
    avi = tmp_path / "upload" / "driver.avi"
    avi.parent.mkdir()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(driving_path),
                    "-t", "1", "-c:v", "mjpeg", str(avi)], check=True)
    assert playable.player_copy(driving_path, tmp_path / "work") is None  # plays as it is
    copy = playable.player_copy(avi, tmp_path / "work")
    info = probe_video(copy)
    assert copy.endswith(".mp4") and info.codec == "h264" and max(info.width, info.height) <= 480
    cached = tmp_path / "gradio-cache" / "abc123"  # Gradio keeps the name, not the folder
    cached.mkdir(parents=True)
    shutil.copy(copy, cached)
    seen_by_page = str(cached / Path(copy).name)
    assert playable.original(seen_by_page) == str(avi) and playable.is_copy(seen_by_page)
    assert inputs.driving(seen_by_page, {})[0] == str(avi)  # what the handlers use
    assert playable.original(str(avi)) == str(avi)
    remove_old_jobs(tmp_path / "work", 0)
    assert not any((tmp_path / "work" / "jobs").iterdir())


