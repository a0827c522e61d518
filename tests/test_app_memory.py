"""Memory under a mixed load (issue 19): a small mix of normal and hostile requests, sent
through gradio_client to the shared test server, leaves the server's memory where the
first round left it (within 200 MB). benchmarks/memory_load.py runs the full mix against a
`python app.py` process and records the figures."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest
from gradio_client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from memory_load import SMALL, hostile_files, mix  # noqa: E402


@pytest.mark.timeout(600)
def test_mixed_load_leaves_memory_bounded(app_url, tmp_path):
    client = Client(app_url, verbose=False)
    files = hostile_files(tmp_path)
    process = psutil.Process()
    rss = []
    for _ in range(3):  # a warm-up round (models, detectors, caches), then two more
        done = mix(client, files, only=SMALL)
        time.sleep(1.0)  # the cancelled job's thread finishes its step
        rss.append(process.memory_info().rss / 2**20)
    assert dict(done)["animate, video"] and not dict(done)["seed 1e30"]
    assert rss[-1] - rss[0] < 200, f"RSS per round (MB): {[round(r) for r in rss]}"
