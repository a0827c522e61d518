"""The Gradio app: portrait + driving video (or a built-in motion) -> animated clip.

The card's entry point. The page is `animator.ui` (UI only: every step runs in
`animator.Animator`). `demo` is built at import so that Hugging Face Spaces and
`gradio app.py` find it; `python app.py` launches it. Settings come from flags
(`python app.py --help`) or, on Spaces, from ANIMATOR_* variables.
"""

from __future__ import annotations

import argparse
import logging
import math
import os

import spaces  # noqa: F401  (ZeroGPU needs it imported before torch)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from animator import families  # noqa: E402
from animator.animate import Animator  # noqa: E402
from animator.config import InputLimits  # noqa: E402
from animator.ui import NO_MOTION, build_demo, device_notice  # noqa: E402, F401
from animator.ui.mcp_files import allow_local_files, allowed_folders  # noqa: E402


def launch_kwargs(limits: InputLimits, mcp: bool = False) -> dict:
    """Server settings shared by `python app.py` and the tests."""
    return {"max_file_size": f"{int(limits.max_upload_mb)}mb", "show_error": True,
            "mcp_server": mcp}


def positive(text: str) -> float:
    """A flag's number: finite and above 0 (argparse's float takes "nan" and "inf")."""
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    names = ", ".join(families.preset_names())
    parser = argparse.ArgumentParser(description="Run the Animator web app.")
    parser.add_argument("--port", type=int, default=None, help="port (default: 7860)")
    parser.add_argument("--host", default=None, help="address to bind, e.g. 0.0.0.0")
    parser.add_argument("--share", action="store_true", help="make a public gradio.live link")
    parser.add_argument("--preset", default=env("ANIMATOR_PRESET"),
                        help=f"{names} or local:<dir> (default: "
                        f"{families.default_preset(gpu=True)} with a GPU, "
                        f"{families.default_preset(gpu=False)} without)")
    parser.add_argument("--device", default=env("ANIMATOR_DEVICE", "auto"),
                        help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument("--low-memory", action="store_true",
                        default=env("ANIMATOR_LOW_MEMORY") == "1",
                        help="offload idle models to the CPU, guidance in sequence")
    parser.add_argument("--weights-dir", default=env("ANIMATOR_WEIGHTS_DIR"),
                        help="folder with the preset's files (instead of the Hugging Face hub)")
    parser.add_argument("--mcp", action="store_true", default=env("ANIMATOR_MCP") == "1",
                        help="also serve the endpoints as MCP tools for agents "
                        "(at /gradio_api/mcp/)")
    parser.add_argument("--allow-folder", action="append", metavar="DIR",
                        default=[f for f in env("ANIMATOR_ALLOW_FOLDERS", "").split(os.pathsep)
                                 if f],
                        help="with --mcp: MCP tools may also take files inside DIR by path "
                        "(repeatable; never other paths)")
    limits = InputLimits()
    parser.add_argument("--max-duration", type=positive,
                        default=env("ANIMATOR_MAX_DURATION", str(limits.max_duration)),
                        help="seconds of driving video used; longer ones are cut with a note "
                        "(default: %(default)s)")
    parser.add_argument("--max-upload-mb", type=positive,
                        default=env("ANIMATOR_MAX_UPLOAD_MB", str(limits.max_upload_mb)),
                        help="largest upload accepted (default: %(default)s)")
    return parser.parse_args(argv)


def make_animator(args: argparse.Namespace) -> Animator:
    limits = InputLimits(max_duration=args.max_duration, max_upload_mb=args.max_upload_mb)
    animator = Animator(device=args.device, low_memory=args.low_memory,
                        weights_dir=args.weights_dir, limits=limits)
    animator.use_preset(args.preset or families.default_preset(gpu=animator.device != "cpu"))
    return animator


animator = make_animator(parse_args([]))
demo = build_demo(animator)
demo.queue(default_concurrency_limit=1)

if __name__ == "__main__":
    args = parse_args()
    logging.basicConfig(level=logging.INFO)
    animator = make_animator(args)
    demo = build_demo(animator)
    demo.queue(default_concurrency_limit=1)
    try:
        folders = allowed_folders(args.allow_folder)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                prevent_thread_lock=True, **launch_kwargs(animator.limits, mcp=args.mcp))
    allow_local_files(demo, folders)
    demo.block_thread()
