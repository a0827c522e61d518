"""The arithmetic of sampling a long clip, apart from any model: which frames each window
holds (`plan_windows`), how the windows' noise predictions are blended (`blend_weights`), and
Align Your Steps' noise levels for SVD (`ays_sigmas`). The CPU estimate (cost.py) and the
benchmarks use them without loading a pipeline."""

from __future__ import annotations

import math

import numpy as np
import torch
from diffusers.schedulers import AysSchedules

from animator.errors import InputError


def plan_windows(num_frames: int, window: int, overlap: int, anchor: bool = False
                 ) -> list[list[int]]:
    """Frame indices of each window, fewest frames computed more than once.

    Frames are 0..num_frames-1, or 1..num_frames after an anchor frame 0 that opens every
    window. Each window has at most `window` frames (anchor included) and neighbours share
    exactly `overlap` frames, so with the fewest windows that can cover the clip the number of
    frames computed per step, num_frames + (count - 1) * overlap (+ count anchors), is minimal;
    lengths are spread evenly so no window is a short leftover.
    """
    span = window - int(anchor)  # new frames a window can hold
    if num_frames < 1:
        raise InputError("The clip has no frames: give at least one pose frame.")
    if overlap < 0 or span <= overlap:
        raise InputError(f"Window {window} is too short for overlap {overlap}"
                         f"{' plus the reference-pose anchor' if anchor else ''}: "
                         f"use a window of at least {overlap + int(anchor) + 1} frames.")
    head = [0] if anchor else []
    first = int(anchor)
    if num_frames <= span:
        return [head + list(range(first, first + num_frames))]
    count = math.ceil((num_frames - overlap) / (span - overlap))
    total = num_frames + (count - 1) * overlap
    lengths = [total // count + (k < total % count) for k in range(count)]
    windows, start = [], first
    for length in lengths:
        windows.append(head + list(range(start, start + length)))
        start += length - overlap
    return windows


def plan_public_windows(clip_len: int, tile: int, overlap: int) -> list[list[int]]:
    """The window plan of MimicMotion's and StableAnimator's pipelines (their `indices`),
    over clip frames 0..clip_len-1: a window starts every `tile - overlap` frames and holds
    clip frame 0 (the anchor, or the clip's first frame) plus the `tile - 1` frames after
    its start; when those windows stop short of the end, one more holds frame 0 plus the
    last `tile - 1` frames. A clip no longer than `tile` is one window.

    Against `plan_windows` it computes more frames (every window is full, the last one is
    aligned to the end, frame 0 is in all of them); the blend is `public_blend_weights`.
    """
    if clip_len < 1:
        raise InputError("The clip has no frames: give at least one pose frame.")
    step = tile - overlap
    if overlap < 0 or step < 1 or tile < 2:
        raise InputError(f"Window {tile} is too short for overlap {overlap}: use a window "
                         f"of at least {overlap + 1} frames.")
    if clip_len <= tile:
        return [list(range(clip_len))]
    windows = [[0, *range(start + 1, start + tile)]
               for start in range(0, clip_len - tile + 1, step)]
    if windows[-1][-1] < clip_len - 1:
        windows.append([0, *range(clip_len - tile + 1, clip_len)])
    return windows


def public_blend_weights(windows: list[list[int]], clip_len: int) -> list[torch.Tensor]:
    """The public pipelines' blend: position p of an n-frame window weighs
    1 - |2 (p + 0.5) / n - 1| (a tent peaking mid-window, frame 0 included at its first
    position), normalised over the windows holding each frame."""
    raw = []
    for idx in windows:
        n = len(idx)
        x = (torch.arange(n, dtype=torch.float64) + 0.5) * 2 / n
        raw.append((1 - (x - 1).abs()).float())
    total = torch.zeros(clip_len)
    for idx, w in zip(windows, raw, strict=True):
        total[idx] += w
    return [w / total[idx] for idx, w in zip(windows, raw, strict=True)]


def computed_frames(windows: list[list[int]]) -> int:
    """Frames the UNet computes per denoising step (per guidance branch) for a plan."""
    return sum(len(idx) for idx in windows)


def ays_sigmas(steps: int) -> list[float]:
    """Align Your Steps' noise levels for SVD: `steps` + 1 sigmas, from 700 down to 0.

    The published schedule (diffusers' `AysSchedules["StableDiffusionVideoSigmas"]`) has 10
    steps and is returned as is for 10; other counts interpolate its log sigmas linearly over
    the step position (the non-zero ones; the last sigma stays 0)."""
    if steps < 1:
        raise InputError("num_inference_steps must be at least 1.")
    published = np.asarray(AysSchedules["StableDiffusionVideoSigmas"], dtype=np.float64)
    levels = published[:-1]
    if steps != len(levels):
        levels = np.exp(np.interp(np.linspace(0, 1, steps), np.linspace(0, 1, len(levels)),
                                  np.log(levels)))
    return [*map(float, levels), float(published[-1])]


def blend_weights(windows: list[list[int]], num_frames: int, anchor: bool = False
                  ) -> list[torch.Tensor]:
    """Per-window weights of each frame's noise prediction, summing to 1 over windows.

    Triangular in the position within the window (low at its edges, so a window's prediction
    fades out where the next one fades in); an anchor frame weighs the same in every window.
    """
    raw = []
    for idx in windows:
        n = len(idx) - int(anchor)
        tri = torch.minimum(torch.arange(1, n + 1), torch.arange(n, 0, -1)).float()
        raw.append(torch.cat([torch.ones(1), tri]) if anchor else tri)
    total = torch.zeros(num_frames)
    for idx, w in zip(windows, raw, strict=True):
        total[idx] += w
    return [w / total[idx] for idx, w in zip(windows, raw, strict=True)]
