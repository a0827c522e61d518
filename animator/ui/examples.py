"""The examples near the top of the page: a portrait with a driving clip, and with a
built-in motion, shown as two labelled buttons (a table of thumbnails is cut on a phone);
their pose previews are made on first use and cached.

Gradio's `delete_cache` spares the files its examples' table shows, but the copies the
inputs get when an example is chosen are made once, when the page is built, and were
deleted with the other temporary files after an hour of uptime ("The image
'astronaut.jpg' was not found"). `keep_example_files` marks those copies as kept too.
"""

from __future__ import annotations

import gradio as gr

from animator.ui.inputs import NO_MOTION

EXAMPLES = [["assets/portraits/astronaut.jpg", "assets/driving/astronaut_sway.mp4", NO_MOTION],
            ["assets/portraits/astronaut.jpg", None, "wave"]]
LABELS = ["Astronaut, driven by a video of her swaying", "Astronaut, built-in motion: wave"]


def add_examples(inputs, pose, extract_pose, pose_defaults: dict) -> gr.Examples:
    """The examples over the inputs; choosing one previews its pose with the page's
    retargeting defaults."""

    def preview_example(portrait, video, motion, progress=gr.Progress()):
        return extract_pose(portrait, video, progress=progress,
                            **{**pose_defaults, "motion": motion})

    examples = gr.Examples(EXAMPLES, [inputs.portrait, inputs.video, inputs.motion],
                           pose.outputs, fn=preview_example, cache_examples=True,
                           cache_mode="lazy", example_labels=LABELS, elem_id="examples",
                           label="Examples: pick one to fill the inputs and preview its pose")
    keep_example_files(examples)
    return examples


def keep_example_files(examples: gr.Examples) -> None:
    """Mark the cached copies the inputs receive when an example is chosen as files
    `delete_cache` must keep (Gradio keeps only those of the examples' table)."""
    for example in examples.non_none_examples:
        values = examples._get_processed_example(example)
        for component, value in zip(examples.inputs_with_examples, values, strict=False):
            if isinstance(value, dict) and value.get("path"):
                component.keep_in_cache.add(value["path"])
