"""Photo uploads (portraits) as upright sRGB uint8 arrays, whatever the file's mode, profile,
orientation or size."""

from __future__ import annotations

import io
import struct
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from animator.config import InputLimits
from animator.errors import InputError

# Pillow plugins we accept; others (EPS runs Ghostscript, and exotic formats) are refused.
IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "BMP", "GIF", "TIFF")


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
