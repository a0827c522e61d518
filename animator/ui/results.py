"""The results section: the clip, its side-by-side comparison, the seed and settings used,
the retargeted poses and the notes of the run (`/animate`'s outputs, in this order)."""

from __future__ import annotations

import json

import gradio as gr

from animator.ui.handlers import notes


class Results:
    def __init__(self):
        self.video = gr.Video(label="Animation", elem_id="result")
        self.notes = gr.Markdown(label="Notes", elem_id="notes")
        self.comparison = gr.Video(label="Driving | skeleton | result")
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
            json.dumps(result.settings, indent=1), str(result.poses_file),
            notes(lines + result.notices))
