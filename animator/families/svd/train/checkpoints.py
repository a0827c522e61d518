"""Checkpoints and exact resume: accelerate's `save_state` folders holding only the trained
weights (not the frozen backbone), marked complete last, the oldest dropped; the step and
the failures met so far (`TrainState`); which folder a run resumes from."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import load_file, save_file
from torch import nn

from animator.errors import InputError

logger = logging.getLogger(__name__)

TRAINABLE_WEIGHTS = "trainable.safetensors"  # in each checkpoint folder

DONE = "checkpoint.json"  # written last: a checkpoint folder without it is incomplete


class TrainState:
    """What accelerate cannot know: the step and the failures met so far."""

    def __init__(self):
        self.step = 0
        self.skipped: list[str] = []

    def state_dict(self) -> dict:
        return {"step": self.step, "skipped": list(self.skipped)}

    def load_state_dict(self, state: dict) -> None:
        self.step, self.skipped = int(state["step"]), list(state["skipped"])


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint folder."""
    done = sorted((output_dir / "checkpoints").glob(f"step_*/{DONE}"))
    return done[-1].parent if done else None


def _checkpoint(accelerator: Accelerator, output_dir: Path, step: int, limit: int) -> None:
    """save_state into checkpoints/step_N, mark it complete, drop the oldest beyond `limit`."""
    folder = output_dir / "checkpoints" / f"step_{step:08d}"
    accelerator.save_state(str(folder))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (folder / DONE).write_text(json.dumps({"step": step}))
        if limit:
            done = sorted((output_dir / "checkpoints").glob(f"step_*/{DONE}"))
            for old in done[:-limit]:
                shutil.rmtree(old.parent)


def resume_folder(resume_from: str, output_dir: Path) -> Path | None:
    """The checkpoint `resume_from` names ("latest", a folder, or "" for a fresh start); a
    fresh start into a folder that holds an earlier run's checkpoints is refused."""
    resume = None
    if resume_from == "latest":
        resume = latest_checkpoint(output_dir)
        if resume is None:
            logger.info("No checkpoint in %s yet: starting fresh.", output_dir)
    elif resume_from:
        resume = Path(resume_from).expanduser()
        if not (resume / DONE).is_file():
            raise InputError(f"{resume} is not a complete checkpoint (no {DONE}): give a "
                             f"folder under {output_dir / 'checkpoints'} or resume_from=latest.")
    elif latest_checkpoint(output_dir) is not None:
        raise InputError(f"{output_dir} holds checkpoints of an earlier run: add "
                         "resume_from=latest to continue it, or choose a new output_dir.")
    return resume


def save_only_trained(accelerator: Accelerator, params: dict[str, nn.Parameter],
                      trainable: list[str]) -> None:
    """Make accelerate's save_state / load_state write and read only `params` (the frozen
    backbone is not copied into every checkpoint); a checkpoint of other parts is refused."""

    def save_weights(models, weights, folder) -> None:
        if accelerator.is_main_process:
            save_file({k: p.detach().float().cpu().contiguous() for k, p in params.items()},
                      str(Path(folder) / TRAINABLE_WEIGHTS))
        weights.clear()  # the frozen backbone is not copied into every checkpoint

    def load_weights(models, folder) -> None:
        saved = load_file(str(Path(folder) / TRAINABLE_WEIGHTS))
        if saved.keys() != params.keys():
            raise InputError(f"The checkpoint {folder} trained other parts than these settings "
                             f"(trainable={trainable}): resume with the same settings.")
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(saved[k])
        models.clear()

    accelerator.register_save_state_pre_hook(save_weights)
    accelerator.register_load_state_pre_hook(load_weights)
