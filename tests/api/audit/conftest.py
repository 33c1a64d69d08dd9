"""Helpers for the audit tests: raw SQL as a malicious DBA would run it, and
verify_audit's outcome. Docs: docs/audit.md."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

EVENTS = "audit_auditevent"
HEAD = "audit_auditchainhead"


def bypass_guards() -> None:
    """What a DBA with table-owner rights does first on PostgreSQL: switch the
    append-only triggers off (inside the test's transaction, so it rolls back)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {EVENTS} DISABLE TRIGGER USER")
            cursor.execute(f"ALTER TABLE {HEAD} DISABLE TRIGGER USER")


def sql(statement: str, params: list | tuple = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def json_sql() -> str:
    """A placeholder for a JSON value in raw SQL."""
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def tamper(statement: str, params: list | tuple = ()) -> int:
    bypass_guards()
    return sql(statement, params)


def insert_row(**values) -> None:
    """INSERT one audit row by SQL (all columns given, detail as a dict)."""
    values = dict(values)
    values["detail"] = json.dumps(values.get("detail", {}), ensure_ascii=False)
    if "occurred_at" in values:
        values["occurred_at"] = connection.ops.adapt_datetimefield_value(values["occurred_at"])
    columns = list(values)
    marks = [json_sql() if c == "detail" else "%s" for c in columns]
    tamper(
        f"INSERT INTO {EVENTS} ({', '.join(columns)}) VALUES ({', '.join(marks)})",
        [values[c] for c in columns],
    )


@dataclass
class Outcome:
    ok: bool
    out: str
    err: str
    message: str = ""

    @property
    def text(self) -> str:
        return "\n".join([self.out, self.err, self.message])


def run_verify(*args: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        assert exc.returncode == 1
        return Outcome(False, out.getvalue(), err.getvalue(), str(exc))
    return Outcome(True, out.getvalue(), err.getvalue())


@pytest.fixture
def chain(db):
    """Six recorded events; returns them as read back from the database."""
    from api.audit.models import AuditEvent
    from api.audit.recorder import record

    for index in range(6):
        record(
            f"test.step{index}",
            actor_username=f"user{index}",
            object_type="test.thing",
            object_id=index,
            unit_id=None,
            source_address="10.0.0.1",
            detail={"n": index, "z": "末", "a": [1, 2]},
        )
    return list(AuditEvent.objects.order_by("seq"))
