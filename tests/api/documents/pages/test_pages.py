"""Reading on phones: page list, page images, page text (docs/reading-on-phones.md)."""

from __future__ import annotations

import io
import re
import subprocess
import threading
from unittest import mock

import pytest
from PIL import Image

from api.audit.models import AuditEvent
from api.documents import pages
from api.documents.models import RenderedPdf
from api.documents.tasks import render_document
from tests.api.documents.conftest import code
from tests.api.documents.pages.conftest import TITLE

pytestmark = pytest.mark.django_db

WEBP_ACCEPT = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"


def base(rendering: RenderedPdf) -> str:
    return f"/api/v1/documents/{rendering.document_id}/pages/"


def image(client, rendering, page=1, width=360, accept=None, **headers):
    if accept is not None:
        headers["HTTP_ACCEPT"] = accept
    return client.get(f"{base(rendering)}{page}/image/?width={width}", **headers)


def no_subprocess():
    """Patch the tools' runner so that any call fails the test."""
    return mock.patch.object(pages.subprocess, "run", side_effect=AssertionError("subprocess ran"))


def test_pages_list_of_a_rendered_three_page_document(as_, rendered, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = as_("bob").get(base(rendered))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["document"] == rendered.document_id
    assert body["rendering_version"] == rendered.version
    assert body["sha256"] == rendered.sha256
    assert body["page_count"] == 3
    assert [p["index"] for p in body["pages"]] == [1, 2, 3]
    second = body["pages"][1]
    assert second["width_px"] == [360, 720]
    assert second["text_url"] == f"{base(rendered)}2/text/"
    version = rendered.sha256[:16]
    assert second["image_urls"] == {
        "360": f"{base(rendered)}2/image/?width=360&v={version}",
        "720": f"{base(rendered)}2/image/?width=720&v={version}",
    }


def test_png_by_default_at_the_asked_width(as_, rendered):
    for width in (360, 720):
        response = image(as_("bob"), rendered, page=2, width=width)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(response.content)) as picture:
            assert picture.format == "PNG"
            assert picture.width == width
            # A4 portrait: height / width = 297 / 210
            assert picture.height == pytest.approx(width * 297 / 210, abs=2)
        assert "Accept" in response["Vary"]
        assert response["Cache-Control"] == f"private, max-age={30 * 24 * 3600}"
        assert response["ETag"] == f'"{rendered.sha256[:32]}-p2-w{width}-png"'


def test_webp_when_accepted(as_, rendered):
    response = image(as_("bob"), rendered, width=720, accept=WEBP_ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WEBP"
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.format == "WEBP" and picture.width == 720
    assert response["ETag"].endswith('-w720-webp"')
    # refused (q=0) or absent: PNG
    refused = image(as_("bob"), rendered, width=720, accept="image/webp;q=0, image/png")
    assert refused["Content-Type"] == "image/png"
    only_webp = image(as_("bob"), rendered, width=360, accept="image/webp")
    assert only_webp.status_code == 200 and only_webp["Content-Type"] == "image/webp"


def test_second_request_is_served_from_the_cache(as_, rendered):
    first = image(as_("bob"), rendered, page=3, width=360)
    text = as_("bob").get(f"{base(rendered)}3/text/")
    assert first.status_code == 200 and text.status_code == 200
    cached = pages.image_path(rendered, 3, 360, "png")
    assert cached.is_file()
    assert cached.name == f"{rendered.sha256}-p3-w360.png"
    with no_subprocess() as run:
        again = image(as_("bob"), rendered, page=3, width=360)
        text_again = as_("bob").get(f"{base(rendered)}3/text/")
    run.assert_not_called()
    assert again.status_code == 200 and again.content == first.content
    assert text_again.json() == text.json()
    # no temporary files are left behind
    assert sorted(p.name for p in cached.parent.iterdir()) == sorted(
        [cached.name, pages.text_path(rendered, 3).name]
    )


def test_text_of_the_first_page_contains_the_title(as_, rendered):
    response = as_("bob").get(f"{base(rendered)}1/text/")
    assert response.status_code == 200
    body = response.json()
    assert body["page"] == 1
    assert TITLE in re.sub(r"\s+", "", body["text"])
    last = as_("bob").get(f"{base(rendered)}3/text/").json()["text"]
    assert TITLE not in re.sub(r"\s+", "", last)


def test_another_unit_gets_404_and_is_recorded(as_, rendered):
    paths = [base(rendered), f"{base(rendered)}1/image/?width=360", f"{base(rendered)}1/text/"]
    for path in paths:
        response = as_("charlie").get(path)
        assert response.status_code == 404, path
        assert code(response) == "not_found"
    denied = AuditEvent.objects.filter(action="document.access_denied", result="denied")
    assert denied.count() == len(paths)
    assert as_("anonymous").get(base(rendered)).status_code == 401
    # the office's leader (another body role) may read
    assert as_("leo").get(base(rendered)).status_code == 200


def test_etag_gives_304_without_rendering(as_, rendered):
    first = image(as_("bob"), rendered, width=720, accept=WEBP_ACCEPT)
    etag = first["ETag"]
    with no_subprocess() as run, mock.patch.object(pages, "page_image") as page_image:
        again = image(as_("bob"), rendered, width=720, accept=WEBP_ACCEPT, HTTP_IF_NONE_MATCH=etag)
    run.assert_not_called()
    page_image.assert_not_called()
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert "Accept" in again["Vary"]
    # the PNG of the same page has another tag: no 304 for it
    png = image(as_("bob"), rendered, width=720, HTTP_IF_NONE_MATCH=etag)
    assert png.status_code == 200 and png["Content-Type"] == "image/png"


def test_a_stale_version_parameter_is_not_cached_long(as_, rendered):
    path = f"{base(rendered)}1/image/?width=360"
    current = as_("bob").get(f"{path}&v={rendered.sha256[:16]}")
    assert current["Cache-Control"].startswith("private, max-age=")
    stale = as_("bob").get(f"{path}&v=0123456789abcdef")
    assert stale.status_code == 200
    assert stale["Cache-Control"] == "private, no-cache"


def test_not_rendered_out_of_range_and_bad_width(as_, unrendered, rendered):
    client = as_("bob")
    assert image(client, rendered, page=4).status_code == 404
    assert client.get(f"{base(rendered)}4/text/").status_code == 404
    assert image(client, rendered, page=0).status_code == 404
    for width in ("500", "0", "abc", "360.0"):
        response = client.get(f"{base(rendered)}1/image/?width={width}")
        assert response.status_code == 400, width
        assert code(response) == "validation_error"
        assert "width" in response.json()["error"]["fields"]
    RenderedPdf.objects.filter(document=unrendered).delete()
    for path in (base(rendered), f"{base(rendered)}1/image/?width=360", f"{base(rendered)}1/text/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert code(response) == "not_rendered"


@pytest.mark.parametrize(
    "failure",
    [
        subprocess.TimeoutExpired(["pdftoppm"], 30),
        subprocess.CalledProcessError(1, ["pdftoppm"], stderr=b"Syntax Error"),
        FileNotFoundError("pdftoppm"),
    ],
)
def test_tool_failure_is_503_and_logged(as_, rendered, caplog, failure):
    with mock.patch.object(pages.subprocess, "run", side_effect=failure):
        response = image(as_("bob"), rendered)
        text = as_("bob").get(f"{base(rendered)}1/text/")
    assert response.status_code == 503 and code(response) == "render_unavailable"
    assert text.status_code == 503 and code(text) == "render_unavailable"
    assert "page rendering failed" in caplog.text
    assert not pages.image_path(rendered, 1, 360, "png").exists()


def test_tools_run_with_a_fixed_argument_list_and_a_timeout(rendered):
    real = subprocess.run
    with mock.patch.object(pages.subprocess, "run", side_effect=real) as run:
        pages.page_image(rendered, 2, 720, "png")
    args, kwargs = run.call_args
    argv = args[0]
    assert isinstance(argv, list) and argv[0] == "pdftoppm"
    assert argv[argv.index("-scale-to-x") + 1] == "720"
    assert argv[argv.index("-f") + 1] == argv[argv.index("-l") + 1] == "2"
    assert kwargs["timeout"] == pages.TOOL_TIMEOUT and not kwargs.get("shell")


def test_concurrent_requests_for_one_page_agree(rendered):
    results: list[bytes] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(pages.page_image(rendered, 1, 360, "webp").read_bytes())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 4 and len(set(results)) == 1
    folder = pages.cache_dir(rendered)
    assert [p.name for p in folder.iterdir()] == [f"{rendered.sha256}-p1-w360.webp"]


def test_render_page_images_pregenerates_every_width_and_is_safe_twice(rendered):
    result = pages.render_page_images(rendered.document_id)
    assert result == {"document": rendered.document_id, "rendering": rendered.pk, "images": 12}
    names = sorted(p.name for p in pages.cache_dir(rendered).iterdir())
    expected = sorted(
        f"{rendered.sha256}-p{n}-w{w}.{f}"
        for n in (1, 2, 3)
        for w in (360, 720)
        for f in ("png", "webp")
    )
    assert names == expected
    with no_subprocess() as run:
        assert pages.render_page_images(rendered.document_id) == result
    run.assert_not_called()


def test_render_page_images_without_a_rendering(unrendered):
    assert pages.render_page_images(unrendered.pk) is None


def test_render_document_sends_render_page_images_after_commit(
    unrendered, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(pages.render_page_images, "delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        render_document(unrendered.pk)
    delay.assert_called_once_with(unrendered.pk)


def test_webp_is_made_from_the_cached_png_without_pdftoppm(rendered):
    png = pages.page_image(rendered, 2, 360, "png")
    with no_subprocess() as run:
        webp = pages.page_image(rendered, 2, 360, "webp")
    run.assert_not_called()
    with Image.open(png) as a, Image.open(webp) as b:
        assert b.format == "WEBP" and b.size == a.size
