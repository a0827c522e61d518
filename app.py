"""The Gradio app: portrait + driving video (or a built-in motion) -> pose preview.

UI only: every step runs in `animator.Animator`. `demo` is built at import so that
Hugging Face Spaces and `gradio app.py` find it; `python app.py` launches it.
"""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from animator.animate import Animator  # noqa: E402
from animator.config import InputLimits, RetargetConfig  # noqa: E402
from animator.errors import InputError  # noqa: E402
from animator.pose.motions import MOTIONS  # noqa: E402

log = logging.getLogger("animator.app")
NO_MOTION = "(use the uploaded video)"
EXAMPLES = [["assets/portraits/astronaut.jpg", "assets/driving/astronaut_sway.mp4", NO_MOTION],
            ["assets/portraits/astronaut.jpg", None, "wave"]]
MULTIPLIER_GROUPS = ("head", "arms", "legs", "hands")


def _user_errors(fn):
    """Turn failures into messages the page (and gradio_client) shows; keep serving."""

    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as e:
            raise gr.Error(str(e)) from e
        except gr.Error:
            raise
        except Exception as e:
            log.exception("unexpected failure in %s", fn.__name__)
            raise gr.Error(
                f"Something went wrong on our side ({type(e).__name__}: {e}). The server is "
                "still running: try again, and report the problem if it repeats."
            ) from e

    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _notes(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else ""


def build_demo(animator: Animator) -> gr.Blocks:
    """The page; every handler delegates to `animator`."""

    @_user_errors
    def extract_pose(portrait, video, motion, start, end, transition, smoothing, root_motion,
                     ground, start_at_closest, head, arms, legs, hands,
                     progress=gr.Progress(track_tqdm=True)):
        """Detect poses in the portrait and the driving video (or built-in motion), rescale the
        driving skeleton to the portrait's body, and return a side-by-side preview video, the
        first retargeted frame over the portrait, the retargeted poses as JSON, and notes."""
        if not portrait:
            raise InputError("Upload a portrait first (a photo of one person).")
        driving = motion if motion and motion != NO_MOTION else video
        if not driving:
            raise InputError("Upload a driving video or pick a built-in motion.")
        values = (head, arms, legs, hands)
        multipliers = {g: float(v) for g, v in zip(MULTIPLIER_GROUPS, values, strict=True)
                       if float(v) != 1.0}
        config = RetargetConfig(
            transition=float(transition), smoothing=int(smoothing),
            root_motion=float(root_motion), ground=bool(ground),
            start_at_closest=bool(start_at_closest), multipliers=multipliers,
        )
        result = animator.preview_pose(
            portrait, driving, retarget_config=config, start=float(start or 0),
            end=float(end) if end else None,
            progress=lambda f, desc: progress(f, desc=desc),
        )
        notes = animator.notices + result.notices
        ratio = ", ".join(f"{k} x{v:.2f}" for k, v in result.retargeted.ratios.items())
        notes.append(f"Body scale x{result.retargeted.scale:.2f}; proportions: {ratio}.")
        return str(result.video), result.first_frame, str(result.poses_file), _notes(notes)

    with gr.Blocks(title="Animator: pose-driven image animation") as demo:
        gr.Markdown(
            "# Animator\nUpload a portrait and a driving video (or pick a built-in motion). "
            "**Preview pose** shows the driving skeleton rescaled to the portrait's body."
        )
        with gr.Row():
            with gr.Column():
                portrait = gr.Image(label="Portrait", type="filepath", sources=["upload"],
                                    elem_id="portrait")
                video = gr.Video(label="Driving video", sources=["upload"], elem_id="driving")
                motion = gr.Dropdown([NO_MOTION, *MOTIONS], value=NO_MOTION,
                                     label="Or a built-in motion", elem_id="motion")
                with gr.Row():
                    start = gr.Number(0, label="Start (s)", minimum=0)
                    end = gr.Number(None, label="End (s, empty = to the end)", minimum=0)
                with gr.Accordion("Retargeting", open=False):
                    defaults = RetargetConfig()
                    transition = gr.Slider(0, 2, defaults.transition, step=0.1,
                                           label="Lead-in from the portrait's pose (s)")
                    smoothing = gr.Slider(0, 21, defaults.smoothing, step=2,
                                          label="Smoothing window (frames, 0 = off)")
                    root_motion = gr.Slider(0, 1, defaults.root_motion, step=0.05,
                                            label="Travel kept from the driver")
                    ground = gr.Checkbox(defaults.ground, label="Keep feet on the ground line")
                    start_at_closest = gr.Checkbox(
                        defaults.start_at_closest,
                        label="Start at the driving frame closest to the portrait's pose")
                    groups = [gr.Slider(0.7, 1.3, 1.0, step=0.05, label=f"{g.title()} length x")
                              for g in MULTIPLIER_GROUPS]
                preview_btn = gr.Button("Preview pose", variant="primary", elem_id="preview")
            with gr.Column():
                preview = gr.Video(label="Driving | retargeted", elem_id="preview_video")
                first = gr.Image(label="First retargeted frame over the portrait")
                poses_file = gr.File(label="Retargeted poses (JSON)")
                notes = gr.Markdown()
        gr.Examples(EXAMPLES, [portrait, video, motion])
        preview_btn.click(
            extract_pose,
            [portrait, video, motion, start, end, transition, smoothing, root_motion, ground,
             start_at_closest, *groups],
            [preview, first, poses_file, notes],
            api_name="extract_pose",
            concurrency_limit=4,
        )
    return demo


def launch_kwargs(limits: InputLimits) -> dict:
    """Server settings shared by `python app.py` and the tests."""
    return {"max_file_size": f"{int(limits.max_upload_mb)}mb", "show_error": True}


animator = Animator()
demo = build_demo(animator)
demo.queue(default_concurrency_limit=1)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the Animator web app.")
    parser.add_argument("--port", type=int, default=None, help="port (default: 7860)")
    parser.add_argument("--share", action="store_true", help="make a public gradio.live link")
    parser.add_argument("--host", default=None, help="address to bind, e.g. 0.0.0.0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share,
                **launch_kwargs(InputLimits()))
