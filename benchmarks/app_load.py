"""Load test: pose-preview requests from concurrent gradio_client clients to a local server.

Starts the app (tiny preset) in this process on a free loopback port, then 4 client
threads send 20 `/extract_pose` requests in all (5 each) and the table reports how many
completed or failed and the latency percentiles. Traffic stays on 127.0.0.1.

    .venv/bin/python benchmarks/app_load.py [--clients 4] [--requests 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradio_client import Client, handle_file  # noqa: E402

import app  # noqa: E402
from animator.config import InputLimits  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    portrait = handle_file(str(ROOT / "assets/portraits/astronaut.jpg"))
    video = handle_file(str(ROOT / "assets/driving/astronaut_sway.mp4"))
    _, url, _ = app.demo.launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                                **app.launch_kwargs(InputLimits()))
    motions = ["wave", "walk", "squat", "dance", app.NO_MOTION]

    def client_run(index: int) -> list[tuple[bool, float, str]]:
        client = Client(url, verbose=False)
        results = []
        for k in range(args.requests // args.clients):
            motion = motions[(index + k) % len(motions)]
            start = time.perf_counter()
            try:
                client.predict(portrait=portrait, motion=motion,
                               video=video if motion == app.NO_MOTION else None,
                               api_name="/extract_pose")
                results.append((True, time.perf_counter() - start, ""))
            except Exception as e:  # a failed request is a figure here, not a crash
                results.append((False, time.perf_counter() - start, repr(e)[:80]))
        return results

    try:
        wall = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            results = [r for rs in pool.map(client_run, range(args.clients)) for r in rs]
        wall = time.perf_counter() - wall
    finally:
        app.demo.close()
    latencies = [t for ok, t, _ in results if ok]
    rows = [
        ("requests sent", len(results), ""),
        ("completed", sum(ok for ok, _, _ in results), f"target {len(results)}/{len(results)}"),
        ("failed", sum(not ok for ok, _, _ in results), "target 0"),
        ("latency p50 (s)", percentile(latencies, 50) if latencies else float("nan"), ""),
        ("latency p90 (s)", percentile(latencies, 90) if latencies else float("nan"), ""),
        ("latency max (s)", max(latencies) if latencies else float("nan"), ""),
        ("throughput (requests/s)", len(latencies) / wall, ""),
    ]
    print(f"{args.clients} concurrent clients, {args.requests} pose previews, tiny preset")
    for name, value, note in rows:
        print(f"{name:<26}{value:>10.2f}  {note}")
    for ok, _, error in results:
        if not ok:
            print("error:", error)


if __name__ == "__main__":
    main()
