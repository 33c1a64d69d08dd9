"""发文字号: format, prefixes, idempotency, voiding, and no gaps or duplicates under
concurrency (docs/documents.md#numbering)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections, transaction
from django.utils import timezone

from api.common.errors import ApiError
from api.documents import actions
from api.documents.models import (
    Document,
    NumberAssignment,
    NumberPrefix,
    NumberSequence,
    NumberVoid,
)
from api.documents.numbering import format_number
from tests.api.documents.conftest import DRAFT, code, events
from tests.conftest import requires_postgres

YEAR = timezone.localdate().year


def in_progress(org, personas, **fields) -> Document:
    document = actions.create_draft(personas["bob"], **{**DRAFT, **fields})
    actions.set_status(document, "in_progress")
    return document


@pytest.fixture
def prefixed(org):
    org.office.doc_prefix = "测府办发"
    org.office.save(update_fields=["doc_prefix"])
    return org


def test_format():
    assert format_number("新府发", 2026, 12) == "新府发〔2026〕12号"


@pytest.mark.django_db
def test_numbers_follow_each_other_per_prefix(prefixed, personas):
    org = prefixed
    NumberPrefix.objects.create(unit=org.office, doc_type="letter", prefix="测府办函")
    numbers = [
        actions.assign_number(in_progress(org, personas).pk, personas["leo"]) for _ in range(3)
    ]
    letter = actions.assign_number(in_progress(org, personas, doc_type="letter").pk, None)
    assert numbers == [f"测府办发〔{YEAR}〕{n}号" for n in (1, 2, 3)]
    assert letter == f"测府办函〔{YEAR}〕1号"
    assert NumberSequence.objects.get(unit=org.office, prefix="测府办发").last_value == 3
    assert len(events("document.numbered")) == 4


@pytest.mark.django_db
def test_assign_is_idempotent_and_versioned(prefixed, personas):
    document = in_progress(prefixed, personas)
    first = actions.assign_number(document.pk, personas["leo"])
    assert actions.assign_number(document.pk, personas["leo"]) == first
    document.refresh_from_db()
    assert document.doc_number == first and document.version == 3
    assert document.versions.get(version=3).changed_fields == ["doc_number"]
    assert NumberAssignment.objects.count() == 1 and len(events("document.numbered")) == 1


@pytest.mark.django_db
def test_not_before_the_number_step(prefixed, personas):
    draft = actions.create_draft(personas["bob"], **DRAFT)
    with pytest.raises(ApiError) as caught:
        actions.assign_number(draft.pk, personas["leo"])
    assert caught.value.code == "number_not_applicable"
    incoming = in_progress(prefixed, personas, direction="incoming")
    with pytest.raises(ApiError) as caught:
        actions.assign_number(incoming.pk, personas["leo"])
    assert caught.value.code == "number_not_applicable"
    assert NumberSequence.objects.count() == 0


@pytest.mark.django_db
def test_unit_without_prefix(org, personas):
    document = in_progress(org, personas)
    with pytest.raises(ApiError) as caught:
        actions.assign_number(document.pk, None)
    assert caught.value.code == "number_prefix_missing"


@pytest.mark.django_db
def test_rolled_back_number_is_given_again(prefixed, personas):
    """A transaction that fails after taking a number gives it back: no gap."""
    document = in_progress(prefixed, personas)
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.assign_number(document.pk, None)
        raise RuntimeError("the number step failed later")
    assert actions.assign_number(document.pk, None) == f"测府办发〔{YEAR}〕1号"


@pytest.mark.django_db
def test_void_is_recorded_and_the_number_never_reused(prefixed, personas, as_):
    document = in_progress(prefixed, personas)
    number = actions.assign_number(document.pk, None)
    url = f"/api/v1/documents/{document.pk}/void-number/"
    assert as_("bob").get(f"/api/v1/documents/{document.pk}/").json()["permissions"]["void_number"]
    assert as_("charlie").post(url, {"reason": "x"}, format="json").status_code == 404
    response = as_("leo").post(url, {"reason": "x"}, format="json")
    assert response.status_code == 403 and events("document.number_void", "denied")
    assert as_("bob").post(url, {"reason": "  "}, format="json").status_code == 400
    response = as_("bob").post(url, {"reason": "文号印错"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["doc_number"] == ""
    void = NumberVoid.objects.get()
    assert void.doc_number == number and void.voided_by == personas["bob"]
    (event,) = events("document.number_voided")
    assert event.detail == {"doc_number": number, "reason": "文号印错", "version": 4}
    again = as_("bob").post(url, {"reason": "再次作废"}, format="json")
    assert again.status_code == 409 and code(again) == "not_numbered"
    # The next number is new, for this document and for others.
    renumbered = actions.assign_number(document.pk, None)
    other = actions.assign_number(in_progress(prefixed, personas).pk, None)
    assert renumbered == f"测府办发〔{YEAR}〕2号" and other == f"测府办发〔{YEAR}〕3号"
    assert number not in Document.objects.values_list("doc_number", flat=True)


@pytest.mark.django_db
def test_unit_admin_may_void(prefixed, personas, as_):
    key = uuid.uuid4().hex
    document = in_progress(prefixed, personas)
    actions.assign_number(document.pk, None)
    response = as_("alice").post(
        f"/api/v1/documents/{document.pk}/void-number/",
        {"reason": "重复编号"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 200
    replay = as_("alice").post(
        f"/api/v1/documents/{document.pk}/void-number/",
        {"reason": "重复编号"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert NumberVoid.objects.count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_are_gap_free_and_unique():
    """20 threads, each on its own connection, number 20 documents at once: exactly
    1..20, each once; a second wave racing on the same documents changes nothing."""
    from tests.personas import Role, make_org, make_user

    org = make_org()
    org.office.doc_prefix = "并发"
    org.office.save(update_fields=["doc_prefix"])
    bob = make_user("bob", org.office, Role.CLERK)
    documents = [in_progress(org, {"bob": bob}).pk for _ in range(20)]
    results: list[str] = []
    errors: list[BaseException] = []

    def run(ids: list[int]) -> None:
        barrier = threading.Barrier(len(ids))

        def worker(document_id: int) -> None:
            try:
                barrier.wait()
                results.append(actions.assign_number(document_id, None))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    run(documents)
    assert not errors
    expected = {f"并发〔{YEAR}〕{n}号" for n in range(1, 21)}
    assert sorted(results) == sorted(expected) and len(set(results)) == 20
    results.clear()
    run(documents)  # idempotent under a race too
    assert not errors and sorted(results) == sorted(expected)
    assert set(Document.objects.values_list("doc_number", flat=True)) == expected
    assert NumberAssignment.objects.count() == 20
    assert NumberSequence.objects.get().last_value == 20
