"""Skeleton-length rescaling: the driving motion performed with the portrait's proportions.

`retarget(driver, portrait)` is the one entry point; it runs the steps of
shared/reference/retarget.md, each also a function of its own module so it can be tested
alone (all of them are importable from this package):

1. `hygiene` (visibility.py): visibility thresholds, the neck as the mid-shoulder, hands
   given to the nearest wrist and dropped when farther than half a forearm; then
   (steady.py) left/right labels kept consistent over time, shoulder-span outliers dropped
   and heads of a few pixels steadied, for small people.
2. `clean` (cleaning.py, gap filling in gaps.py): Hampel outliers (body), one-frame spikes
   (hands, face), short gaps filled in parameter space (bone angle and log-length), so a
   filled limb keeps its length.
3. `canonical_lengths` (lengths.py): per-frame scale s_t and a high quantile of
   l_t(b) / s_t, because projection only ever shortens a bone.
4. `proportion_ratios` (ratios.py): a global scale k from bones that any portrait shows
   (those a side view or a seated pose foreshortened set aside first, foreshortening.py),
   then per-bone ratios relative to k, clipped, with group fallbacks for bones the portrait
   does not show; the user's multipliers.
5. `decompose` / `compose` (tree.py): a pose as root + vectors along the kinematic tree;
   rebuilding multiplies each vector by its ratio, so directions (foreshortening, depth
   motion) stay.
6. placement at the portrait's neck and ground line (`place`, pipeline.py).
7. `transition` / `lead_in` (transitions.py): lead-in frames from the portrait's pose,
   interpolated in parameter space.
8. `smooth` (smoothing.py): zero-phase Savitzky-Golay on root, unwrapped angles,
   log-lengths and block coordinates; smoothing raw xy would shrink fast limbs.

`retarget` itself and `Retargeted`, what it returns, are in pipeline.py; the NaN-aware
numeric helpers (medians, quantiles, Savitzky-Golay) in numeric.py.

Defaults (RetargetConfig): smoothing is on (7-frame Savitzky-Golay of order 2), because
detector jitter is the most visible flaw of a skeleton video and an order-2 fit passes slow
motion through unchanged; with smoothing off (0) a portrait taken from the driver reproduces
the driver exactly. The 0.5 s lead-in is lengthened when the portrait's pose is far from the
first driving pose, so that no point moves more than `max_step` torso lengths per frame.
User multipliers act per group: head, shoulders, torso, arms (= upper_arms + forearms),
legs (= thighs + shins), hands, feet, or the fine groups upper_arms, forearms, thighs, shins.

Internally a sequence is float64 xy planes of shape (2, 134, T) with NaN for missing points,
plus (134, T) scores (`to_planes`): a row per point keeps the tree walks fast. Every point
has a parent: body and feet follow `BODY_PARENTS`, the face hangs off the nose and each hand
off its body wrist, so the hands and the face are rigid blocks scaled about that joint.
"""

from animator.pose.retarget.cleaning import (
    HAMPEL_FLOOR,
    HAMPEL_SIGMAS,
    SPIKE_FLOOR,
    _spikes,
    clean,
    hampel_outliers,
)
from animator.pose.retarget.foreshortening import body_ratio, foreshortened
from animator.pose.retarget.gaps import LINEAR_GAP, MAX_GAP, fill_gaps, gap_plan, interpolate
from animator.pose.retarget.lengths import (
    COL,
    HAND_COLS,
    HEAD_COLS,
    MEAS_A,
    MEAS_B,
    MEAS_MIRROR,
    NUM_MEAS,
    PRIOR,
    Canonical,
    canonical_lengths,
    frame_scale,
    measure,
)
from animator.pose.retarget.numeric import (
    _hold_fill,
    _median7,
    _nan_median_rows,
    _nan_quantile,
    _norm,
    _runs,
    _wrap,
    savgol,
)
from animator.pose.retarget.pipeline import Retargeted, place, retarget
from animator.pose.retarget.ratios import (
    BONE_GROUP,
    BORDER,
    K_WEIGHT,
    MULTIPLIER_GROUPS,
    RATIO_GROUPS,
    _multipliers,
    global_scale,
    group_ratios,
    point_ratios,
    portrait_lengths,
    proportion_ratios,
)
from animator.pose.retarget.settings import check_retarget_config
from animator.pose.retarget.smoothing import smooth
from animator.pose.retarget.steady import (
    consistent_sides,
    span_outliers,
    steady_head,
    steady_shoulders,
)
from animator.pose.retarget.transitions import closest_frame, lead_in, transition
from animator.pose.retarget.tree import (
    BONE_CHILDREN,
    DEPTH,
    LEVELS,
    NUM_BODY,
    PARENT,
    compose,
    decompose,
    from_planes,
    root_positions,
    to_planes,
)
from animator.pose.retarget.visibility import _SWAP_HANDS, assign_hands, hygiene, visible

__all__ = [
    "BONE_CHILDREN", "BONE_GROUP", "BORDER", "COL", "DEPTH", "HAMPEL_FLOOR", "HAMPEL_SIGMAS",
    "HAND_COLS", "HEAD_COLS", "K_WEIGHT", "LEVELS", "LINEAR_GAP", "MAX_GAP", "MEAS_A",
    "MEAS_B", "MEAS_MIRROR", "MULTIPLIER_GROUPS", "NUM_BODY", "NUM_MEAS", "PARENT", "PRIOR",
    "RATIO_GROUPS", "SPIKE_FLOOR", "Canonical", "Retargeted", "assign_hands", "body_ratio",
    "canonical_lengths", "check_retarget_config", "consistent_sides", "foreshortened",
    "span_outliers", "steady_head", "steady_shoulders", "clean", "closest_frame", "compose",
    "decompose", "fill_gaps",
    "frame_scale", "from_planes", "gap_plan", "global_scale", "group_ratios",
    "hampel_outliers", "hygiene", "interpolate", "lead_in", "measure", "place",
    "point_ratios", "portrait_lengths", "proportion_ratios", "retarget", "root_positions",
    "savgol", "smooth", "to_planes", "transition", "visible",
    # private helpers that the tests check on their own
    "_SWAP_HANDS", "_hold_fill", "_median7", "_multipliers", "_nan_median_rows",
    "_nan_quantile", "_norm", "_runs", "_spikes", "_wrap",
]  # fmt: skip
