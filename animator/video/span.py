"""Which part of a driving input is used: the span, the frame rate it is resampled to, the
size, within the upload limits, with a plain-English notice for everything cut. Videos and
pose files share it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from animator.config import InputLimits
from animator.errors import InputError
from animator.video.images import _fit
from animator.video.probe import VideoInfo


@dataclass
class _Plan:
    """One decode: which span, at what rate and size, and how many frames at most."""

    start: float
    duration: float
    rate: float  # fps filter rate, before stride
    stride: int
    size: tuple[int, int]
    max_frames: int | None = None

    @property
    def expected(self) -> int:
        return math.ceil(self.expected_at(self.rate) / self.stride)

    def expected_at(self, rate: float) -> int:
        """Frames the span holds at `rate`, before the stride."""
        return math.ceil(self.duration * rate - 1e-6)


MAX_FPS = 240.0  # frame rates asked for above this are refused (no driver runs faster)


def check_trim(fps, start, end) -> None:
    """Refuse a frame rate, start or end time that is not a finite number in range, naming
    it (NaN passes every comparison, so each is checked for being a number first)."""
    for name, value, optional in (("frame rate (fps)", fps, True),
                                  ("start time", start, False), ("end time", end, True)):
        if value is None and optional:
            continue
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise InputError(f"The {name} must be a finite number, got {value!r}.")
    if fps is not None and not 0 < fps <= MAX_FPS:
        raise InputError(f"The frame rate must be above 0 and at most {MAX_FPS:g} (got {fps:g}); "
                         "choose e.g. 15 or 30.")
    if start < 0:
        raise InputError(f"The start time must be 0 s or later (got {start:g} s).")
    if end is not None and end <= start:
        raise InputError(
            f"The end time ({end:g} s) must be after the start time ({start:g} s); "
            "fix the trim settings."
        )


def _plan(
    info: VideoInfo,
    *,
    fps: float | None,
    stride: int,
    start: float,
    end: float | None,
    max_side: int | None,
) -> _Plan:
    check_trim(fps, start, end)
    if stride < 1:
        raise InputError(f"The frame stride must be 1 or more (got {stride}).")
    if start >= info.duration:
        raise InputError(
            f"The start time ({start:g} s) is past the end of the {info.duration:.1f} s video; "
            f"choose a start before {info.duration:.1f} s."
        )
    stop = info.duration if end is None else min(end, info.duration)
    size = (info.width, info.height)
    if max_side and max(size) > max_side:
        size = _fit(*size, max_side, even=True)
    return _Plan(start, stop - start, fps or info.fps, stride, size)


def plan_span(
    info: VideoInfo,
    *,
    fps: float | None,
    stride: int = 1,
    start: float = 0.0,
    end: float | None = None,
    limits: InputLimits,
    what: str = "video",
) -> tuple[_Plan, list[str]]:
    """The span, rate and size taken from a driving input within `limits`, and a notice for
    everything cut. Videos and pose files share it, so both get the same limits and words."""
    notices = []
    if fps is None and info.fps > limits.max_fps:
        fps = limits.max_fps
        notices.append(f"Resampled the {what} from {info.fps:.3g} to {fps:g} frames per second "
                       "(max fps setting).")
    plan = _plan(info, fps=fps, stride=stride, start=start, end=end, max_side=limits.max_side)
    if plan.duration > limits.max_duration + 1e-6:
        if start == 0 and end is None:
            used = f"the first {limits.max_duration:.1f} s of a {info.duration:.1f} s {what}"
        else:
            used = (
                f"{limits.max_duration:.1f} s (from {start:.1f} s) of a {plan.duration:.1f} s "
                "selection"
            )
        notices.append(f"Used {used} (max duration setting).")
        plan.duration = limits.max_duration
    return plan, notices


def frame_cap_notice(max_frames: int, fps: float) -> str:
    return (f"Kept the first {max_frames} frames ({max_frames / fps:.1f} s at {fps:.3g} fps; "
            "max frames setting); lower the fps or raise the stride to cover more.")
