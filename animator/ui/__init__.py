"""The page (a Gradio Blocks app), one module per section.

inputs.py (portrait, driving video or motion, the people to use), pose.py (retargeting and
its preview, `/extract_pose`), settings.py (generation settings drawn from the families'
declarations), results.py (the clip and what goes with it), examples.py, notice.py (the
device notice), handlers.py (error messages, running jobs per session), and page.py, which
lays them out and wires `/animate`. `app.py` at the top of the repository builds it.
"""

from animator.ui.inputs import NO_MOTION
from animator.ui.notice import device_notice
from animator.ui.page import build_demo

__all__ = ["NO_MOTION", "build_demo", "device_notice"]
