"""What `AnimationPipeline.__call__` accepts: the portrait, the pose frames (arrays, lists or
lazy sequences), the size and the choice arguments, checked before any model runs, each
refusal an InputError that names the fix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import PIL.Image

from animator.errors import InputError
from animator.families.svd.config import GENERATION_CHOICES


def check_inputs(image, skeleton, dense, reference_pose, num_frames, height, width, *,
                 has_pose_encoder: bool) -> tuple:
    """Validate and normalise the inputs a user gives; InputError names the fix."""
    image = _as_image(image)
    if skeleton is not None:
        skeleton = _as_frames(skeleton, "Skeleton")
    if dense is not None:
        dense = _as_frames(dense, "Dense")
    if (skeleton is not None or dense is not None) and not has_pose_encoder:
        raise InputError("This model has no pose encoder: load a preset with one.")
    if reference_pose is not None:
        if skeleton is None:
            raise InputError("A reference pose needs skeleton frames to go with it.")
        reference_pose = _as_frames(np.asarray(reference_pose)[None], "Reference pose")[0]
        if reference_pose.shape != skeleton[0].shape:
            raise InputError(f"The reference pose is {reference_pose.shape[:2]} but the "
                             f"skeleton frames are {skeleton[0].shape[:2]}: render both "
                             "at one size.")
    lengths = {len(x) for x in (skeleton, dense) if x is not None}
    if len(lengths) > 1:
        raise InputError(f"Skeleton and dense frames differ in number ({sorted(lengths)}): "
                         "render both from the same pose sequence.")
    if lengths:
        if num_frames is not None and num_frames not in lengths:
            raise InputError(f"num_frames={num_frames} but {lengths.pop()} pose frames were "
                             "given: leave num_frames out.")
        num_frames = lengths.pop()
    elif num_frames is None:
        raise InputError("Give pose frames or num_frames.")
    if height is None or width is None:
        source = skeleton if skeleton is not None else dense
        h, w = source[0].shape[:2] if source is not None else (image.height, image.width)
        height, width = height or h // 8 * 8, width or w // 8 * 8
    if height % 8 or width % 8 or height < 8 or width < 8:
        raise InputError(f"Width and height must be positive multiples of 8, got "
                         f"{width}x{height} (width x height).")
    return image, skeleton, dense, reference_pose, num_frames, height, width


def check_options(*, output_type: str, decode_chunk_size: int, **choices: str) -> None:
    """The choice arguments (GENERATION_CHOICES), output_type and decode_chunk_size."""
    for name, value in choices.items():
        if value not in GENERATION_CHOICES[name]:
            raise InputError(f"{name} must be one of "
                             f"{', '.join(map(repr, GENERATION_CHOICES[name]))}, got "
                             f"{value!r}.")
    if output_type not in ("np", "pil", "latent"):
        raise InputError(f"output_type must be 'np', 'pil' or 'latent', got {output_type!r}.")
    if decode_chunk_size < 1:
        raise InputError("decode_chunk_size must be at least 1.")


def _as_frames(frames, name: str) -> Sequence[np.ndarray]:
    """Check uint8 RGB frames (T, H, W, 3) or a list of (H, W, 3); returned unstacked.

    Any other `Sequence` (e.g. `render.RenderedPoses`, which draws frame i when asked) is
    kept lazy, so a long clip's pose maps never all sit in memory; its first frame is
    checked and the rest are trusted to match."""
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise InputError(f"{name} frames must be uint8 RGB of shape (T, H, W, 3), got "
                             f"{frames.dtype} {frames.shape}: pass rendered pose maps.")
        return frames
    if isinstance(frames, Sequence) and not isinstance(frames, list | tuple):
        sample = [frames[0]] if len(frames) else []
    else:
        frames = sample = list(frames)
    shapes = {(f.shape, f.dtype) for f in sample}
    if len(shapes) != 1 or any(len(s) != 3 or s[-1] != 3 or d != np.uint8 for s, d in shapes):
        raise InputError(f"{name} frames must be uint8 RGB (H, W, 3) arrays of one size: "
                         "pass rendered pose maps.")
    return frames


def _as_image(image) -> PIL.Image.Image:
    if isinstance(image, PIL.Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray) and image.ndim == 3 and image.shape[-1] == 3 \
            and image.dtype == np.uint8:
        return PIL.Image.fromarray(image)
    raise InputError("The reference image must be a PIL image or a uint8 RGB array (H, W, 3).")
