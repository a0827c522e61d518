"""The pose section: how the driving skeleton is fitted to the portrait's body, and the
preview of it (`/extract_pose`), before any generation."""

from __future__ import annotations

import gradio as gr

from animator.config import RetargetConfig
from animator.ui import inputs
from animator.ui.handlers import notes, user_errors

MULTIPLIER_GROUPS = ("head", "arms", "legs", "hands")


def retarget_config(settings: dict) -> RetargetConfig:
    chosen = {g: float(settings[g]) for g in MULTIPLIER_GROUPS if float(settings[g]) != 1.0}
    return RetargetConfig(
        transition=float(settings["transition"]), smoothing=int(settings["smoothing"]),
        root_motion=float(settings["root_motion"]), ground=bool(settings["ground"]),
        start_at_closest=bool(settings["start_at_closest"]), multipliers=chosen)


class Pose:
    """The retargeting controls, the Preview button and what it shows."""

    def __init__(self):
        d = RetargetConfig()
        with gr.Accordion("1. Pose: retargeting", open=False, elem_id="pose_panel"):
            self.transition = gr.Slider(0, 2, d.transition, step=0.1,
                                        label="Lead-in from the portrait's pose (s; 0 = "
                                              "none, as the public scripts)")
            self.smoothing = gr.Slider(0, 21, d.smoothing, step=2,
                                       label="Smoothing window (frames, 0 = off)")
            self.root_motion = gr.Slider(0, 1, d.root_motion, step=0.05,
                                         label="Travel kept from the driver")
            self.ground = gr.Checkbox(d.ground, label="Keep feet on the ground line")
            self.start_at_closest = gr.Checkbox(
                d.start_at_closest,
                label="Start at the driving frame closest to the portrait's pose")
            self.groups = {g: gr.Slider(0.7, 1.3, 1.0, step=0.05, label=f"{g.title()} length x")
                           for g in MULTIPLIER_GROUPS}
        self.button = gr.Button("Preview pose", elem_id="preview")
        self.preview = gr.Video(label="Pose preview: driving, retargeted",
                                elem_id="preview_video")
        self.first = gr.Image(label="First retargeted frame over the portrait")
        self.file = gr.File(label="Retargeted poses (JSON)")
        self.notes = gr.Markdown(label="Notes", elem_id="pose_notes")

    @property
    def api(self) -> dict:
        """API parameter name -> component for the retargeting settings."""
        return {"transition": self.transition, "smoothing": self.smoothing,
                "root_motion": self.root_motion, "ground": self.ground,
                "start_at_closest": self.start_at_closest, **self.groups}

    @property
    def outputs(self) -> list:
        return [self.preview, self.first, self.file, self.notes]


def extract_pose_for(animator):
    """The `/extract_pose` endpoint over `animator`."""

    @user_errors
    def extract_pose(portrait, video=None, progress=gr.Progress(track_tqdm=True), **settings):
        """Detect poses in the portrait and the driving video (or built-in motion), rescale the
        driving skeleton to the portrait's body, and return a side-by-side preview video, the
        first retargeted frame over the portrait, the retargeted poses as JSON, and notes."""
        driving, lines = inputs.driving(video, settings)
        result = animator.preview_pose(
            inputs.portrait_path(portrait), driving, retarget_config=retarget_config(settings),
            progress=lambda f, desc: progress(f, desc=desc), **inputs.span(settings),
            **inputs.people(settings))
        lines += result.notices
        ratio = ", ".join(f"{k} x{v:.2f}" for k, v in result.retargeted.ratios.items())
        lines.append(f"Body scale x{result.retargeted.scale:.2f}; proportions: {ratio}.")
        return str(result.video), result.first_frame, str(result.poses_file), notes(lines)

    return extract_pose
