"""`retarget()`: the steps in order, with placement at the portrait's neck and ground line
(step 6), and `Retargeted`, what it returns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from animator.config import RetargetConfig
from animator.errors import InputError
from animator.pose.retarget.cleaning import clean
from animator.pose.retarget.closeups import rare_lower_body, torso_from_shoulders
from animator.pose.retarget.foreshortening import foreshortened, short_measures, turned_head
from animator.pose.retarget.foreshortening import notice as foreshortening_notice
from animator.pose.retarget.lengths import COL, HAND_COLS, Canonical, canonical_lengths
from animator.pose.retarget.ratios import (
    BORDER,
    K_WEIGHT,
    _multipliers,
    global_scale,
    group_ratios,
    point_ratios,
    portrait_lengths,
    proportion_ratios,
)
from animator.pose.retarget.settings import check_retarget_config
from animator.pose.retarget.smoothing import smooth
from animator.pose.retarget.steady import consistent_sides, steady_head, steady_shoulders
from animator.pose.retarget.transitions import closest_frame, lead_in
from animator.pose.retarget.tree import compose, decompose, from_planes
from animator.pose.retarget.visibility import hygiene
from animator.pose.skeleton import (
    L_ANKLE,
    L_HIP,
    L_KNEE,
    NECK,
    NUM_KEYPOINTS,
    R_ANKLE,
    R_HIP,
    R_KNEE,
    PoseSequence,
)


@dataclass
class Retargeted:
    """The retargeted motion and what the user should know about it.

    poses: in the portrait's pixels at the driver's fps; `lead_in` transition frames first,
    then one frame per used driver frame (from `driver_start`). `ratios` are per group and
    relative to the global `scale` k (1 = the driver's proportions), multipliers included.
    """

    poses: PoseSequence
    lead_in: int
    driver_start: int
    scale: float
    ratios: dict[str, float]
    notices: list[str]



# hips, legs and feet: what an upper-body driver never shows
_LOWER_BODY = np.array([R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, *range(18, 24)])

# --- the entry point ------------------------------------------------------------------------


def retarget(
    driver: PoseSequence, portrait: PoseSequence, config: RetargetConfig | None = None
) -> Retargeted:
    """The driving motion with the portrait person's proportions, placed where the portrait's
    person stands, starting from the portrait's pose (shared/reference/retarget.md).

    driver: the driving poses in the driving video's pixels. portrait: one pose in the
    portrait's pixels. Raises InputError when the driver never shows a person or the
    portrait shows no usable head and shoulders, or for unknown multiplier groups.
    """
    config = check_retarget_config(config or RetargetConfig())
    if len(portrait) != 1:
        raise ValueError(f"portrait must be a single pose, got {len(portrait)} frames")
    mult = _multipliers(config)
    notices: list[str] = []
    if len(driver) == 0:
        driver = PoseSequence(np.full((1, NUM_KEYPOINTS, 3), np.nan), 1, 1, driver.fps)

    # a close-up's few guessed hips and legs, when the portrait shows none either
    driver, note = rare_lower_body(driver, portrait, config.threshold)
    notices += [note] if note else []

    # 1-2: hygiene and cleaning of the driver
    xy, scores, present, root = _cleaned_driver(driver, config)
    seen = ~np.isnan(xy[0])
    vec, direct = decompose(xy, root)

    # 3-4: lengths and ratios
    canon = canonical_lengths(xy, config.length_quantile)
    p_xy, p_scores, _ = hygiene(portrait.keypoints, config)
    p_root = p_xy[:, NECK, 0]
    k, rho, r, w = _proportions(canon, p_xy, p_root, portrait, config, mult, notices)

    # 8: smoothing, on the driver's parameters: ratios are constant per bone, so this is
    # the same as smoothing the output's parameters
    if config.smoothing > 1:
        root, vec = smooth(root, vec, direct, int(config.smoothing) | 1)

    # 7, optional part: start at the frame closest to the portrait's pose (first half)
    start = 0
    if config.start_at_closest:
        start = _closest_start(vec, direct, present, p_xy, p_root, notices)
    root, vec, seen, scores = root[:, start:], vec[..., start:], seen[:, start:], scores[:, start:]

    # 6: placement
    out, placed = place(root, vec, seen, r, w, k, p_xy, portrait, config)
    empty = int((~present[start:]).sum())
    if empty:
        notices.append(
            f"{empty} of {len(present) - start} driving frames show no person: they stay empty "
            "(black) in the output. Trim the video to where the person is visible to avoid "
            "them.")
    notices += placement_notices(k, placed, portrait, config)

    # 7: transition from the portrait's pose
    lead = 0
    frames = round(config.transition * driver.fps)
    if frames > 0:
        torso = r[R_HIP] * canon.lengths[COL[R_HIP]]
        lead_xy, lead_scores = _lead_in_frames(
            (p_xy, p_scores, p_root), (out, scores, placed), seen, frames,
            config.max_step * torso)
        lead = lead_xy.shape[-1]
        if lead > frames:
            notices.append(
                f"The lead-in from the portrait's pose was lengthened to "
                f"{lead / driver.fps:.2f} s so the first moves stay smooth; to start sooner, "
                "start at the driving frame closest to the portrait's pose (start at closest) or "
                "use a portrait posed like the video's first frame."
            )
        out = np.concatenate([lead_xy, out], axis=-1)
        scores = np.concatenate([lead_scores, scores], axis=-1)

    return Retargeted(
        poses=PoseSequence(from_planes(out, scores), portrait.width, portrait.height, driver.fps),
        lead_in=lead,
        driver_start=start,
        scale=k,
        ratios=group_ratios(rho, mult),
        notices=notices,
    )


# --- the steps of `retarget`, one function each ---------------------------------------------


def _cleaned_driver(
    driver: PoseSequence, config: RetargetConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1-2 on the driver: xy planes, scores, the frames with a person and the root.
    Raises InputError when no frame shows a person."""
    xy, scores, canon = hygiene(driver.keypoints, config)
    present = ~np.isnan(xy[0]).all(axis=0)
    if not present.any():
        raise InputError(
            "No person found in the driving video: use a video where one person is "
            "clearly visible."
        )
    consistent_sides(xy, scores, canon.torso * canon.scale)  # small people's flips
    steady_shoulders(xy, scores)
    steady_head(xy)
    xy, scores, root = clean(xy, scores, present, canon.torso * canon.scale, config.threshold)
    return xy, scores, present, root


def _proportions(
    canon: Canonical, p_xy: np.ndarray, p_root: np.ndarray, portrait: PoseSequence,
    config: RetargetConfig, mult: dict[str, float], notices: list[str],
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Steps 3-4 against the portrait: the global scale k, per-measure ratios rho and the
    per-point ratios r with their weights w; notices for limited or unmeasured parts.
    Raises InputError when the two people share no measure to compare."""
    ref = portrait_lengths(p_xy, portrait.width, portrait.height)
    short = foreshortened(ref, canon, config.ratio_clip, turned_head(p_xy))
    sizing = np.where(short_measures(ref, canon, config.ratio_clip), np.nan, ref)
    ref = np.where(short, np.nan, ref)  # shortened by the view: treated as not shown
    k = global_scale(sizing, canon) if not np.isnan(p_root).any() else math.nan
    if not np.isfinite(k):
        if np.isnan(p_root).any() or not (~np.isnan(ref) & (K_WEIGHT > 0)).any():
            raise InputError(
                "No person found in the portrait: use a photo where the head and "
                "shoulders are visible."
            )
        raise InputError(
            "The driving video never shows the body parts the portrait shows: use a "
            "driving video where the person's head and shoulders are visible."
        )
    rho, measured = proportion_ratios(ref, canon, k, config.ratio_clip)
    hips_out = not short[[COL[R_HIP], COL[L_HIP]]].any() and torso_from_shoulders(
        rho, measured, ref, canon, k, config.ratio_clip)
    r, w = point_ratios(rho, canon, k, mult)
    if hips_out and canon.observed[COL[R_HIP]]:
        notices.append(
            "The portrait's hips are out of the picture: its torso length is estimated from "
            "its shoulder width by adult proportions (1.4 shoulder widths); a portrait "
            "showing the hips gives the person's own.")
    if (line := foreshortening_notice(short)) is not None:
        notices.append(line)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = ref / (k * canon.lengths)
    if (measured & ((raw > config.ratio_clip) | (raw < 1 / config.ratio_clip))).any():
        notices.append(
            f"Some of the portrait's proportions differ from the driving video's by more "
            f"than {config.ratio_clip:g}x and were limited to that; if the portrait's "
            "person really is built so, raise that part's multiplier."
        )
    legs = [COL[j] for j in (R_KNEE, L_KNEE, R_ANKLE, L_ANKLE)]
    if not (measured[legs] | short[legs]).any() and canon.observed[legs].any():
        notices.append(
            "The portrait shows only the upper body: the legs keep the driving video's "
            "proportions (a full-length portrait gives the person's own)."
        )
    if not measured[HAND_COLS].any() and canon.observed[HAND_COLS].any():
        notices.append("The portrait's hands are not visible: hand size follows the forearms "
                       "(a portrait showing the hands gives their own size).")
    return k, rho, r, w


def _closest_start(
    vec: np.ndarray, direct: np.ndarray, present: np.ndarray, p_xy: np.ndarray,
    p_root: np.ndarray, notices: list[str],
) -> int:
    """The driving frame in the first half closest to the portrait's pose (a notice if not
    the first)."""
    first_half = np.flatnonzero(present[: max(1, (len(present) + 1) // 2)])
    p_vec, p_direct = decompose(p_xy, p_root[:, None])
    start = closest_frame(vec, direct, p_vec, p_direct, first_half)
    if start:
        notices.append(
            f"The motion starts at driving frame {start}, the one closest to the "
            "portrait's pose."
        )
    return start


def place(
    root: np.ndarray, vec: np.ndarray, seen: np.ndarray, r: np.ndarray, w: np.ndarray,
    k: float, p_xy: np.ndarray, portrait: PoseSequence, config: RetargetConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Step 6: the motion rebuilt (`compose`) from the portrait's neck, the driver's travel
    scaled by k and `root_motion`, and with `ground` its ankles put on the portrait's
    ground line in the first frame with a root. Returns xy planes and the placed roots."""
    p_root = p_xy[:, NECK, 0]
    anchor = int(np.flatnonzero(~np.isnan(root[0]))[0])
    placed = p_root[:, None] + config.root_motion * k * (root - root[:, [anchor]])
    out = compose(placed, vec, seen, r, w)
    if config.ground:  # ankles, not toes: feet are the least reliable points
        margin = max(2.0, BORDER * min(portrait.width, portrait.height))
        p_feet = p_xy[1, [R_ANKLE, L_ANKLE], 0]
        p_feet = p_feet[p_feet <= portrait.height - 1 - margin]
        d_feet = out[1, [R_ANKLE, L_ANKLE], anchor]
        if p_feet.size and (~np.isnan(d_feet)).any():
            drop = p_feet.max() - np.nanmax(d_feet)
            out[1] += drop
            placed[1] += drop
    return out, placed


EXTREME_SCALE = 4.0  # a body scale beyond this (or under its inverse) is explained


def placement_notices(k: float, placed: np.ndarray, portrait: PoseSequence,
                      config: RetargetConfig) -> list[str]:
    """What placement assumed, one line each with what to do: an extreme body scale k
    (a close-up against a wide shot, say) and a neck that leaves the portrait's picture
    (the driver's travel times k)."""
    notes = []
    if k > EXTREME_SCALE or k < 1 / EXTREME_SCALE:
        bigger = "larger" if k > 1 else "smaller"
        notes.append(
            f"Body scale x{k:.2f}: the portrait's person is {max(k, 1 / k):.1f}x {bigger} in "
            "the picture than the driving video's (one is a close-up, the other a wide "
            "shot), so the driver's travel and any detection jitter are scaled as much. "
            "For a steadier result use a driving video framed like the portrait, or lower "
            "the travel kept from the driver (root motion) to keep the person in place.")
    x, y = placed
    with np.errstate(invalid="ignore"):
        out = (x < 0) | (x > portrait.width) | (y < 0) | (y > portrait.height)
    if out.any() and config.root_motion > 0:
        notes.append(
            f"The driving person's travel (x{k:.2f} with the body scale) takes the skeleton "
            f"out of the portrait's picture in {int(out.sum())} frame(s): lower the travel kept "
            "from the driver (root motion; 0 keeps the person where the portrait shows them).")
    return notes


def _lead_in_frames(
    portrait: tuple, motion: tuple, seen: np.ndarray, frames: int, max_step: float
) -> tuple[np.ndarray, np.ndarray]:
    """Step 7: the lead-in from the portrait's pose (`portrait`: xy planes, scores, root)
    to the motion's first frame (`motion`: xy planes, scores, placed roots)."""
    p_xy, p_scores, p_root = portrait
    out, scores, placed = motion
    # a lower body the driver never shows is not in the lead-in either: an upper-body
    # driver gives an upper-body output from the first frame (nothing fades out)
    start_xy, start_scores = p_xy[..., 0].copy(), p_scores[:, 0].copy()
    never = _LOWER_BODY[~seen[_LOWER_BODY].any(axis=1)]
    start_xy[:, never], start_scores[never] = np.nan, 0.0
    ends = (start_xy, start_scores, p_root, out[..., 0], scores[:, 0], placed[:, 0])
    return lead_in(ends, frames, max_step)
