"""The inputs section: the portrait, the driving video or a built-in motion, the part of
the video used, and which person of each (numbered boxes shown as soon as a file is up)."""

from __future__ import annotations

import gradio as gr

from animator.errors import InputError
from animator.pose.motions import MOTIONS
from animator.ui.handlers import user_errors

NO_MOTION = "none"


def portrait_path(portrait) -> str:
    """The uploaded portrait's path; the file is read by `animator` itself (never converted
    by the widget, which turns 16-bit PNGs white and hides our messages)."""
    if not portrait:
        raise InputError("Upload a portrait first (a photo of one person).")
    return portrait


def driving(video, settings: dict) -> tuple[str, list[str]]:
    """What drives the motion, and a note when both a video and a motion were given."""
    motion = settings.get("motion") or NO_MOTION
    if motion != NO_MOTION:
        if video:
            return motion, [f"Both a driving video and the built-in motion '{motion}' were "
                            f"given: animated '{motion}'. Set the motion to {NO_MOTION} to "
                            "use the video."]
        return motion, []
    if not video:
        raise InputError("Upload a driving video or pick a built-in motion.")
    return video, []


def span(settings: dict) -> dict:
    """The part of the driving video used (end 0: to the end)."""
    start, end = float(settings.get("start") or 0), float(settings.get("end") or 0)
    return {"start": start, "end": end or None}


def people(settings: dict) -> dict:
    """Which person of the portrait and of the driving video (numbers as shown boxed)."""
    chosen = {}
    for key in ("person", "driving_person"):
        value = settings.get(key) or 0
        if float(value) != int(value):
            raise InputError(f"{key} must be a whole number (0 = the largest), got {value}.")
        chosen[key] = int(value)
    return chosen


class Inputs:
    """The section's components, made where it is built (inside the page's Blocks)."""

    def __init__(self):
        self.portrait = gr.File(label="Portrait (a photo of one person)", type="filepath",
                                elem_id="portrait")
        self.portrait_view = gr.Image(label="Portrait as read, people numbered",
                                      interactive=False, height=240, elem_id="portrait_view")
        self.person = gr.Number(0, label="Person in the portrait (0 = the largest)",
                                precision=0, minimum=0, elem_id="person")
        self.video = gr.Video(label="Driving video", sources=["upload"], elem_id="driving")
        self.driving_view = gr.Image(label="People in the driving video (first frame with "
                                     "people)", interactive=False, height=240,
                                     elem_id="driving_view")
        self.driving_person = gr.Number(
            0, label="Person in the driving video (0 = the largest)", precision=0, minimum=0,
            elem_id="driving_person")
        self.motion = gr.Dropdown([NO_MOTION, *MOTIONS], value=NO_MOTION,
                                  label="Or a built-in motion", elem_id="motion")
        with gr.Row():
            self.start = gr.Number(0, label="Start (s)", minimum=0)
            self.end = gr.Number(0, label="End (s, 0 = to the end)", minimum=0)

    @property
    def api(self) -> dict:
        """API parameter name -> component, after the portrait and the video."""
        return {"motion": self.motion, "start": self.start, "end": self.end,
                "person": self.person, "driving_person": self.driving_person}

    def wire(self, animator) -> None:
        """Show the people of each upload, numbered, with a selector over those numbers."""

        def people_in(source, what: str, **where):
            if not source:
                return None, gr.update(value=0, maximum=None)
            found = animator.find_people(source, **where)
            count = len(found.boxes)
            label = (f"Person in the {what} (0 = the largest; {count} found)" if count
                     else f"Person in the {what} (nobody found)")
            return found.image, gr.update(value=0, minimum=0, maximum=max(count - 1, 0),
                                          label=label)

        @user_errors
        def show_portrait(portrait):
            return people_in(portrait, "portrait")

        @user_errors
        def show_driving(video, start):
            return people_in(video, "driving video", start=float(start or 0))

        self.portrait.change(show_portrait, self.portrait, [self.portrait_view, self.person],
                             api_visibility="private")
        self.video.change(show_driving, [self.video, self.start],
                          [self.driving_view, self.driving_person], api_visibility="private")
