"""Decoding driving videos to RGB frames at a constant frame rate, upright, tone-mapped to SDR,
scaled, within the upload limits (`read_video`) or streamed without them (`iter_video`).

Two ways to change the frame rate: ffmpeg's fps filter ("filter", which rounds the frame
count up: 61 frames at 50 fps give 37 at 30 fps) or the nearest source frame at each target
time, for as many target times as fit in the source ("nearest": 36 there), which is what
Wan2.2's public preprocessing does, so a Wan output has the public frame count and length.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from animator.config import InputLimits
from animator.errors import InputError
from animator.video.ffmpeg import _SAFE_INPUT, _VIDEO_HINT, _ffmpeg, _rational, _url
from animator.video.probe import VideoInfo, _Media, _probe
from animator.video.span import _Plan, _plan, frame_cap_notice, plan_span

RESAMPLING = ("filter", "nearest")

# HDR sources (see probe._HDR_TRANSFERS) are tone-mapped to SDR BT.709 with this chain.
_TONEMAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
)


@dataclass
class DrivingClip:
    """Decoded driving frames plus where they came from and what was cut on the way."""

    frames: list[np.ndarray]  # RGB uint8, all the same size
    fps: float  # rate of `frames` (after fps resampling and stride)
    start: float  # seconds into the source where frames[0] sits
    source: VideoInfo
    notices: list[str] = field(default_factory=list)  # plain-English notes on cuts/changes


def _decode_cmd(path: str | Path, media: _Media, plan: _Plan) -> list[str]:
    filters = [f"fps={_rational(plan.rate)}"]
    if plan.stride > 1:
        filters.append(rf"select=not(mod(n\,{plan.stride}))")
    if media.hdr:
        filters.append(_TONEMAP)
    if plan.size != (media.coded if media.rotation % 180 == 0 else media.coded[::-1]):
        filters.append(f"scale={plan.size[0]}:{plan.size[1]}:flags=area")
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", "-v", "error", *_SAFE_INPUT]
    if plan.start > 0:
        cmd += ["-ss", f"{plan.start:.6f}"]
    cmd += ["-t", f"{plan.duration:.6f}", "-i", _url(path), "-map", "0:V:0"]
    cmd += ["-vf", ",".join(filters), "-fps_mode", "passthrough"]
    if plan.max_frames is not None:
        cmd += ["-frames:v", str(plan.max_frames)]
    return cmd + ["-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]


class _Decoder:
    """Iterates RGB frames from an ffmpeg pipe; afterwards `error` holds ffmpeg's complaints
    (empty for a clean decode). Killing ffmpeg on early exit keeps no zombie around."""

    def __init__(self, cmd: list[str], size: tuple[int, int]):
        self.cmd, self.size, self.error, self.count = cmd, size, "", 0

    def __iter__(self) -> Iterator[np.ndarray]:
        width, height = self.size
        nbytes = width * height * 3
        with tempfile.TemporaryFile() as log:
            proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log
            )
            try:
                while True:
                    frame = np.empty((height, width, 3), np.uint8)
                    view, got = memoryview(frame).cast("B"), 0
                    while got < nbytes and (n := proc.stdout.readinto(view[got:])):
                        got += n
                    if got < nbytes:
                        break
                    self.count += 1
                    yield frame
                proc.wait()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                log.seek(0)
                self.error = log.read().decode("utf-8", "replace").strip()
                if proc.returncode and not self.error:
                    self.error = f"ffmpeg exited with code {proc.returncode}"


def _no_frames(path: str | Path, error: str) -> InputError:
    detail = error.splitlines()[-1] if error else "no frames in the chosen span"
    return InputError(
        f"No frame of '{Path(path).name}' could be decoded ({detail}); the file may be "
        f"damaged. Re-export it and {_VIDEO_HINT}."
    )


def read_video(
    path: str | Path,
    *,
    fps: float | None = None,
    stride: int = 1,
    start: float = 0.0,
    end: float | None = None,
    limits: InputLimits | None = None,
    resampling: str = "filter",
) -> DrivingClip:
    """Decode a driving video within `limits` (defaults: `InputLimits()`): upright, constant
    frame rate (`fps` or the source's average), every `stride`-th frame of [start, end).
    `resampling` says how the rate changes (see the module docstring). Everything cut to
    fit the limits is reported in `notices`."""
    limits = limits or InputLimits()
    if resampling not in RESAMPLING:
        raise InputError(f"resampling must be one of {', '.join(RESAMPLING)}; got "
                         f"{resampling!r}.")
    path = Path(path)
    if path.is_file() and (mb := path.stat().st_size / 2**20) > limits.max_upload_mb:
        raise InputError(
            f"The video is {mb:.0f} MB; the limit is {limits.max_upload_mb:g} MB. "
            "Trim or compress it and upload it again."
        )
    info, media = _probe(path)
    if min(info.width, info.height) < limits.min_side:
        raise InputError(
            f"The video is only {info.width}x{info.height} pixels; upload one at least "
            f"{limits.min_side} pixels on each side."
        )
    plan, notices = plan_span(info, fps=fps, stride=stride, start=start, end=end,
                              limits=limits, what="video")
    if plan.size != (info.width, info.height):
        notices.append(
            f"Downscaled the video from {info.width}x{info.height} to "
            f"{plan.size[0]}x{plan.size[1]} (max side setting)."
        )
    out_fps = plan.rate / plan.stride
    picks = None
    if resampling == "nearest" and plan.rate != info.fps:
        whole = plan.start == 0 and plan.duration >= info.duration - 1e-6
        count = info.num_frames if whole and info.num_frames else plan.expected_at(info.fps)
        picks = nearest_frames(count, info.fps, plan.rate)[:: plan.stride]
        picks = picks[: limits.max_frames + 1] if len(picks) else np.zeros(1, int)
        # decode the source frames themselves, up to the last one picked
        plan = replace(plan, rate=info.fps, stride=1, max_frames=int(picks[-1]) + 1)
    else:
        plan.max_frames = limits.max_frames + 1  # one extra tells whether the cap cut anything
    decoder = _Decoder(_decode_cmd(path, media, plan), plan.size)
    frames = list(decoder) if picks is None else _pick(decoder, picks)
    if len(frames) > limits.max_frames:
        del frames[limits.max_frames :]
        notices.append(frame_cap_notice(limits.max_frames, out_fps))
    elif decoder.error and decoder.count < plan.expected - 1:
        notices.append(
            f"The video is damaged after {start + len(frames) / out_fps:.1f} s; used the "
            f"{len(frames)} frames that could be decoded (re-export it to use all of it)."
        )
    return DrivingClip(frames, out_fps, plan.start, info, notices)


def nearest_frames(count: int, source_fps: float, fps: float) -> np.ndarray:
    """Source frame indices for a rate change by nearest frame: as many target times as
    `count` frames at `source_fps` cover (truncated), each taking the source frame nearest
    to it (numpy's rounding), never past the last frame."""
    target = int(count / source_fps * fps)
    times = np.arange(target) / fps
    return np.clip(np.round(times * source_fps).astype(int), 0, max(count - 1, 0))


def _pick(decoder: _Decoder, picks: np.ndarray) -> list[np.ndarray]:
    """The decoded frames at `picks` (repeats allowed), holding only those; a decode that
    ends early repeats its last frame, as the clamp to the last index does."""
    wanted, kept, last = set(picks.tolist()), {}, None
    for index, frame in enumerate(decoder):
        last = (index, frame)
        if index in wanted:
            kept[index] = frame
    if last is None:
        return []
    if last[0] < picks[-1]:  # fewer frames than expected: clamp to the last one
        picks = np.minimum(picks, last[0])
        kept[last[0]] = last[1]
    return [kept[i] for i in picks.tolist()]


def iter_video(
    path: str | Path,
    *,
    fps: float | None = None,
    stride: int = 1,
    start: float = 0.0,
    end: float | None = None,
    max_side: int | None = None,
) -> Iterator[np.ndarray]:
    """Stream frames like `read_video` but without holding them, and without the upload
    limits. Bad input is refused here, before the first frame is asked for."""
    info, media = _probe(path)
    plan = _plan(info, fps=fps, stride=stride, start=start, end=end, max_side=max_side)
    return _stream(path, _Decoder(_decode_cmd(path, media, plan), plan.size))


def _stream(path: str | Path, decoder: _Decoder) -> Iterator[np.ndarray]:
    yield from decoder
    if not decoder.count:
        raise _no_frames(path, decoder.error)
