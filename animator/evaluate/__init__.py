"""`python -m animator evaluate`: how good is a generated clip, in numbers.

Pose accuracy (`pose.py`: the project's detector run again on the frames against the
retargeted target poses), identity (`identity.py`: ArcFace CSIM against the portrait),
temporal stability (`temporal.py`: flicker as warping error; keypoint jitter), the build
(`proportion.py`: bone ratios against the portrait's and the driver's), sync (`sync.py`:
duration, audio present and in step) and agreement with a ground-truth video
(`truth.py`): L1, PSNR, SSIM (`pixels.py`, `ssim.py`), LPIPS (`lpips.py`), FID (`fid.py`),
FID-VID and FVD (`fvd.py` with `i3d.py`, `resnet3d.py`), all through the Fréchet distance
of `frechet.py`, in one of two protocols (`protocols.py`: the reference definitions, or
DisCo's conventions of the papers' TikTok tables, `disco.py`). `run.py` measures one clip
in one streamed pass; `runs.py` finds the clips and their inputs (clips, folders of runs,
a jobs file run through `batch`), `networks.py` loads what the scores need, `report.py`
writes the CSV, JSON and a report with plots (`plots.py`) and a pooled row (`pool.py`).
"""

from animator.evaluate.config import EvaluateConfig
from animator.evaluate.run import Evaluation, Target, evaluate_clip, make_target

__all__ = ["EvaluateConfig", "Evaluation", "Target", "evaluate_clip", "make_target"]
