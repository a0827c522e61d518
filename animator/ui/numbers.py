"""Every number box and slider of the page reads its value itself, so that a bad number is
our message naming the field.

Gradio's own `Number` and `Slider` compare and round whatever arrives: text (`abc`, from the
API or MCP) fails as "Could not preprocess input component ...", `inf` overflows the
rounding of a whole-number box, and NaN passes the bounds (every comparison with NaN is
false). `check_numbers` gives both classes our `preprocess`: the value is read as a
number or numeric text, refused unless finite and within the control's bounds, then handed
to Gradio's own step (rounding).
"""

from __future__ import annotations

import math
from numbers import Real

import gradio as gr


def read_number(payload, *, label: str, minimum=None, maximum=None,
                optional: bool = True) -> float | None:
    """`payload` (a number or its text) as a finite number in [minimum, maximum]; else a
    gr.Error that names the field by `label`."""
    def refuse(problem: str):
        raise gr.Error(f"{label}: {problem}, got {payload!r}.", print_exception=False)

    if payload is None or (isinstance(payload, str) and not payload.strip()):
        if optional:
            return None
        refuse("give a number")
    if isinstance(payload, bool):
        refuse("must be a number")
    if isinstance(payload, str):
        try:
            value = float(payload.strip())
        except ValueError:
            refuse("must be a number")
    elif isinstance(payload, Real):
        value = float(payload)
    else:
        refuse("must be a number")
    if not math.isfinite(value):
        refuse("must be a finite number")
    if minimum is not None and value < minimum:
        refuse(f"must be at least {minimum:g}")
    if maximum is not None and value > maximum:
        refuse(f"must be at most {maximum:g}")
    return value


_GRADIO = {cls: cls.preprocess for cls in (gr.Number, gr.Slider)}


def _reading(cls):
    gradio_step = _GRADIO[cls]

    def preprocess(self, payload):
        value = read_number(payload, label=self.label or "A number", minimum=self.minimum,
                            maximum=self.maximum, optional=cls is gr.Number)
        return None if value is None else gradio_step(self, value)

    preprocess.__doc__ = gradio_step.__doc__
    return preprocess


def check_numbers(demo: gr.Blocks) -> gr.Blocks:
    """Every Number and Slider reads its value as `read_number` does, then rounds as
    Gradio does. Installed on the two classes, not on the page's instances: Gradio rebuilds
    a control for each session whose handler updated it (the person boxes, once the people
    of an upload are counted), and the rebuilt one must read the same way. The page is the
    only Blocks app this package serves."""
    for cls in _GRADIO:
        cls.preprocess = _reading(cls)
    return demo
