"""Reading user uploads (portraits, driving videos) and writing browser-playable videos.

Everything goes through the static ffmpeg bundled with imageio-ffmpeg (there is no ffprobe
and often no system ffmpeg), driven directly as a subprocess so that the exact filter chain,
output size and error text are ours. Uploads are arbitrary files, so every way they can be
unusable ends in an `InputError` that says what to do; phone quirks (rotation, variable frame
rate, HDR, EXIF orientation, alpha, 16-bit, CMYK) are normalised here so that the rest of the
package only ever sees RGB uint8 frames at a constant frame rate.

One module per idea: `images` (photos), `probe` (what a video holds), `span` (which part is
used, at what rate and size), `read` (decoding), `write` (H.264 MP4s), `audio` (extracting and
muxing), `layout` (side-by-side frames), `ffmpeg` (how ffmpeg is called on uploads).
"""

from animator.video.audio import extract_audio
from animator.video.images import IMAGE_FORMATS, read_image
from animator.video.layout import side_by_side
from animator.video.probe import VideoInfo, probe_video
from animator.video.read import DrivingClip, iter_video, read_video
from animator.video.span import check_trim, frame_cap_notice, plan_span
from animator.video.write import VideoWriter, write_video

__all__ = [
    "IMAGE_FORMATS",
    "DrivingClip",
    "VideoInfo",
    "VideoWriter",
    "check_trim",
    "extract_audio",
    "frame_cap_notice",
    "iter_video",
    "plan_span",
    "probe_video",
    "read_image",
    "read_video",
    "side_by_side",
    "write_video",
]
