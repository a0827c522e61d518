"""The generation settings section, drawn from what the families declare.

A control is made for every setting with a `widget` that any family declares (and for its
load options); a page name two families declare (steps) is one control. The controls of
the chosen preset's family are shown and the others hidden; choosing a preset sets the
controls that follow it (`Setting.follows_preset`) to its defaults. The page's own
controls are the preset, the output size and frame rate, the seed and low-memory mode.

From the values of an API call (or the page), `Settings.request` makes what `Animator`
takes: the generation settings, the output rate and the load options. A call that names
another preset than the page's, but leaves a following setting at the page's value, gets
that preset's own default (the page's value was the page preset's).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import gradio as gr

from animator import families
from animator.errors import InputError
from animator.families.base import Setting

AUTO_SIZE = "auto (from the portrait)"
SIZES = [AUTO_SIZE, "576x1024", "1024x576", "512x512", "768x768", "320x576", "256x256"]
PAGE_FPS = 15  # output frame rate offered for families without one of their own
PAGE_SEED = 42  # the seed shown when the page's preset has none of its own


def size(resolution: str) -> dict:
    """{"width", "height"} from "WxH"; {} for the automatic size."""
    if not resolution or resolution == AUTO_SIZE:
        return {}
    try:
        width, height = (int(v) for v in resolution.lower().split("x"))
    except ValueError as e:
        raise InputError(f"Resolution must look like 576x1024 (width x height), got "
                         f"{resolution!r}.") from e
    return {"width": width, "height": height}


def convert(setting: Setting, value: Any) -> Any:
    """A control's value as the setting's type (None stays None: the preset's own)."""
    if value is None or setting.type is str:
        return value
    return setting.type(value)


def offered(preset: str) -> list[Setting]:
    """The preset's settings and load options that have a control, in declared order."""
    return [s for s in (*families.settings_of(preset), *families.load_options_of(preset))
            if s.widget]


def option_dependent(preset: str) -> dict[str, set[str]]:
    """load option name -> page names of the settings whose defaults it changes (a
    distillation LoRA's steps), for `preset`."""
    base = {s.api_name: s.default for s in families.settings_of(preset)}
    out: dict[str, set[str]] = {}
    for option in families.load_options_of(preset):
        values = option.choices or ((not option.default,) if option.type is bool else ())
        for value in values:
            changed = {s.api_name for s in families.settings_of(preset, {option.name: value})
                       if s.widget and s.default != base.get(s.api_name)}
            if changed:
                out.setdefault(option.name, set()).update(changed)
    return out


@dataclass
class Request:
    """What an `/animate` call asks of `Animator`."""

    generation: dict[str, Any]  # generation settings (`Animator.animate(generation=...)`)
    fps: float | None  # output rate (None: the family's own)
    load_options: dict[str, Any]  # `Animator.set_load_options(...)`


class Settings:
    """The section's components, made where it is built, for a page opened on
    `animator.preset`."""

    def __init__(self, animator):
        page = self.page_preset = animator.preset
        self.presets = list(dict.fromkeys([*families.preset_names(), page]))  # + local:
        own = {s.api_name: s for s in offered(page)}
        self.declared: dict[str, Setting] = {}  # page name -> the declaration drawing it
        start: dict[str, Any] = {}  # page name -> its value when the page opens
        for family in families.registered():
            shown = page if families.family_for(page) is family else next(iter(family.presets()))
            for s in offered(shown):
                self.declared.setdefault(s.api_name, s)
                start.setdefault(s.api_name, own[s.api_name].default if s.api_name in own
                                 else s.default)
        seed = next((s.default for s in families.settings_of(page) if s.name == "seed"), None)

        self.preset = gr.Dropdown(self.presets, value=page, label="Preset", elem_id="preset")
        self.resolution = gr.Dropdown(SIZES, value=AUTO_SIZE, label="Resolution (WxH)",
                                      allow_custom_value=True)
        self.fps = gr.Slider(5, 30, families.output_fps(page) or PAGE_FPS, step=1,
                             label="Output frames per second")
        with gr.Row():
            self.seed = gr.Number(PAGE_SEED if seed is None else seed, label="Seed",
                                  precision=0)
            self.randomize_seed = gr.Checkbox(False, label="Randomize seed")
        self.controls: dict[str, gr.components.Component] = {}
        self._draw([s for s in self.declared.values() if not s.advanced], start, own)
        with gr.Accordion("Advanced", open=False):
            self._draw([s for s in self.declared.values() if s.advanced], start, own)
            self.low_memory = gr.Checkbox(animator.low_memory, label="Low-memory mode")
        # the API's defaults, to tell a setting left alone from a chosen one
        self.page_values = {**start, "fps": self.fps.value}

    def _draw(self, declared: list[Setting], start: dict, own: dict) -> None:
        """Controls in order; neighbours with the same `row` side by side."""
        rows: list[list[Setting]] = []
        for s in declared:
            if rows and s.row is not None and rows[-1][0].row == s.row:
                rows[-1].append(s)
            else:
                rows.append([s])
        for row in rows:
            if len(row) == 1:
                self._control(row[0], start, own)
                continue
            with gr.Row():
                for s in row:
                    self._control(s, start, own)

    def _control(self, s: Setting, start: dict, own: dict) -> None:
        value, visible = start[s.api_name], s.api_name in own
        common = {"label": s.label, "visible": visible, "elem_id": s.elem_id}
        if s.widget == "slider":
            control = gr.Slider(*s.span, value, step=s.step, **common)
        elif s.widget == "radio":
            control = gr.Radio(list(s.choices), value=value, **common)
        elif s.widget == "dropdown":
            control = gr.Dropdown(list(s.choices), value=value, **common)
        elif s.widget == "checkbox":
            control = gr.Checkbox(value, **common)
        elif s.widget == "number":
            control = gr.Number(value, precision=0 if s.type is int else None, **common)
        else:
            control = gr.Textbox(value, placeholder=s.placeholder, **common)
        self.controls[s.api_name] = control

    @property
    def api(self) -> dict:
        """API parameter name -> component: the page's own, then the families'."""
        return {"preset": self.preset, "resolution": self.resolution, "fps": self.fps,
                "seed": self.seed, "randomize_seed": self.randomize_seed, **self.controls,
                "low_memory": self.low_memory}

    def request(self, values: dict) -> Request:
        """What the call's values ask for with `values["preset"]`."""
        preset = values["preset"]
        other = preset != self.page_preset
        load = {s.name: convert(s, values[s.api_name])
                for s in families.load_options_of(preset) if s.widget}
        declared = families.settings_of(preset)
        names = {s.name for s in declared}
        generation = size(values["resolution"]) if {"width", "height"} <= names else {}
        for s in (s for s in declared if s.widget):
            value = convert(s, values[s.api_name])
            if not (s.follows_preset and other and value == self.page_values[s.api_name]):
                generation[s.name] = value
        # left at the model's default, a following setting takes the loaded model's own
        # (e.g. a distillation LoRA's steps)
        base = {s.name: s.default for s in declared}
        loaded = {s.name: s for s in families.settings_of(preset, load)}
        for name, s in loaded.items():
            if s.follows_preset and name in generation and s.default != base[name] \
                    and generation[name] == base[name]:
                del generation[name]
        fps = float(values["fps"])
        if families.output_fps(preset) is not None and other and fps == self.page_values["fps"]:
            fps = None  # the family's own rate
        if "seed" in names:
            # a new seed per run when asked (None would mean the preset's own, a fixed one)
            generation["seed"] = (secrets.randbelow(2**31) if values["randomize_seed"]
                                  else int(values["seed"]))
        return Request(generation, fps, load)

    @property
    def preset_outputs(self) -> list:
        """What choosing a preset updates (before the device notice)."""
        return [self.fps, *self.controls.values()]

    def preset_updates(self, preset: str) -> list:
        """Controls follow the chosen preset: its family's controls shown, its defaults."""
        own = {s.api_name: s for s in offered(preset)}
        updates = [gr.update(value=families.output_fps(preset) or PAGE_FPS)]
        for name in self.controls:
            s = own.get(name)
            if s is None:
                updates.append(gr.update(visible=False))
            elif s.follows_preset and s.default is not None:
                updates.append(gr.update(visible=True, value=s.default))
            else:
                updates.append(gr.update(visible=True))
        return updates

    def option_triggers(self) -> tuple[list[str], list[str]]:
        """(load options whose change sets other controls, the controls they set), over
        every preset the page offers."""
        triggers: dict[str, None] = {}
        dependent: dict[str, None] = {}
        for preset in self.presets:
            for option, names in option_dependent(preset).items():
                triggers.setdefault(option)
                dependent.update(dict.fromkeys(sorted(names)))
        by_name = {s.name: s.api_name for s in self.declared.values()}
        return [by_name[o] for o in triggers if o in by_name], list(dependent)

    def option_defaults_for(self, triggers: list[str], dependent: list[str]):
        """The handler that sets the dependent controls to the defaults of the chosen
        preset as loaded with the triggering options' values (others unchanged)."""

        def option_defaults(preset, *values):
            given = dict(zip(triggers, values, strict=True))
            options = {s.name: convert(s, given[s.api_name])
                       for s in families.load_options_of(preset) if s.api_name in given}
            depends = set().union(*option_dependent(preset).values())
            now = {s.api_name: s.default for s in families.settings_of(preset, options)}
            updates = [gr.update(value=now[name]) if name in depends else gr.update()
                       for name in dependent]
            return updates[0] if len(updates) == 1 else updates

        return option_defaults
