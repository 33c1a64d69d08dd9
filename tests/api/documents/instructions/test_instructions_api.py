"""Handwritten instructions (批示): strokes, PNG validation, permissions, audit,
idempotency. Docs: docs/instructions.md."""

from __future__ import annotations

import io
import random
import uuid
import zipfile

import pytest
from PIL import Image, PngImagePlugin

from api.documents.models import HandwrittenInstruction
from tests.api.documents.conftest import code, count_queries, events
from tests.api.documents.instructions.conftest import STROKES, png_bytes, upload

pytestmark = pytest.mark.django_db


def _url(document_id: int) -> str:
    return f"/api/v1/documents/{document_id}/instructions/"


def _image(client, body: dict) -> Image.Image:
    response = client.get(body["image_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    return Image.open(io.BytesIO(response.content))


def test_strokes_are_rasterised_black_antialiased_transparent(as_, draft):
    document = draft("bob")
    response = as_("leo").post(
        _url(document["id"]), {**STROKES, "opinion": "同意。"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["width"], body["height"], body["opinion"]) == (200, 120, "同意。")
    image = _image(as_("leo"), body)
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (200, 120)
    raw = image.tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    alphas = [p[3] for p in pixels]
    assert image.getpixel((0, 119))[3] == 0  # transparent background
    assert image.getpixel((100, 40)) == (0, 0, 0, 255)  # black ink on the stroke
    assert image.getpixel((150, 100))[3] > 0  # a single-point stroke is a dot
    assert any(0 < a < 255 for a in alphas)  # antialiased edges
    assert {p[:3] for p in pixels if p[3]} == {(0, 0, 0)}  # black ink only
    [event] = events("document.instruction_added")
    assert event.detail["instruction_id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**STROKES, "width": 2001}, "width"),
        ({**STROKES, "height": 0}, "height"),
        ({**STROKES, "strokes": [[[201, 10]]]}, "strokes"),
        ({**STROKES, "strokes": [[[-1, 10]]]}, "strokes"),
        ({**STROKES, "strokes": [[[1, 1]]] * 501}, "strokes"),
        ({**STROKES, "strokes": [[[1, 1]] * 10_000, [[1, 1]] * 10_001]}, "strokes"),
        ({**STROKES, "strokes": []}, "strokes"),
        ({**STROKES, "strokes": [[]]}, "strokes"),
        ({**STROKES, "strokes": [[[1, "x"]]]}, "strokes"),
        ({**STROKES, "strokes": [[[1, 2, 3, 4]]]}, "strokes"),
        ({**STROKES, "strokes": [[[True, 2]]]}, "strokes"),
    ],
)
def test_bad_strokes_are_refused(as_, draft, payload, field):
    document = draft("bob")
    response = as_("leo").post(_url(document["id"]), payload, format="json")
    assert response.status_code == 422, response.content
    assert code(response) == "instruction_strokes_invalid"
    assert field in response.json()["error"]["fields"]
    assert not HandwrittenInstruction.objects.exists()


def test_unknown_json_field_is_refused(as_, draft):
    document = draft("bob")
    response = as_("leo").post(_url(document["id"]), {**STROKES, "colour": "red"}, format="json")
    assert response.status_code == 400
    assert code(response) == "unknown_field"


def test_png_is_reencoded_and_metadata_stripped(as_, draft):
    document = draft("bob")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "secret-author-metadata")
    original = png_bytes(pnginfo=info, exif=b"Exif\x00\x00secret-exif")
    assert b"secret-author-metadata" in original
    response = upload(as_("leo"), document["id"], original, opinion="请办公室研究。")
    assert response.status_code == 201, response.content
    body = response.json()
    stored = as_("leo").get(body["image_url"]).content
    assert stored != original
    assert b"secret" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.size == (120, 60) and image.mode == "RGBA"
    assert not image.info.get("Author") and "exif" not in image.info
    assert image.getpixel((50, 30)) == (0, 0, 0, 255)
    item = HandwrittenInstruction.objects.get()
    assert item.opinion == "请办公室研究。" and item.author.username == "leo"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, format="JPEG")
    return out.getvalue()


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (20, 20)).save(out, format="GIF")
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "x")
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_jpeg(), id="jpeg"),
        pytest.param(_gif(), id="gif"),
        pytest.param(_zip(), id="zip"),
        pytest.param(png_bytes()[:40], id="truncated-png"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="magic-only"),
    ],
)
def test_non_png_renamed_png_is_415(as_, draft, data):
    document = draft("bob")
    response = upload(as_("leo"), document["id"], data, name="ink.png")
    assert response.status_code == 415, response.content
    assert code(response) == "instruction_image_type"
    assert not HandwrittenInstruction.objects.exists()


def test_decompression_bomb_is_refused_before_decoding(as_, draft, settings):
    document = draft("bob")
    bomb = png_bytes(size=(5000, 5000), mode="L", optimize=True)  # 25 Mpx, a few KiB
    assert len(bomb) < 100_000
    response = upload(as_("leo"), document["id"], bomb)
    assert response.status_code == 422
    assert code(response) == "instruction_image_too_large"
    settings.GOVDESK_INSTRUCTION_MAX_PIXELS = 100 * 50
    response = upload(as_("leo"), document["id"], png_bytes(size=(120, 60)))
    assert response.status_code == 422
    assert not HandwrittenInstruction.objects.exists()


def test_oversized_png_is_413(as_, draft, settings):
    document = draft("bob")
    settings.GOVDESK_INSTRUCTION_MAX_BYTES = 4096
    noisy = Image.frombytes("L", (200, 200), random.Random(4).randbytes(40_000))
    out = io.BytesIO()
    noisy.save(out, format="PNG")
    assert len(out.getvalue()) > 4096
    response = upload(as_("leo"), document["id"], out.getvalue())
    assert response.status_code == 413
    assert code(response) == "instruction_image_too_large"
    assert not HandwrittenInstruction.objects.exists()


def test_another_units_user_gets_404_and_the_denial_is_audited(as_, draft):
    document = draft("bob")
    created = as_("leo").post(_url(document["id"]), STROKES, format="json").json()
    for response in (
        as_("charlie").post(_url(document["id"]), STROKES, format="json"),
        as_("charlie").get(_url(document["id"])),
        as_("charlie").get(created["image_url"]),
        as_("charlie").get(f"/api/v1/documents/{document['id']}/instruction-sheet/"),
    ):
        assert response.status_code == 404
    assert len(events("document.access_denied", "denied")) == 4
    assert HandwrittenInstruction.objects.count() == 1
    assert as_("anonymous").get(_url(document["id"])).status_code == 401


def test_image_of_another_documents_instruction_is_404(as_, draft):
    first, second = draft("bob"), draft("bob")
    created = as_("leo").post(_url(first["id"]), STROKES, format="json").json()
    other = f"/api/v1/documents/{second['id']}/instructions/{created['id']}/image/"
    assert as_("leo").get(other).status_code == 404


def test_idempotent_replay_creates_one_instruction(as_, draft):
    document = draft("bob")
    client = as_("leo")
    headers = {"HTTP_IDEMPOTENCY_KEY": f"instr-{uuid.uuid4()}"}
    first = client.post(_url(document["id"]), STROKES, format="json", **headers)
    again = client.post(_url(document["id"]), STROKES, format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert HandwrittenInstruction.objects.count() == 1
    assert len(events("document.instruction_added")) == 1


def test_idempotent_replay_of_a_multipart_upload(as_, draft):
    document = draft("bob")
    client = as_("leo")
    headers = {"HTTP_IDEMPOTENCY_KEY": f"instr-{uuid.uuid4()}"}
    file_a, file_b = io.BytesIO(png_bytes()), io.BytesIO(png_bytes())
    file_a.name = file_b.name = "ink.png"
    first = client.post(_url(document["id"]), {"image": file_a}, format="multipart", **headers)
    again = client.post(_url(document["id"]), {"image": file_b}, format="multipart", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert HandwrittenInstruction.objects.count() == 1


def test_list_query_count_does_not_grow(as_, draft):
    document = draft("bob")
    client = as_("leo")
    client.post(_url(document["id"]), STROKES, format="json")
    few, response = count_queries(lambda: client.get(_url(document["id"])))
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    for _ in range(4):
        client.post(_url(document["id"]), STROKES, format="json")
    many, response = count_queries(lambda: client.get(_url(document["id"])))
    assert len(response.json()["results"]) == 5
    assert many == few
    item = response.json()["results"][0]
    assert item["author"]["display_name"] == "leo" and "title" in item["author"]
