"""List endpoints cost the same number of queries for 2 rows as for 30
(docs/documents.md#endpoints)."""

from __future__ import annotations

import pytest

from api.documents import actions
from tests.api.documents.conftest import DRAFT, count_queries

pytestmark = pytest.mark.django_db


def grow(personas, document, start: int, stop: int) -> None:
    """More documents (by several drafters) and more versions of ``document``."""
    for index in range(start, stop):
        drafter = personas["bob"] if index % 2 else personas["alice"]
        actions.create_draft(drafter, **{**DRAFT, "title": f"文件{index}"})
        actions.update_document(document.pk, personas["bob"], {"title": f"第{index}版"})


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        ("bob", "/api/v1/documents/"),
        ("leo", "/api/v1/documents/?status=draft&direction=outgoing&q=文件"),
        ("sam", "/api/v1/documents/"),
        ("ivy", "/api/v1/documents/"),
        ("bob", "/api/v1/documents/?mine=true"),
        ("bob", "/api/v1/documents/{doc}/versions/"),
    ],
)
def test_list_query_count_is_flat(as_, personas, persona, path):
    document = actions.create_draft(personas["bob"], **DRAFT)
    url = path.format(doc=document.pk)
    client = as_(persona)
    client.get(url)  # warm-up

    grow(personas, document, 0, 2)
    small, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    rows_small = len(response.json()["results"])

    grow(personas, document, 2, 30)
    large, response = count_queries(lambda: client.get(url))
    assert response.status_code == 200
    assert len(response.json()["results"]) > rows_small >= 2
    assert large == small, f"{url}: {small} queries for few rows, {large} for many"


def test_detail_query_count_does_not_grow_with_attachments(as_, personas):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.api.documents.conftest import PDF

    document = actions.create_draft(personas["bob"], **DRAFT)
    url = f"/api/v1/documents/{document.pk}/"

    def attach(count: int) -> None:
        for index in range(count):
            upload = SimpleUploadedFile(f"f{index}.pdf", PDF)
            actions.add_attachment(document.pk, personas["bob"], upload)

    client = as_("bob")
    client.get(url)
    attach(1)
    small, _ = count_queries(lambda: client.get(url))
    attach(10)
    large, response = count_queries(lambda: client.get(url))
    assert len(response.json()["attachments"]) == 11
    assert large == small
