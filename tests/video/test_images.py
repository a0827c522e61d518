"""animator.video.images against real files made by Pillow."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from animator.errors import InputError
from animator.video import read_image
from tests.video.media import BLUE, RED


def halves_image(mode: str = "RGB") -> Image.Image:
    """80x64: left half red, right half blue."""
    img = np.zeros((64, 80, 3), np.uint8)
    img[:, :40], img[:, 40:] = RED, BLUE
    return Image.fromarray(img).convert(mode)


def test_alpha_is_flattened_onto_white(tmp_path):
    rgba = np.zeros((64, 80, 4), np.uint8)
    rgba[:, :40] = (255, 0, 0, 255)  # opaque red left, fully transparent right
    for ext in ("png", "webp"):
        Image.fromarray(rgba).save(tmp_path / f"a.{ext}", lossless=True)
        img = read_image(tmp_path / f"a.{ext}")
        assert img.shape == (64, 80, 3) and img.dtype == np.uint8
        assert tuple(img[5, 5]) == RED and tuple(img[5, 70]) == (255, 255, 255)


def test_exif_rotated_jpeg_comes_out_upright(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: display rotated 90 degrees clockwise
    halves_image().save(tmp_path / "phone.jpg", exif=exif, quality=95)
    img = read_image(tmp_path / "phone.jpg")
    assert img.shape == (80, 64, 3)
    assert np.allclose(img[:30].mean((0, 1)), RED, atol=10)  # left half went to the top
    assert np.allclose(img[50:].mean((0, 1)), BLUE, atol=10)


def test_grey_16bit_cmyk_profiles_and_palette_images(tmp_path):
    Image.fromarray(np.full((64, 80), 32896, np.uint16)).save(tmp_path / "g16.png")
    assert np.all(read_image(tmp_path / "g16.png") == 128)  # not clipped to white
    halves_image("L").save(tmp_path / "g8.png")
    assert read_image(tmp_path / "g8.png").shape == (64, 80, 3)
    halves_image("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert np.allclose(read_image(tmp_path / "cmyk.jpg")[:, :30].mean((0, 1)), RED, atol=12)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, icc in (("icc.jpg", srgb), ("bad_icc.jpg", b"not a profile")):
        halves_image().save(tmp_path / name, icc_profile=icc, quality=95)
        assert np.allclose(read_image(tmp_path / name)[:, :30].mean((0, 1)), RED, atol=12)
    pal = halves_image().convert("P")
    pal.info["transparency"] = pal.getpixel((70, 5))  # blue becomes see-through
    pal.save(tmp_path / "pal.png")
    assert tuple(read_image(tmp_path / "pal.png")[5, 70]) == (255, 255, 255)


def test_max_side_downscales_by_area(tmp_path):
    big = np.zeros((400, 1000, 3), np.uint8)
    big[:, ::2] = 255  # one-pixel stripes average to mid-grey under area downscaling
    Image.fromarray(big).save(tmp_path / "big.png")
    img = read_image(tmp_path / "big.png", max_side=250)
    assert img.shape == (100, 250, 3) and abs(int(img.mean()) - 127) <= 2
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=95)
    assert read_image(tmp_path / "big.jpg", max_side=250).shape == (100, 250, 3)


def test_bad_images_are_refused(tmp_path, media):
    halves_image().resize((40, 30)).save(tmp_path / "tiny.png")
    halves_image().save(tmp_path / "ok.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "ok.jpg").read_bytes()[:300])
    (tmp_path / "eps.png").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 80 64\n")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    # A 20000x20000 PNG header in a few bytes: the decompression-bomb shape.
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    )
    (tmp_path / "bomb.png").write_bytes(bomb + chunk(b"IEND", b""))
    cases = {
        "tiny.png": "at least 64 pixels",
        "cut.jpg": "damaged",
        "eps.png": "not an image",
        "bomb.png": "too many pixels",
        "missing.png": "not found",
    }
    for name, words in cases.items():
        with pytest.raises(InputError, match=words):
            read_image(tmp_path / name)
    with pytest.raises(InputError, match="not an image"):
        read_image(media["clip.mp4"])


def test_one_image_size_limit_ours_checked_from_the_header(tmp_path, monkeypatch):
    """120 MP passes Pillow's own check (179 MP) but not ours; 400 MP trips Pillow's first:
    both get our words and our number, and no pixel is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    def decoded(*args, **kwargs):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", decoded)
    for side in ((12000, 10000), (20000, 20000)):
        header = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", *side, 8, 2, 0,
                                                                          0, 0))
        path = tmp_path / f"{side[0]}.png"
        path.write_bytes(header + chunk(b"IEND", b""))
        with pytest.raises(InputError, match="the limit is 100 megapixels"):
            read_image(path)
    with pytest.raises(InputError, match="the limit is 50 megapixels"):
        read_image(tmp_path / "12000.png", max_megapixels=50)
