"""`python -m animator evaluate`: how good is a generated clip, in numbers.

Pose accuracy (`pose.py`: the project's detector run again on the frames against the
retargeted target poses), identity (`identity.py`: ArcFace CSIM against the portrait),
temporal stability (`temporal.py`: flicker as warping error; keypoint jitter), agreement
with a ground-truth video (`pixels.py`: L1, PSNR, SSIM; `lpips.py`: LPIPS when its weights
are on the machine) and sync (`sync.py`: duration, audio present and in step).
`run.py` measures one clip in one streamed pass; `table.py` gathers many clips (a folder of
runs or a jobs file run through `batch`) into CSV, JSON and a report with plots.
"""

from animator.evaluate.config import EvaluateConfig
from animator.evaluate.run import Evaluation, Target, evaluate_clip, make_target

__all__ = ["EvaluateConfig", "Evaluation", "Target", "evaluate_clip", "make_target"]
