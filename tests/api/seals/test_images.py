"""Seal image processing and bad images (docs/seals.md#seal-images)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image, ImageDraw

from api.common.errors import ApiError
from api.seals import images


def scan(fmt: str = "JPEG", size: int = 600) -> bytes:
    """A fake scan: off-white paper, a dark-red ring and a blot, a grey speck."""
    image = Image.new("RGB", (size, size + 80), (245, 243, 240))
    draw = ImageDraw.Draw(image)
    draw.ellipse((100, 120, 500, 520), outline=(150, 20, 30), width=24)
    draw.rectangle((280, 300, 320, 340), fill=(120, 10, 20))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def code_of(data: bytes, filename: str | None = None) -> tuple[str, int]:
    with pytest.raises(ApiError) as info:
        images.process_scan(data, filename)
    return info.value.code, info.value.status_code


def test_scan_becomes_transparent_red_42mm():
    png = images.process_scan(scan("JPEG"), "seal.jpg")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.mode == "RGBA"
    assert image.size == (496, 496) == (images.SEAL_PX, images.SEAL_PX)
    assert round(image.info["dpi"][0]) == 300
    assert image.getpixel((2, 2))[3] == 0  # background gone
    alpha = image.getchannel("A")
    assert alpha.getextrema()[1] == 255  # solid ink stays opaque
    colours = {image.getpixel((x, y))[:3] for x in range(0, 496, 7) for y in range(0, 496, 7)}
    assert colours == {images.SEAL_RED}
    # The ink was cropped and centred: the ring touches the left and right edges.
    box = alpha.getbbox()
    assert box is not None and box[0] <= 2 and box[2] >= 494


def test_png_scan_with_alpha_is_accepted():
    image = Image.new("RGBA", (300, 300), (255, 255, 255, 0))
    ImageDraw.Draw(image).ellipse((20, 20, 280, 280), outline=(0, 0, 0, 255), width=20)
    out = io.BytesIO()
    image.save(out, format="PNG")
    png = Image.open(io.BytesIO(images.process_scan(out.getvalue(), "seal.png")))
    assert png.getpixel((248, 248))[3] == 0 and png.getchannel("A").getextrema()[1] == 255


def test_png_that_is_really_a_jpeg_is_refused():
    assert code_of(scan("JPEG"), "seal.png") == ("seal_image_type_mismatch", 415)


def test_gif_and_zip_and_text_are_refused():
    gif = io.BytesIO()
    Image.new("P", (64, 64)).save(gif, format="GIF")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("seal.png", scan("PNG"))
    for data in (gif.getvalue(), archive.getvalue(), b"hello"):
        assert code_of(data, "seal.png") == ("seal_image_type", 415)
        assert code_of(data) == ("seal_image_type", 415)


def test_truncated_or_garbage_png_is_invalid():
    data = scan("PNG")
    assert code_of(data[: len(data) // 2]) == ("seal_image_invalid", 422)
    assert code_of(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200) == ("seal_image_invalid", 422)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb(width: int, height: int) -> bytes:
    """A 1-bit PNG whose header claims width × height: a few KB on disk."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(min(height, 64)))
    data += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_before_decoding():
    huge = bomb(50_000, 50_000)  # 2.5 gigapixels: Pillow's own guard would also refuse
    assert len(huge) < 10_000
    assert code_of(huge) == ("seal_image_too_many_pixels", 422)
    wide = bomb(images.MAX_SIDE + 1, 100)  # within Pillow's limit, over ours
    assert code_of(wide) == ("seal_image_too_many_pixels", 422)


def test_oversized_file_and_blank_scan(settings):
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), (255, 255, 255)).save(blank, format="PNG")
    assert code_of(blank.getvalue()) == ("seal_image_blank", 422)
    settings.GOVDESK_SEAL_IMAGE_MAX_BYTES = 1024
    assert code_of(scan("JPEG")) == ("seal_image_too_large", 413)


def test_default_seal_draws_ring_star_and_name():
    assert images.font_path() is not None, "install fonts-wqy-microhei or fonts-arphic-uming"
    png = images.default_seal("市政府办公室")
    image = Image.open(io.BytesIO(png))
    assert image.size == (496, 496) and image.mode == "RGBA"
    alpha = image.getchannel("A")
    assert image.getpixel((3, 3))[3] == 0  # corner outside the ring
    assert image.getpixel((248, 248))[3] == 255  # the star's centre
    assert image.getpixel((248, 248))[:3] == images.SEAL_RED
    # The name is drawn in the upper band between the ring and the star.
    band = alpha.crop((120, 40, 376, 120))
    assert band.getbbox() is not None
    assert sum(band.histogram()[128:]) > 500
    # Different names give different seals.
    assert images.default_seal("市教育局") != png
