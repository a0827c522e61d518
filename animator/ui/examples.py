"""The examples under the page: a portrait with a driving clip, and with a built-in motion;
their pose previews are made on first use and cached."""

from __future__ import annotations

import gradio as gr

from animator.ui.inputs import NO_MOTION

EXAMPLES = [["assets/portraits/astronaut.jpg", "assets/driving/astronaut_sway.mp4", NO_MOTION],
            ["assets/portraits/astronaut.jpg", None, "wave"]]


def add_examples(inputs, pose, extract_pose, pose_defaults: dict) -> gr.Examples:
    """The examples over the inputs; choosing one previews its pose with the page's
    retargeting defaults."""

    def preview_example(portrait, video, motion, progress=gr.Progress(track_tqdm=True)):
        return extract_pose(portrait, video, progress=progress,
                            **{**pose_defaults, "motion": motion})

    return gr.Examples(EXAMPLES, [inputs.portrait, inputs.video, inputs.motion], pose.outputs,
                       fn=preview_example, cache_examples=True, cache_mode="lazy")
