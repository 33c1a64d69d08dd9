"""Recording events: normalisation, hash stability across a database round trip
(SQLite and PostgreSQL), the head row, and durable denials (docs/audit.md)."""

from __future__ import annotations

import decimal
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import transaction

from api.audit.hashing import canonical_payload, canonical_text, compute_hash
from api.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent
from api.audit.recorder import MAX_DETAIL_CHARS, record, record_denied
from api.audit.verification import verify_chain
from api.common.context import reset_source_address, set_source_address
from tests.conftest import requires_postgres

TRICKY_DETAILS = [
    {"b": 1, "a": {"z": [3, 2, 1], "y": {"d": None, "c": True}}},
    {"中文键": "公文 签发 ✅", "emoji": "🏛️", "quote": '"\\', "nul": "a\x00b"},
    {"big": 2**62, "neg": -(2**40), "zero": 0, "false": False},
    {"floats": [0.1, 1.0, -0.0, 2.5e-7, 1e20, 1e23, 1.5e300, 123456789.123456789]},
    {"nan": float("nan"), "inf": float("inf")},
    {1: "int key", None: "none key", "tuple": (1, 2), "set": {3, 1, 2}},
    {"when": datetime(2026, 5, 1, 8, 30, tzinfo=UTC), "money": decimal.Decimal("12.50")},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {},
]

TRICKY_ADDRESSES = [
    ("10.0.0.1", "10.0.0.1"),
    ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("::ffff:10.0.0.1", "::ffff:10.0.0.1"),
    ("[::1]", "::1"),
    ("fe80::1%eth0", "fe80::1"),
    ("not an address", None),
    ("", None),
    (None, None),
]


def reread(event: AuditEvent) -> dict:
    """The row as the verifier sees it, straight from the database."""
    from api.audit.verification import ROW_FIELDS

    return AuditEvent.objects.filter(pk=event.pk).values(*ROW_FIELDS).get()


@pytest.mark.django_db
@pytest.mark.parametrize("detail", TRICKY_DETAILS)
def test_detail_hash_survives_the_database(detail):
    event = record("test.detail", detail=detail)
    row = reread(event)
    assert compute_hash(row) == event.hash == row["hash"]
    model = AuditEvent.objects.get(pk=event.pk)
    assert compute_hash(model) == event.hash


@pytest.mark.django_db
@pytest.mark.parametrize(("given", "stored"), TRICKY_ADDRESSES)
def test_source_address_normalised_and_stable(given, stored):
    event = record("test.address", source_address=given)
    row = reread(event)
    assert compute_hash(row) == event.hash
    if stored is None:
        assert row["source_address"] is None
    else:
        # PostgreSQL's inet and SQLite's text may spell an address differently;
        # the canonical form is the same.
        assert (
            canonical_payload(row)["source_address"] == canonical_payload(event)["source_address"]
        )
        import ipaddress

        assert ipaddress.ip_address(row["source_address"]) == ipaddress.ip_address(stored)


@pytest.mark.django_db
def test_ints_given_as_strings_and_long_text(personas):
    event = record(
        "test.types",
        unit_id=str(personas["alice"].unit_id),
        object_type="x" * 100,
        object_id=12345,
        actor_username="u" * 100,
    )
    row = reread(event)
    assert row["unit_id"] == personas["alice"].unit_id
    assert row["object_id"] == "12345"
    assert len(row["object_type"]) == 64 and len(row["actor_username"]) == 64
    assert compute_hash(row) == event.hash


@pytest.mark.django_db
def test_nul_in_text_fields_is_replaced():
    event = record("test.nul\x00", actor_username="bad\x00name", object_id="1\x002")
    row = reread(event)
    assert "\x00" not in row["action"] + row["actor_username"] + row["object_id"]
    assert compute_hash(row) == event.hash


@pytest.mark.django_db
def test_oversized_detail_is_truncated_not_refused():
    event = record("test.big", detail={"text": "x" * (MAX_DETAIL_CHARS * 2)})
    row = reread(event)
    assert row["detail"]["truncated"] is True
    assert compute_hash(row) == event.hash


def test_canonical_form_is_independent_of_representation():
    when = datetime(2026, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)
    shanghai = when.astimezone(timezone(timedelta(hours=8)))
    base = {
        "seq": 7,
        "occurred_at": when,
        "actor_id": 3,
        "actor_username": "bob",
        "on_behalf_of_id": None,
        "on_behalf_of_username": "",
        "action": "x",
        "object_type": "",
        "object_id": "",
        "unit_id": 2,
        "source_address": "::ffff:10.0.0.1",
        "result": "success",
        "detail": {"b": 1.0, "a": [1e23]},
        "prev_hash": GENESIS_HASH,
    }
    variant = {
        **base,
        "seq": "7",
        "occurred_at": shanghai,
        "actor_id": "3",
        "unit_id": 2,
        "source_address": "::ffff:a00:1",
        "detail": {"a": [100000000000000000000000], "b": 1},
    }
    assert compute_hash(base) == compute_hash(variant)
    assert '"occurred_at":"2026-05-01T08:30:00.123456Z"' in canonical_text(base)
    assert compute_hash({**base, "detail": {"b": 2}}) != compute_hash(base)
    assert compute_hash({**base, "occurred_at": when + timedelta(microseconds=1)}) != (
        compute_hash(base)
    )


@pytest.mark.django_db
def test_chain_links_and_head():
    first = record("test.one")
    second = record("test.two")
    head = AuditChainHead.objects.get()
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert (head.last_seq, head.last_hash) == (2, second.hash)
    assert (head.first_seq, head.anchor_hash) == (1, GENESIS_HASH)
    assert verify_chain().ok


@pytest.mark.django_db
def test_record_joins_the_callers_transaction():
    with pytest.raises(RuntimeError), transaction.atomic():
        record("test.rolled_back")
        raise RuntimeError("the state change failed")
    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.filter(last_seq__gt=0).count() == 0
    record("test.kept")
    assert AuditEvent.objects.get().seq == 1
    assert verify_chain().ok


@pytest.mark.django_db
def test_record_denied_outside_a_transaction_commits_on_its_own():
    event = record_denied("test.denied", actor_username="x")
    assert event.result == "denied"
    assert AuditEvent.objects.filter(action="test.denied").exists()


@pytest.mark.django_db
def test_record_denied_inside_an_atomic_block_is_a_programming_error():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_denied("test.denied")


@pytest.mark.django_db
def test_actor_unit_object_and_context_address(personas, org):
    alice, bob = personas["alice"], personas["bob"]
    token = set_source_address("10.8.8.8")
    try:
        event = record("unit.renamed", actor=alice, on_behalf_of=bob, obj=org.township)
    finally:
        reset_source_address(token)
    row = AuditEvent.objects.get(pk=event.pk)
    assert (row.actor_id, row.actor_username) == (alice.pk, "alice")
    assert (row.on_behalf_of_id, row.on_behalf_of_username) == (bob.pk, "bob")
    assert (row.object_type, row.object_id) == ("accounts.unit", str(org.township.pk))
    assert row.unit_id == org.township.pk
    assert row.source_address == "10.8.8.8"
    # With no object, the event belongs to the actor's unit.
    assert record("test.x", actor=bob).unit_id == org.office.pk


@pytest.mark.django_db
def test_bad_calls_are_refused():
    with pytest.raises(ValueError):
        record("")
    with pytest.raises(ValueError):
        record("test.x", result="maybe")
    with pytest.raises(TypeError):
        record("test.x", detail=["not", "a", "mapping"])  # type: ignore[arg-type]
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_many_events_verify_after_reread():
    for index in range(40):
        record(f"test.{index % 4}", detail={"i": index, "f": index / 7})
    result = verify_chain(chunk_size=7)
    assert result.ok and result.checked == 40


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_chain():
    """Writers in parallel (separate connections) still make one gap-free chain."""
    import threading

    from django.db import connections

    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(name: str) -> None:
        try:
            start.wait()
            for index in range(10):
                with transaction.atomic():
                    record(f"test.{name}", detail={"i": index})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 41))
    result = verify_chain()
    assert result.ok and result.checked == 40
