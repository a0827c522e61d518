"""Memory under mixed load: hostile and normal requests against a real app server.

Starts `python app.py` (tiny preset, CPU) as a subprocess on a free loopback port, sends a
warm-up round and then `--rounds` rounds of the same mix through gradio_client, and prints
the server's resident memory (RSS) after each round: what a long-running server keeps.
The mix (`MIX`): pose previews and tiny animations from a motion and from a video, a
cancelled animation, and hostile requests (a text file as the portrait, a 20000x20000 PNG,
a pose file nested 100,000 deep, `abc` as a person, seed 1e30, NaN guidance, a 4096x4096
size). tests/test_app_memory.py runs a small mix against the test server with the same code.

    .venv/bin/python benchmarks/memory_load.py [--rounds 4]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "assets/portraits/astronaut.jpg"
VIDEO = ROOT / "assets/driving/astronaut_sway.mp4"
TINY = dict(preset="tiny", fps=5, steps=1, transition=0.0, end=1.0)


def hostile_files(folder: Path) -> dict[str, Path]:
    """The malformed uploads of the mix, written into `folder`."""
    text = folder / "portrait.jpg"
    text.write_text("not an image")
    deep = folder / "poses.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    big = folder / "huge.png"  # a valid PNG header claiming 20000x20000, a few bytes of data
    header = b"\x89PNG\r\n\x1a\n"
    ihdr = (20000).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    chunk = (len(ihdr).to_bytes(4, "big") + b"IHDR" + ihdr
             + zlib.crc32(b"IHDR" + ihdr).to_bytes(4, "big"))
    end = b"\x00\x00\x00\x00IEND" + zlib.crc32(b"IEND").to_bytes(4, "big")
    big.write_bytes(header + chunk + end)
    return {"text": text, "deep": deep, "huge": big}


SMALL = ("animate, video", "text file as portrait", "20000x20000 PNG", "pose file 100,000 deep",
         "person abc", "seed 1e30")  # the test's mix (plus the cancelled animation)


def mix(client, files: dict[str, Path], only=None) -> list[tuple[str, bool]]:
    """One round: (request, whether it succeeded) for every request of the mix (or those
    named in `only`); the hostile ones are meant to fail with a message."""
    from gradio_client import handle_file

    portrait, video = handle_file(str(PORTRAIT)), handle_file(str(VIDEO))
    requests = {
        "pose preview, video": dict(portrait=portrait, video=video, api_name="/extract_pose"),
        "pose preview, motion": dict(portrait=portrait, motion="wave",
                                     api_name="/extract_pose"),
        "animate, motion": dict(portrait=portrait, motion="wave", api_name="/animate", **TINY),
        "animate, video": dict(portrait=portrait, video=video, api_name="/animate", **TINY),
        "text file as portrait": dict(portrait=handle_file(str(files["text"])), motion="wave",
                                      api_name="/extract_pose"),
        "20000x20000 PNG": dict(portrait=handle_file(str(files["huge"])), motion="wave",
                                api_name="/extract_pose"),
        "pose file 100,000 deep": dict(portrait=portrait,
                                       video=handle_file(str(files["deep"])),
                                       api_name="/extract_pose"),
        "person abc": dict(portrait=portrait, motion="wave", person="abc",
                           api_name="/extract_pose"),
        "seed 1e30": dict(portrait=portrait, motion="wave", seed=1e30, api_name="/animate",
                          **TINY),
        "NaN guidance": dict(portrait=portrait, motion="wave", min_guidance="nan",
                             api_name="/animate", **TINY),
        "4096x4096": dict(portrait=portrait, motion="wave", resolution="4096x4096",
                          api_name="/animate", **TINY),
    }
    done = []
    for name, kwargs in requests.items():
        if only is not None and name not in only:
            continue
        try:
            client.predict(**kwargs)
            done.append((name, True))
        except Exception:  # a refused request is what the hostile ones should get
            done.append((name, False))
    job = client.submit(portrait=portrait, video=video, api_name="/animate",
                        **{**TINY, "end": 3.0, "steps": 4})
    time.sleep(1.0)
    job.cancel()
    done.append(("cancelled animation", False))
    return done


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (ffmpeg writers), in MB."""
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    from gradio_client import Client

    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([sys.executable, "app.py", "--preset", "tiny", "--device", "cpu",
                               "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(300):
            try:
                client = Client(url, verbose=False)
                break
            except Exception:
                time.sleep(1)
        rows = [("server started", rss_mb(server.pid), "")]
        with tempfile.TemporaryDirectory() as tmp:
            files = hostile_files(Path(tmp))
            seconds = []
            for round_ in range(args.rounds + 1):
                start = time.perf_counter()
                done = mix(client, files)
                seconds.append(time.perf_counter() - start)
                time.sleep(2.0)  # the cancelled job's thread finishes its step
                label = "after the warm-up round" if round_ == 0 else f"after round {round_}"
                rows.append((label, rss_mb(server.pid),
                             f"{sum(ok for _, ok in done)}/{len(done)} succeeded"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    warm = rows[1][1]
    print(f"Server RSS under a mixed load ({len(done)} requests a round, tiny preset, CPU), "
          f"median round {statistics.median(seconds):.1f} s")
    print(f"| {'point':28s} | {'RSS (MB)':>9s} | {'growth since warm-up (MB)':>26s} | note |")
    print(f"|{'-' * 30}|{'-' * 11}|{'-' * 28}|------|")
    for label, mb, note in rows:
        print(f"| {label:28s} | {mb:9.0f} | {mb - warm:26.0f} | {note} |")
    growth = rows[-1][1] - warm
    print(f"growth over {args.rounds} rounds after warm-up: {growth:.0f} MB "
          f"({growth / args.rounds:.1f} MB a round); target < 200 MB")


if __name__ == "__main__":
    main()
