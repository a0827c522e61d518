"""Re-create assets/driving/astronaut_sway.mp4 (run from the repository root).

The example driving clip is the public-domain astronaut photo swaying, bobbing and
leaning: a real person in every frame (so real detectors find a real body), moving
rigidly, with a short synthetic melody as its audio track. Kept as a script so the asset
can be rebuilt and its provenance read.
"""

import subprocess
import tempfile
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np
import skimage.data

SIZE, FPS, SECONDS = 384, 25, 4
OUT = Path("assets/driving/astronaut_sway.mp4")
MELODY = "0.3*sin(2*PI*(440+110*floor(mod(2*t,4)))*t)*exp(-3*mod(t,0.5))"


def frames():
    image = cv2.resize(skimage.data.astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    for t in range(FPS * SECONDS):
        phase = 2 * np.pi * t / (FPS * 2)
        m = cv2.getRotationMatrix2D((SIZE / 2, SIZE * 0.75), 9 * np.sin(phase),
                                    1.0 + 0.06 * np.sin(2 * phase))
        m[:, 2] += (18 * np.sin(phase), 8 * np.sin(2 * phase))
        yield cv2.warpAffine(image, m, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT101)


def main():
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "melody.m4a"
        subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                        f"aevalsrc='{MELODY}':s=44100:d={SECONDS}", "-c:a", "aac", "-b:a", "64k",
                        str(audio)], check=True)
        writer = imageio_ffmpeg.write_frames(
            str(OUT), (SIZE, SIZE), fps=FPS, codec="libx264", pix_fmt_out="yuv420p", quality=None,
            output_params=["-crf", "28", "-movflags", "+faststart", "-shortest"],
            audio_path=str(audio), audio_codec="copy")
        writer.send(None)
        for frame in frames():
            writer.send(np.ascontiguousarray(frame))
        writer.close()


if __name__ == "__main__":
    main()
