"""Retention: the pruner deletes only an expired prefix, keeps the anchor so the
rest still verifies, audits itself, refuses a tampered range, and is safe to run
twice (docs/audit.md#retention). Also the export that should precede it."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.test import override_settings
from django.utils import timezone

from api.audit.models import AuditChainHead, AuditEvent
from api.audit.recorder import record
from api.audit.retention import MIN_RETENTION_DAYS, prune_expired
from api.audit.tasks import prune_audit_events
from tests.api.audit.conftest import EVENTS, run_verify, sql, tamper
from tests.conftest import requires_postgres

LATER = timedelta(days=MIN_RETENTION_DAYS + 1)


def record_at(when, action: str = "test.old", **kwargs) -> AuditEvent:
    with mock.patch("api.audit.recorder.timezone.now", return_value=when):
        return record(action, **kwargs)


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_prunes_expired_prefix_and_keeps_the_chain_verifiable(chain):
    report = prune_expired(now=timezone.now() + LATER)
    assert report.deleted == 6 and report.batches == 1 and not report.refused
    head = AuditChainHead.objects.get()
    assert head.first_seq == 7
    assert head.anchor_hash == chain[-1].hash
    assert head.pruned_at is not None
    pruned = AuditEvent.objects.get()
    assert pruned.action == "audit.pruned" and pruned.seq == 7
    assert pruned.prev_hash == head.anchor_hash
    assert pruned.detail["from_seq"] == 1 and pruned.detail["to_seq"] == 6
    assert pruned.detail["deleted"] == 6
    assert pruned.detail["retention_days"] == django_settings.GOVDESK_AUDIT_RETENTION_DAYS
    outcome = run_verify()
    assert outcome.ok and outcome.out.startswith("OK 1 events (seq 7..7)"), outcome.text


def test_nothing_expired_nothing_done(chain):
    report = prune_expired()
    assert report.deleted == 0 and report.first_kept_seq == 1
    assert AuditEvent.objects.count() == 6


def test_safe_to_run_twice(db):
    for _ in range(3):
        record_at(timezone.now() - LATER)
    assert prune_expired().deleted == 3
    second = prune_expired()
    assert second.deleted == 0 and second.batches == 0
    assert actions() == ["audit.pruned"]
    assert run_verify().ok


def test_a_run_never_deletes_its_own_record(chain):
    # Even when the run's own audit.pruned event is already "expired" (a clock far ahead).
    report = prune_expired(now=timezone.now() + LATER)
    assert report.deleted == 6
    assert actions() == ["audit.pruned"]


def test_only_a_prefix_in_seq_order(db):
    now = timezone.now()
    record_at(now - timedelta(days=300), "test.old1")
    record_at(now - timedelta(days=1), "test.recent")
    record_at(now - timedelta(days=300), "test.old2")  # a skewed clock: old, but later in seq
    report = prune_expired(now=now)
    assert report.deleted == 1
    assert actions() == ["test.recent", "test.old2", "audit.pruned"]
    assert run_verify().ok


def test_retention_boundary(db):
    now = timezone.now()
    days = django_settings.GOVDESK_AUDIT_RETENTION_DAYS
    record_at(now - timedelta(days=days, seconds=1), "test.expired")
    record_at(now - timedelta(days=days) + timedelta(seconds=1), "test.kept")
    prune_expired(now=now)
    assert actions() == ["test.kept", "audit.pruned"]


@override_settings(GOVDESK_AUDIT_RETENTION_DAYS=30)
def test_retention_never_below_184_days(db):
    now = timezone.now()
    record_at(now - timedelta(days=100))
    assert prune_expired(now=now).deleted == 0
    assert actions() == ["test.old"]


def test_batches_each_audited(db):
    old = timezone.now() - LATER - timedelta(days=1)
    for _ in range(7):
        record_at(old)
    report = prune_expired(batch_size=3)
    assert report.deleted == 7 and report.batches == 3
    pruned = AuditEvent.objects.filter(action="audit.pruned").order_by("seq")
    assert [(e.detail["from_seq"], e.detail["to_seq"]) for e in pruned] == [
        (1, 3),
        (4, 6),
        (7, 7),
    ]
    assert run_verify().ok


def test_tampered_range_is_kept_as_evidence(chain):
    tamper(f"UPDATE {EVENTS} SET actor_username = 'x' WHERE seq = 3")
    report = prune_expired(now=timezone.now() + LATER)
    assert report.refused and report.deleted == 0
    assert AuditEvent.objects.filter(seq__lte=6).count() == 6
    refusal = AuditEvent.objects.get(action="audit.prune_refused")
    assert refusal.result == "failed"
    assert "seq 3" in refusal.detail["problems"][0]
    assert AuditChainHead.objects.get().first_seq == 1


def test_after_pruning_deletions_and_forgeries_are_still_named(chain):
    now = timezone.now()
    record("test.kept1")
    record("test.kept2")
    prune_expired(now=now + LATER, batch_size=4)  # two batches: seq 1..4, 5..8
    head = AuditChainHead.objects.get()
    # Everything recorded before "now + LATER" went, in two audited batches.
    assert head.first_seq == 9 and actions() == ["audit.pruned", "audit.pruned"]
    assert run_verify().ok
    first_kept = AuditEvent.objects.get(seq=9)
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 9")
    outcome = run_verify()
    assert not outcome.ok and "seq 9: deleted at the start of the chain" in outcome.err
    assert first_kept.seq == 9


def test_rows_left_below_the_anchor_are_named(db):
    now = timezone.now()
    for _ in range(3):
        record_at(now - LATER - timedelta(days=2))
    record("test.recent")
    prune_expired(now=now)
    assert AuditChainHead.objects.get().first_seq == 4
    tamper(f"UPDATE {EVENTS} SET action = 'x' WHERE seq = 4")
    assert not run_verify().ok


@requires_postgres
def test_prune_leaves_the_guard_on(chain):
    prune_expired(now=timezone.now() + LATER)
    # Same database transaction (the test's): the pruner switched its setting off again.
    with pytest.raises(DatabaseError), transaction.atomic():
        sql(f"DELETE FROM {EVENTS}")


def test_celery_task_matches_the_beat_schedule(chain):
    assert django_settings.CELERY_BEAT_SCHEDULE["prune-audit"]["task"] == prune_audit_events.name
    assert prune_audit_events.name == "api.audit.tasks.prune_audit_events"
    summary = prune_audit_events.apply().get()
    assert summary["deleted"] == 0 and summary["refused"] is False
    json.dumps(summary)  # a JSON result


def test_celery_task_prunes(db):
    for _ in range(2):
        record_at(timezone.now() - LATER - timedelta(days=1))
    summary = prune_audit_events.apply(kwargs={"batch_size": 1}).get()
    assert summary["deleted"] == 2 and summary["batches"] == 2
    assert run_verify().ok


class TestExport:
    def export(self, *args: str) -> tuple[list[dict], str]:
        out, err = io.StringIO(), io.StringIO()
        call_command("export_audit", *args, stdout=out, stderr=err)
        return [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()

    def test_export_all_lines_verify(self, chain, tmp_path):
        lines, note = self.export()
        assert [line["seq"] for line in lines] == [1, 2, 3, 4, 5, 6]
        assert lines[0]["hash"] == chain[0].hash and lines[0]["id"] == chain[0].id
        assert "exported 6 events" in note
        path = tmp_path / "audit.jsonl"
        path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n")
        outcome = run_verify("--archive", str(path))
        assert outcome.ok and outcome.out.startswith("OK 6 events (seq 1..6)"), outcome.text

    def test_export_before_is_what_pruning_deletes(self, db, tmp_path):
        now = timezone.now()
        for _ in range(3):
            record_at(now - timedelta(days=400))
        record_at(now - timedelta(days=10), "test.recent")
        cutoff = now - timedelta(days=django_settings.GOVDESK_AUDIT_RETENTION_DAYS)
        path = tmp_path / "archive.jsonl"
        call_command(
            "export_audit",
            "--before",
            cutoff.isoformat(),
            "--output",
            str(path),
            stderr=io.StringIO(),
        )
        archived = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["seq"] for line in archived] == [1, 2, 3]
        prune_expired(now=now)
        head = AuditChainHead.objects.get()
        # The archive ends exactly where the kept chain begins.
        assert archived[-1]["hash"] == head.anchor_hash
        assert archived[-1]["seq"] == head.first_seq - 1
        assert run_verify("--archive", str(path)).ok

    def test_export_before_a_date(self, chain):
        lines, _ = self.export("--before", "2000-01-01")
        assert lines == []
        with pytest.raises(Exception, match="expected a date"):
            self.export("--before", "yesterday")

    def test_tampered_archive_is_named(self, chain, tmp_path):
        lines, _ = self.export()
        lines[2]["actor_username"] = "mallory"
        del lines[4]
        path = tmp_path / "audit.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines) + "not json\n")
        outcome = run_verify("--archive", str(path))
        assert not outcome.ok
        assert "line 3, seq 3" in outcome.err and "edited" in outcome.err
        assert "seq 5: deleted before line 5, seq 6" in outcome.err
        assert "line 6: not an audit event" in outcome.err
