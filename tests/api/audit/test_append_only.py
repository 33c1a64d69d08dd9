"""Append-only: the ORM refuses changes everywhere; on PostgreSQL the triggers of
migration 0003 refuse UPDATE/DELETE by plain SQL too (docs/audit.md#database-guard)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from api.audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from api.audit.recorder import record
from tests.api.audit.conftest import EVENTS, HEAD, sql
from tests.conftest import requires_postgres


class TestOrmGuard:
    def test_saving_an_existing_event_is_refused(self, chain):
        event = AuditEvent.objects.get(seq=2)
        event.action = "x"
        with pytest.raises(AppendOnlyError):
            event.save()

    def test_deleting_is_refused(self, chain):
        with pytest.raises(AppendOnlyError):
            chain[0].delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(seq=1).delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.all().delete()

    def test_queryset_writes_are_refused(self, chain):
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(seq=1).update(action="x")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.bulk_update(chain, ["action"])
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.bulk_create([AuditEvent(seq=99)])
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.update_or_create(seq=1, defaults={"action": "x"})
        assert AuditEvent.objects.get(seq=1).action == "test.step0"


def refused(statement: str, params: list | tuple = ()) -> str:
    """Run SQL in a savepoint; return the database's refusal message."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic():
        sql(statement, params)
    return str(refusal.value)


@requires_postgres
class TestPostgresTriggers:
    def test_update_by_sql_is_refused(self, chain):
        message = refused(f"UPDATE {EVENTS} SET action = 'x' WHERE seq = 2")
        assert "append-only" in message
        assert AuditEvent.objects.get(seq=2).action == "test.step1"

    def test_delete_by_sql_is_refused(self, chain):
        assert "append-only" in refused(f"DELETE FROM {EVENTS} WHERE seq = 6")
        assert "append-only" in refused(f"DELETE FROM {EVENTS}")
        assert AuditEvent.objects.count() == 6

    def test_delete_allowed_only_under_the_prune_setting(self, chain):
        sql("SET LOCAL govdesk.audit_prune = 'on'")
        assert sql(f"DELETE FROM {EVENTS} WHERE seq = 1") == 1
        # UPDATE stays refused even while pruning.
        assert "append-only" in refused(f"UPDATE {EVENTS} SET action = 'x'")
        sql("SET LOCAL govdesk.audit_prune = 'off'")
        assert "append-only" in refused(f"DELETE FROM {EVENTS} WHERE seq = 2")

    @pytest.mark.django_db(transaction=True)
    def test_the_setting_ends_with_its_transaction(self):
        for _ in range(3):
            record("test.event")
        with transaction.atomic():  # a real transaction here, not a savepoint
            sql("SET LOCAL govdesk.audit_prune = 'on'")
            assert sql(f"DELETE FROM {EVENTS} WHERE seq = 1") == 1
        assert "append-only" in refused(f"DELETE FROM {EVENTS} WHERE seq = 2")
        assert AuditEvent.objects.count() == 2

    def test_head_moves_only_forward(self, chain):
        assert "only moves forward" in refused(f"UPDATE {HEAD} SET last_seq = 5")
        assert "only moves forward" in refused(f"UPDATE {HEAD} SET last_hash = %s", ["e" * 64])
        assert "cannot be deleted" in refused(f"DELETE FROM {HEAD}")
        assert "anchor" in refused(f"UPDATE {HEAD} SET first_seq = 3")
        assert "anchor" in refused(f"UPDATE {HEAD} SET anchor_hash = %s", ["e" * 64])
        head = AuditChainHead.objects.get()
        assert (head.last_seq, head.first_seq) == (6, 1)

    def test_head_anchor_moves_back_never(self, chain):
        with transaction.atomic():
            sql("SET LOCAL govdesk.audit_prune = 'on'")
            sql(f"UPDATE {HEAD} SET first_seq = 3")
            assert "anchor" in refused(f"UPDATE {HEAD} SET first_seq = 2")

    def test_appends_still_work(self, chain):
        record("test.after")
        assert AuditChainHead.objects.get().last_seq == 7

    def test_triggers_are_installed(self, db):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid IN (%s::regclass, %s::regclass) "
                "AND NOT tgisinternal ORDER BY tgname",
                [EVENTS, HEAD],
            )
            assert [r[0] for r in cursor.fetchall()] == [
                "audit_event_append_only",
                "audit_head_forward_only",
            ]


def test_migration_is_a_no_op_on_sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'audit%'"
        )
        assert cursor.fetchone()[0] == 0
