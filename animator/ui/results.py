"""The results section: the clip, its side-by-side comparison, the seed and settings used,
the retargeted poses and the notes of the run (`/animate`'s outputs, in this order).

Labels name the API's outputs too (gradio_client shows `side_by_side_driving_skeleton_result`),
so they avoid the punctuation that would leave `driving__skeleton__result`. In the settings
output the model's frame-rate conditioning (`fps` in a family's declaration) is
`model_fps`, apart from the clip's `output_fps`, with a line saying which is which."""

from __future__ import annotations

import json

import gradio as gr

from animator import families
from animator.ui.handlers import notes

OUTPUT_FPS = "frames per second of the clip"


class Results:
    def __init__(self):
        self.video = gr.Video(label="Animation", elem_id="result")
        self.notes = gr.Markdown(label="Notes", elem_id="notes")
        self.comparison = gr.Video(label="Side by side: driving, skeleton, result",
                                   elem_id="comparison")
        with gr.Row():
            # A Number shows 0 before any run; a text stays empty until there is one.
            self.seed = gr.Textbox(label="Seed used", interactive=False,
                                   placeholder="set by the first run", elem_id="seed_used")
            self.poses_file = gr.File(label="Retargeted poses (JSON)")
        self.settings = gr.Code(label="Settings used", language="json")

    @property
    def outputs(self) -> list:
        return [self.video, self.comparison, self.seed, self.settings, self.poses_file,
                self.notes]


def shown(result, lines: list[str]) -> tuple:
    """An `Animation` as the outputs show it."""
    return (str(result.video), str(result.comparison), str(result.seed),
            json.dumps(settings_shown(result.settings), indent=1), str(result.poses_file),
            notes(lines + result.notices))


def settings_shown(settings: dict) -> dict:
    """The settings used as the page and the API show them: a family's `fps` (what the
    model is told) is `model_fps`, and `about_fps` says which rate is which."""
    if "fps" not in settings:
        return settings
    declared = {s.name: s for s in families.settings_of(settings["preset"])}
    told = declared["fps"].help if "fps" in declared else "the rate the model is told"
    shown = {("model_fps" if k == "fps" else k): v for k, v in settings.items()}
    shown["about_fps"] = (f"output_fps: {OUTPUT_FPS}; model_fps: {told} (what the model is "
                          "told, not the clip's rate)")
    return shown
