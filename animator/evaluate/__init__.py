"""`python -m animator evaluate`: how good is a generated clip, in numbers.

Pose accuracy (`pose.py`: the project's detector run again on the frames against the
retargeted target poses), identity (`identity.py`: ArcFace CSIM against the portrait),
temporal stability (`temporal.py`: flicker as warping error; keypoint jitter), agreement
with a ground-truth video (`pixels.py`: L1, PSNR, SSIM; `lpips.py` and `fid.py`: LPIPS and
FID when their weights are on the machine; FVD is refused, see `runs.py`) and sync
(`sync.py`: duration, audio present and in step). `run.py` measures one clip in one
streamed pass; `runs.py` finds the clips and their inputs (clips, folders of runs, a jobs
file run through `batch`) and `report.py` writes the CSV, JSON and a report with plots.
"""

from animator.evaluate.config import EvaluateConfig
from animator.evaluate.run import Evaluation, Target, evaluate_clip, make_target

__all__ = ["EvaluateConfig", "Evaluation", "Target", "evaluate_clip", "make_target"]
