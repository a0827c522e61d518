"""The inputs section: the portrait, the driving video or a built-in motion, the part of
the video used, and which person of each (numbered boxes shown as soon as a file is up).

The people found on upload are remembered, so that Generate refuses a driving video with
nobody in it at once, with the reason, instead of after loading the model and reading
every frame."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import gradio as gr

from animator.driving import VIDEO_SUFFIXES
from animator.errors import InputError
from animator.pose.motions import MOTIONS
from animator.ui import playable
from animator.ui.handlers import on_page, user_errors
from animator.video import probe_video

NO_MOTION = "none"
PEOPLE_SCAN_SECONDS = 10.0  # how much of a video `Animator.find_people` looks at
REMEMBERED = 64  # uploads whose people count is kept


def portrait_path(portrait) -> str:
    """The uploaded portrait's path; the file is read by `animator` itself (never converted
    by the widget, which turns 16-bit PNGs white and hides our messages)."""
    if not portrait:
        raise InputError("Upload a portrait first (a photo of one person).")
    return portrait


def driving(video, settings: dict) -> tuple[str, list[str]]:
    """What drives the motion, and a note when both a video and a motion were given."""
    motion = settings.get("motion") or NO_MOTION
    video = playable.original(video)  # the upload, not the player's copy of it
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


class PeopleSeen:
    """How many people each driving video shows in its first seconds (from the upload,
    else looked at once), and the refusal of a video in which nobody is found."""

    def __init__(self, animator):
        self.animator = animator
        self.counts: OrderedDict[tuple[str, float], int] = OrderedDict()

    def count(self, video: str, start: float) -> int:
        key = (str(video), start)
        if key not in self.counts:
            self.remember(key, len(self.animator.find_people(video, start=start).boxes))
        return self.counts[key]

    def remember(self, key: tuple[str, float], count: int) -> None:
        self.counts[key] = count
        while len(self.counts) > REMEMBERED:
            self.counts.popitem(last=False)

    def refuse_nobody(self, driving, span: dict) -> None:
        """An InputError before any work when `driving` is a video whose part used shows
        nobody (a longer part is left to the full detection)."""
        if not isinstance(driving, str) or Path(driving).suffix.lower() not in VIDEO_SUFFIXES:
            return
        start, end = span["start"], span["end"]
        if self.count(driving, start):
            return
        end = min(end or float("inf"), probe_video(driving).duration)
        if end - start <= PEOPLE_SCAN_SECONDS:
            raise InputError(
                "No person found in the driving video (the people box above says \"nobody "
                "found\"). Upload a video in which one person is visible (whole body for "
                "dances and walks), or pick a built-in motion.")


class Inputs:
    """The section's components, made where it is built (inside the page's Blocks)."""

    def __init__(self):
        self.portrait = gr.File(label="Portrait (a photo of one person)", type="filepath",
                                elem_id="portrait")
        self.portrait_view = gr.Image(label="Portrait as read, people numbered",
                                      interactive=False, height=240, elem_id="portrait_view")
        self.portrait_notes = gr.Markdown(elem_id="portrait_notes")
        self.person = gr.Number(0, label="Person in the portrait (0 = the largest)",
                                precision=0, minimum=0, elem_id="person")
        self.video = gr.Video(label="Driving video", sources=["upload"], elem_id="driving")
        self.driving_view = gr.Image(label="People in the driving video (first frame with "
                                     "people)", interactive=False, height=240,
                                     elem_id="driving_view")
        self.driving_notes = gr.Markdown(elem_id="driving_notes")
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

    def wire(self, animator, seen: PeopleSeen) -> None:
        """Show the people of each upload, numbered, with a selector over those numbers; a
        file that cannot be read says why under it."""

        def people_in(source, what: str, **where) -> tuple[tuple, int]:
            if not source:
                return (None, gr.update(value=0, maximum=None), ""), 0
            found = animator.find_people(source, **where)
            count = len(found.boxes)
            label = (f"Person in the {what} (0 = the largest; {count} found)" if count
                     else f"Person in the {what} (nobody found)")
            return (found.image, gr.update(value=0, minimum=0, maximum=max(count - 1, 0),
                                           label=label), ""), count

        @user_errors
        def show_portrait(portrait):
            return people_in(portrait, "portrait")[0]

        @user_errors
        def show_driving(video, start):
            if playable.is_copy(video):  # the player's copy, set below: nothing new
                return gr.update(), gr.update(), gr.update(), gr.update()
            start = float(start or 0)
            shown, count = people_in(video, "driving video", start=start)
            if not video:
                return gr.update(), *shown
            seen.remember((str(video), start), count)
            copy = playable.player_copy(video, animator.work_dir)
            return (gr.update() if copy is None else copy), *shown

        self.portrait.change(on_page(show_portrait, 3, 2), self.portrait,
                             [self.portrait_view, self.person, self.portrait_notes],
                             show_progress_on=[self.portrait_view], api_visibility="private")
        self.video.change(on_page(show_driving, 4, 3), [self.video, self.start],
                          [self.video, self.driving_view, self.driving_person,
                           self.driving_notes],
                          show_progress_on=[self.driving_view], api_visibility="private")
