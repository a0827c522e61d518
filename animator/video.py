"""Reading user uploads (portraits, driving videos) and writing browser-playable videos.

Everything goes through the static ffmpeg bundled with imageio-ffmpeg (there is no ffprobe
and often no system ffmpeg), driven directly as a subprocess so that the exact filter chain,
output size and error text are ours. Uploads are arbitrary files, so every way they can be
unusable ends in an `InputError` that says what to do; phone quirks (rotation, variable frame
rate, HDR, EXIF orientation, alpha, 16-bit, CMYK) are normalised here so that the rest of the
package only ever sees RGB uint8 frames at a constant frame rate.
"""

from __future__ import annotations

import io
import math
import os
import re
import secrets
import struct
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .config import InputLimits
from .errors import InputError

# Pillow plugins we accept; others (EPS runs Ghostscript, and exotic formats) are refused.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "BMP", "GIF", "TIFF")
# ffmpeg demuxers we accept, and local files only: an upload can never make ffmpeg open a
# playlist, an image sequence or a network address.
_DEMUXERS = "mov,matroska,avi,gif,mpegts,flv,asf,mpeg,ogg,mp3,wav,aac,flac"
_SAFE_INPUT = ["-format_whitelist", _DEMUXERS, "-protocol_whitelist", "file"]
_VIDEO_HINT = "upload an MP4, MOV or WebM video"
# Perceptual-quantizer / hybrid-log-gamma sources (iPhone HDR) are tone-mapped to SDR.
_HDR_TRANSFERS = ("smpte2084", "arib-std-b67")
_TONEMAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
)
# Written videos are converted with, and tagged as, BT.709 limited range: what browsers assume.
_TO_BT709 = (
    "scale=out_color_matrix=bt709:out_range=tv,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)


# ---------------------------------------------------------------------------------- images


def read_image(
    path: str | Path,
    max_side: int | None = None,
    *,
    min_side: int = InputLimits.min_side,
    max_megapixels: float = InputLimits.max_megapixels,
) -> np.ndarray:
    """Load any photo upload as upright RGB uint8 (H, W, 3), at most `max_side` on its longest
    side (area downscaling); transparency is flattened onto white. Images over
    `max_megapixels` are refused from their header, before any pixel is decoded."""
    name = Path(path).name
    too_big = InputError(
        f"The image '{name}' has too many pixels to open safely (the limit is "
        f"{max_megapixels:g} megapixels); downscale it and upload it again."
    )
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 MP and refuses from 179 MP (then `too_big` too); our own
            # limit is checked first. JPEG drafts keep big photos cheap.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=IMAGE_FORMATS) as img:
                size = img.size
                if size[0] * size[1] > max_megapixels * 1e6:
                    raise too_big
                if max_side and img.format in ("JPEG", "MPO"):
                    w, h = _fit(*size, max_side, even=False)
                    img.draft(img.mode, (w, h))  # decode at 1/2, 1/4 or 1/8 scale, >= (w, h)
                img = _to_rgb(ImageOps.exif_transpose(img))
    except InputError:
        raise
    except FileNotFoundError:
        raise InputError(f"The image '{name}' was not found; upload it again.") from None
    except Image.DecompressionBombError:
        raise too_big from None
    except UnidentifiedImageError:
        raise InputError(
            f"'{name}' is not an image this app can read; upload a JPEG, PNG or WebP photo."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as err:
        raise InputError(
            f"The image '{name}' could not be read ({err}); it may be damaged. "
            "Re-save it as JPEG or PNG and upload it again."
        ) from None
    if min(size) < min_side:
        raise InputError(
            f"The image '{name}' is only {size[0]}x{size[1]} pixels; "
            f"upload a photo at least {min_side} pixels on each side."
        )
    if max_side and max(img.size) > max_side:
        img = img.resize(_fit(img.width, img.height, max_side, even=False), Image.Resampling.BOX)
    return np.asarray(img)


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode to 8-bit sRGB: 16-bit/float greys rescaled (Pillow's own conversion
    clips them to white), embedded colour profiles applied, alpha composited on white."""
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        grey = np.asarray(img, dtype=np.float32)
        top = 65535.0 if img.mode.startswith("I;16") or grey.max() > 255 else 255.0
        if img.mode == "F" and grey.max() <= 1.0:
            top = 1.0
        img = Image.fromarray(np.clip(grey * (255.0 / top) + 0.5, 0, 255).astype(np.uint8))
    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    icc = img.info.get("icc_profile")
    if icc and img.mode in ("RGB", "CMYK", "L"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(img, source, _srgb(), outputMode="RGB")
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: fall back to Pillow's plain conversion
    return img.convert("RGB")


@lru_cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _fit(width: int, height: int, max_side: int, *, even: bool) -> tuple[int, int]:
    """(w, h) scaled so the longest side is at most max_side; rounded to even if asked."""
    scale = min(1.0, max_side / max(width, height))
    if even:
        return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
    return max(1, round(width * scale)), max(1, round(height * scale))


# ---------------------------------------------------------------------------------- probing


@dataclass
class VideoInfo:
    """What a video looks like once decoded: size after rotation, average frame rate."""

    width: int
    height: int
    fps: float
    duration: float
    num_frames: int
    has_audio: bool


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
    packets: int = 0
    last_time: float = 0.0  # timestamp of the last packet

    def display_size(self) -> tuple[int, int]:
        w, h = round(self.coded[0] * self.sar), self.coded[1]
        return (h, w) if self.rotation % 180 else (w, h)


@lru_cache
def _ffmpeg() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def _url(path: str | Path) -> str:
    # "file:" keeps names containing ':' or starting with '-' from being read as options.
    return "file:" + str(Path(path).resolve())


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
    return VideoInfo(width, height, fps, duration, media.packets, media.has_audio)


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


# ---------------------------------------------------------------------------------- reading


@dataclass
class DrivingClip:
    """Decoded driving frames plus where they came from and what was cut on the way."""

    frames: list[np.ndarray]  # RGB uint8, all the same size
    fps: float  # rate of `frames` (after fps resampling and stride)
    start: float  # seconds into the source where frames[0] sits
    source: VideoInfo
    notices: list[str] = field(default_factory=list)  # plain-English notes on cuts/changes


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
        return math.ceil(math.ceil(self.duration * self.rate - 1e-6) / self.stride)


def _plan(
    info: VideoInfo,
    *,
    fps: float | None,
    stride: int,
    start: float,
    end: float | None,
    max_side: int | None,
) -> _Plan:
    if fps is not None and not fps > 0:
        raise InputError(f"The frame rate must be above 0 (got {fps}); choose e.g. 15 or 30.")
    if stride < 1:
        raise InputError(f"The frame stride must be 1 or more (got {stride}).")
    if start < 0:
        raise InputError(f"The start time must be 0 s or later (got {start:g} s).")
    if end is not None and end <= start:
        raise InputError(
            f"The end time ({end:g} s) must be after the start time ({start:g} s); "
            "fix the trim settings."
        )
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


def _rational(value: float) -> str:
    frac = Fraction(value).limit_denominator(1001)
    return f"{frac.numerator}/{frac.denominator}"


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
) -> DrivingClip:
    """Decode a driving video within `limits` (defaults: `InputLimits()`): upright, constant
    frame rate (`fps` or the source's average), every `stride`-th frame of [start, end).
    Everything cut to fit the limits is reported in `notices`."""
    limits = limits or InputLimits()
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
    plan.max_frames = limits.max_frames + 1  # one extra tells us whether the cap cut anything
    decoder = _Decoder(_decode_cmd(path, media, plan), plan.size)
    frames = list(decoder)
    if not frames:
        raise _no_frames(path, decoder.error)
    out_fps = plan.rate / plan.stride
    if len(frames) > limits.max_frames:
        del frames[limits.max_frames :]
        notices.append(frame_cap_notice(limits.max_frames, out_fps))
    elif decoder.error and len(frames) < plan.expected - 1:
        notices.append(
            f"The video is damaged after {start + len(frames) / out_fps:.1f} s; used the "
            f"{len(frames)} frames that could be decoded (re-export it to use all of it)."
        )
    return DrivingClip(frames, out_fps, plan.start, info, notices)


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


# ---------------------------------------------------------------------------------- writing


def _run(cmd: list[str], what: str) -> None:
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    if proc.returncode:
        raise RuntimeError(f"ffmpeg failed to {what}:\n{proc.stderr.decode('utf-8', 'replace')}")


def _temp_next_to(path: Path) -> Path:
    # Same folder, so the final rename is atomic and a crash never leaves a half file at `path`.
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def extract_audio(
    path: str | Path, out_path: str | Path, *, start: float = 0.0, duration: float | None = None
) -> Path | None:
    """The audio of a video (or audio file) as AAC in an .m4a; None when it has no audio."""
    if not _inspect(path, count=False).has_audio:
        return None
    out_path = Path(out_path)
    tmp = _temp_next_to(out_path)
    cmd = [_ffmpeg(), "-y", "-nostdin", "-v", "error", *_SAFE_INPUT]
    cmd += ["-ss", f"{start:.6f}"] + (["-t", f"{duration:.6f}"] if duration else [])
    cmd += ["-i", _url(path), "-map", "0:a:0", "-c:a", "aac", "-b:a", "192k"]
    cmd += ["-movflags", "+faststart", "-f", "mp4", _url(tmp)]
    try:
        _run(cmd, "extract the audio")
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path


class VideoWriter:
    """Streams RGB frames into a browser-playable MP4 (H.264 yuv420p BT.709, +faststart),
    then muxes in AAC audio from `audio` (a video or audio file): taken from `audio_start`
    seconds, preceded by `audio_delay` seconds of silence, cut to the video's length.

    The file appears at `path` only when `close()` succeeds; an exception inside the `with`
    block, or closing with no frame written, leaves nothing behind.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        audio: str | Path | None = None,
        audio_start: float = 0.0,
        audio_delay: float = 0.0,
        crf: int = 18,
    ):
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path, self.fps, self.crf = Path(path), fps, crf
        self.audio, self.audio_start, self.audio_delay = audio, audio_start, audio_delay
        self.num_frames = 0
        self._shape: tuple[int, ...] | None = None
        self._proc: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()
        self._tmp = _temp_next_to(self.path)

    def _start(self, height: int, width: int) -> None:
        cmd = [_ffmpeg(), "-y", "-nostdin", "-v", "error", "-f", "rawvideo", "-pix_fmt"]
        cmd += ["rgb24", "-s", f"{width}x{height}", "-framerate", _rational(self.fps), "-i", "-"]
        cmd += ["-vf", _TO_BT709, "-c:v", "libx264", "-crf", str(self.crf), "-pix_fmt", "yuv420p"]
        cmd += ["-movflags", "+faststart", "-f", "mp4", _url(self._tmp)]
        self._proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log
        )

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB uint8 (H, W, 3) frame; every frame must have the first one's size."""
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frames must be RGB uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        if self._shape is None:
            self._shape = frame.shape
            self._start(frame.shape[0] + frame.shape[0] % 2, frame.shape[1] + frame.shape[1] % 2)
        elif frame.shape != self._shape:
            raise ValueError(f"frame {self.num_frames} is {frame.shape}, expected {self._shape}")
        if frame.shape[0] % 2 or frame.shape[1] % 2:  # yuv420p needs even sizes: repeat edges
            frame = np.pad(
                frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), "edge"
            )
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).data)
        except BrokenPipeError:
            error = self._error()
            self.abort()
            raise RuntimeError(f"ffmpeg stopped while encoding:\n{error}") from None
        self.num_frames += 1

    def close(self) -> Path:
        """Finish encoding, add the audio, and move the video into place."""
        if self._log.closed:  # already closed or aborted
            return self.path
        if self._proc is None:
            self.abort()
            raise ValueError(f"no frames were written, so no video was made at {self.path}")
        self._proc.stdin.close()
        if self._proc.wait():
            error = self._error()
            self.abort()
            raise RuntimeError(f"ffmpeg failed to encode the video:\n{error}")
        try:
            if self.audio is not None and _inspect(self.audio, count=False).has_audio:
                self._mux_audio()
            os.replace(self._tmp, self.path)
        finally:
            self.abort()
        return self.path

    def _mux_audio(self) -> None:
        muxed = _temp_next_to(self.path)
        cmd = [_ffmpeg(), "-y", "-nostdin", "-v", "error", "-i", _url(self._tmp), *_SAFE_INPUT]
        cmd += ["-ss", f"{self.audio_start:.6f}", "-i", _url(self.audio)]
        cmd += ["-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "192k"]
        if self.audio_delay > 0:
            cmd += ["-af", f"adelay=delays={round(self.audio_delay * 1000)}:all=1"]
        cmd += ["-t", f"{self.num_frames / self.fps:.6f}", "-movflags", "+faststart"]
        try:
            _run(cmd + ["-f", "mp4", _url(muxed)], "add the audio")
            os.replace(muxed, self._tmp)
        finally:
            muxed.unlink(missing_ok=True)

    def abort(self) -> None:
        """Stop ffmpeg and remove every temporary file; `path` is left untouched."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        self._tmp.unlink(missing_ok=True)
        self._log.close()

    def _error(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace").strip()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(
    frames: Iterable[np.ndarray],
    path: str | Path,
    fps: float,
    *,
    audio: str | Path | None = None,
    audio_start: float = 0.0,
    audio_delay: float = 0.0,
    crf: int = 18,
) -> Path:
    """Write RGB uint8 frames as a browser-playable MP4; see `VideoWriter` for the audio."""
    with VideoWriter(
        path, fps, audio=audio, audio_start=audio_start, audio_delay=audio_delay, crf=crf
    ) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.path


# ---------------------------------------------------------------------------------- layout


def side_by_side(*frames: np.ndarray, height: int | None = None, gap: int = 0) -> np.ndarray:
    """Frames resized to one height (the first frame's unless given), aspect kept, placed left
    to right with `gap` black pixels between; width and height come out even for H.264."""
    if not frames:
        raise ValueError("side_by_side needs at least one frame")
    height = height or frames[0].shape[0]
    height += height % 2
    widths = [max(1, round(f.shape[1] * height / f.shape[0])) for f in frames]
    widths[-1] += (sum(widths) + gap * (len(frames) - 1)) % 2
    out = np.zeros((height, sum(widths) + gap * (len(frames) - 1), 3), np.uint8)
    x = 0
    for frame, width in zip(frames, widths, strict=True):
        shrink = width * height < frame.shape[0] * frame.shape[1]
        interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out[:, x : x + width] = cv2.resize(frame, (width, height), interpolation=interp)
        x += width + gap
    return out
