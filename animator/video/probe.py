"""What a video file holds, from ffmpeg's own description of it (there is no ffprobe):
size as displayed, frame rate (exact NTSC, variable-rate and browser recordings included),
duration, frame count, audio, HDR."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from animator.errors import InputError
from animator.video.ffmpeg import _SAFE_INPUT, _VIDEO_HINT, _ffmpeg, _url

# Perceptual-quantizer / hybrid-log-gamma sources (iPhone HDR) are tone-mapped to SDR.
_HDR_TRANSFERS = ("smpte2084", "arib-std-b67")


@dataclass
class VideoInfo:
    """What a video looks like once decoded: size after rotation, average frame rate."""

    width: int
    height: int
    fps: float
    duration: float
    num_frames: int
    has_audio: bool
    codec: str = ""  # the video stream's, as ffmpeg names it (h264, hevc, mjpeg, ...)


@dataclass
class _Media:
    """ffmpeg's view of a file: the first real video stream (if any) and whether audio exists."""

    duration: float = 0.0
    has_audio: bool = False
    has_video: bool = False
    coded: tuple[int, int] = (0, 0)  # (w, h) as stored, before rotation and pixel aspect
    sar: float = 1.0
    rotation: int = 0
    fps: float = 0.0  # average rate as the container states it; 0 if it does not
    tbr: float = 0.0  # ffmpeg's guess of the base rate
    hdr: bool = False
    codec: str = ""
    packets: int = 0
    last_time: float = 0.0  # timestamp of the last packet

    def display_size(self) -> tuple[int, int]:
        w, h = round(self.coded[0] * self.sar), self.coded[1]
        return (h, w) if self.rotation % 180 else (w, h)


def _inspect(path: str | Path, *, count: bool) -> _Media:
    """Parse ffmpeg's description of `path`; with `count`, also demux (not decode) the video
    stream to count its frames, which is exact for variable frame rate and cheap."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"The file '{path.name}' was not found; upload it again.")
    if path.stat().st_size == 0:
        raise InputError(f"The file '{path.name}' is empty; {_VIDEO_HINT}.")
    cmd = [_ffmpeg(), "-hide_banner", "-nostdin", *_SAFE_INPUT, "-i", _url(path)]
    if count:
        cmd += ["-map", "0:V:0", "-c", "copy", "-f", "null", "-"]
    log = subprocess.run(cmd, capture_output=True).stderr.decode("utf-8", "replace")
    media = _parse_header(log)
    if media is None:
        raise InputError(
            f"'{path.name}' is not a video or audio file this app can read, or it is damaged; "
            f"re-export it and {_VIDEO_HINT}."
        )
    if count and media.has_video:
        if stats := re.findall(r"frame=\s*(\d+).*?time=(\d+):(\d+):(\d+(?:\.\d+)?)", log):
            frames, h, m, sec = stats[-1]
            media.packets, media.last_time = int(frames), 3600 * int(h) + 60 * int(m) + float(sec)
    return media


def _parse_header(log: str) -> _Media | None:
    """The 'Input #0' block of ffmpeg's log, or None if ffmpeg could not open the input."""
    if "Input #0" not in log:
        return None
    media, in_video = _Media(), False
    for line in log.split("Input #0", 1)[1].splitlines():
        if line.startswith(("Stream mapping", "Output #")):
            break
        if m := re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", line):
            media.duration = 3600 * int(m[1]) + 60 * int(m[2]) + float(m[3])
        stream = re.match(r"\s*Stream #0:\d+\S*: (\w+): (.*)", line)
        if stream:
            in_video = False
            kind, desc = stream.groups()
            if kind == "Audio":
                media.has_audio = True
            elif kind == "Video" and not media.has_video and "(attached pic)" not in desc:
                media.has_video = in_video = True
                _parse_video(desc, media)
        elif in_video and (m := re.search(r"rotation of (-?[\d.]+) degrees", line)):
            media.rotation = round(float(m[1]) / 90) * 90 % 360
    return media


def _parse_video(desc: str, media: _Media) -> None:
    media.codec = desc.split(None, 1)[0].rstrip(",") if desc.strip() else ""
    if m := re.search(r"(?<=[ ,])(\d+)x(\d+)(?=[ ,]|$)", desc):
        media.coded = (int(m[1]), int(m[2]))
    if (m := re.search(r"SAR (\d+):(\d+)", desc)) and int(m[1]) and int(m[2]):
        media.sar = int(m[1]) / int(m[2])
    for unit in ("fps", "tbr"):
        if rate := re.search(rf"([\d.]+)(k?) {unit}\b", desc):
            setattr(media, unit, _snap_ntsc(float(rate[1]) * (1000 if rate[2] else 1)))
    media.hdr = any(t in desc for t in _HDR_TRANSFERS)


def _snap_ntsc(fps: float) -> float:
    """ffmpeg prints 30000/1001 as '29.97'; recover the exact NTSC rate so no frame drifts."""
    ntsc = round(fps * 1.001)
    if fps != round(fps) and abs(fps * 1.001 - ntsc) < 0.01:
        return ntsc * 1000 / 1001
    return fps


def _video_info(media: _Media) -> VideoInfo:
    # Browser recordings (WebM) often state no duration and a 1000 fps base rate: then the
    # last packet's time and the packet count give the truth.
    duration = media.duration or media.last_time
    average = media.packets / duration if duration else 0.0
    fps = media.fps if 0 < media.fps <= 240 else average or media.tbr
    width, height = media.display_size()
    return VideoInfo(width, height, fps, duration, media.packets, media.has_audio, media.codec)


def _probe(path: str | Path) -> tuple[VideoInfo, _Media]:
    media = _inspect(path, count=True)
    name = Path(path).name
    if not media.has_video:
        raise InputError(f"'{name}' has no video picture (audio only?); {_VIDEO_HINT}.")
    info = _video_info(media)
    if media.packets < 2 or not info.fps or not info.duration or min(media.coded) < 1:
        raise InputError(
            f"'{name}' holds no playable video frames (a still image or a damaged file); "
            f"{_VIDEO_HINT}."
        )
    return info, media


def probe_video(path: str | Path) -> VideoInfo:
    """Size (as displayed), frame rate, duration, frame count and audio presence of a video."""
    return _probe(path)[0]
