"""Writing browser-playable MP4s: H.264 yuv420p tagged BT.709, +faststart, with the audio of
a source video muxed in; a file appears only when it is complete."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from animator.video.audio import mux_audio
from animator.video.ffmpeg import _ffmpeg, _rational, _temp_next_to, _url
from animator.video.probe import _inspect

# Written videos are converted with, and tagged as, BT.709 limited range: what browsers assume.
_TO_BT709 = (
    "scale=out_color_matrix=bt709:out_range=tv,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)


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
        mux_audio(self._tmp, self.audio, start=self.audio_start, delay=self.audio_delay,
                  duration=self.num_frames / self.fps, temp=_temp_next_to(self.path))

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
