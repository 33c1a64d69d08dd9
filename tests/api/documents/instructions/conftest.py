"""Fixtures for the handwritten-instruction tests (docs/instructions.md)."""

from __future__ import annotations

import io

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def instruction_dir(settings, tmp_path):
    settings.GOVDESK_INSTRUCTION_DIR = tmp_path / "instructions"
    return settings.GOVDESK_INSTRUCTION_DIR


def png_bytes(size=(120, 60), mode="RGBA", **save) -> bytes:
    image = Image.new(mode, size, (0, 0, 0, 0) if mode == "RGBA" else 0)
    if mode == "RGBA":
        for x in range(10, 100):
            image.putpixel((x, 30), (0, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


def upload(client, document_id: int, data: bytes, name: str = "ink.png", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(
        f"/api/v1/documents/{document_id}/instructions/",
        {"image": file, **fields},
        format="multipart",
    )


STROKES = {
    "strokes": [[[10, 10, 0], [100, 40, 16], [180, 20, 32]], [[50, 80], [60, 90]], [[150, 100]]],
    "width": 200,
    "height": 120,
}
