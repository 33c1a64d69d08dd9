"""``manage.py verify_audit`` finds and names every edited, inserted or deleted row —
on SQLite and on PostgreSQL (where the tampering first switches the append-only
triggers off, as a malicious DBA would). Docs: docs/audit.md#verify_audit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from api.audit.hashing import compute_hash
from api.audit.models import AuditEvent
from api.audit.recorder import record
from api.audit.verification import verify_chain
from tests.api.audit.conftest import (
    EVENTS,
    HEAD,
    insert_row,
    json_sql,
    run_verify,
    tamper,
)


def names(outcome, seq: int, row_id: int | None, kind: str) -> bool:
    """The output names the row (seq and, when it still exists, id) and the kind."""
    pattern = rf"^FAIL (line \d+, )?seq {seq}" + (
        rf" \(id {row_id}\b" if row_id is not None else r"[: ]"
    )
    return any(re.search(pattern, line) and kind in line for line in outcome.err.splitlines())


def test_intact_chain_is_ok(chain):
    outcome = run_verify()
    assert outcome.ok, outcome.text
    assert outcome.out.startswith("OK 6 events (seq 1..6)")
    assert chain[-1].hash in outcome.out


def test_empty_chain_is_ok(db):
    outcome = run_verify()
    assert outcome.ok and outcome.out.startswith("OK 0 events")


def test_exit_status_from_the_command_line(chain):
    from api.audit.management.commands.verify_audit import Command

    tamper(f"UPDATE {EVENTS} SET action = 'test.forged' WHERE seq = 2")
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "verify_audit"])
    assert exited.value.code == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "test.forged"),
        ("actor_username", "mallory"),
        ("actor_id", 999),
        ("on_behalf_of_username", "mallory"),
        ("object_id", "77"),
        ("object_type", "test.other"),
        ("unit_id", 5),
        ("result", "denied"),
        ("source_address", "10.0.0.2"),
        ("prev_hash", "f" * 64),
    ],
)
def test_sql_update_of_a_column_is_named(chain, column, value):
    target = chain[2]
    assert tamper(f"UPDATE {EVENTS} SET {column} = %s WHERE id = %s", [value, target.id]) == 1
    outcome = run_verify()
    assert not outcome.ok
    assert names(outcome, 3, target.id, "edited"), outcome.text
    # Only that row is blamed.
    assert not any(names(outcome, s, None, "edited") for s in (1, 2, 4, 5, 6))


def test_sql_update_of_detail_is_named(chain):
    target = chain[3]
    tamper(f"UPDATE {EVENTS} SET detail = {json_sql()} WHERE id = %s", ['{"n": 99}', target.id])
    outcome = run_verify()
    assert not outcome.ok and names(outcome, 4, target.id, "edited"), outcome.text


def test_sql_update_of_detail_key_order_alone_is_not_an_edit(chain):
    # The same JSON object with its keys in another order is the same content.
    target = chain[3]
    tamper(
        f"UPDATE {EVENTS} SET detail = {json_sql()} WHERE id = %s",
        ['{"z": "末", "n": 3, "a": [1, 2]}', target.id],
    )
    assert run_verify().ok


def test_sql_update_of_occurred_at_is_named(chain):
    target = chain[1]
    earlier = connection.ops.adapt_datetimefield_value(target.occurred_at - timedelta(hours=3))
    tamper(f"UPDATE {EVENTS} SET occurred_at = %s WHERE id = %s", [earlier, target.id])
    outcome = run_verify()
    assert not outcome.ok and names(outcome, 2, target.id, "edited"), outcome.text


def test_occurred_at_one_microsecond_off_is_named(chain):
    target = chain[1]
    moved = connection.ops.adapt_datetimefield_value(target.occurred_at + timedelta(microseconds=1))
    tamper(f"UPDATE {EVENTS} SET occurred_at = %s WHERE id = %s", [moved, target.id])
    assert names(run_verify(), 2, target.id, "edited")


def test_sql_update_of_the_hash_is_named(chain):
    target = chain[2]
    tamper(f"UPDATE {EVENTS} SET hash = %s WHERE id = %s", ["a" * 64, target.id])
    outcome = run_verify()
    assert names(outcome, 3, target.id, "edited"), outcome.text


def test_rewrite_with_recomputed_hash_breaks_the_next_link(chain):
    """A DBA who knows the algorithm edits row 3 and recomputes its hash: row 4's
    prev_hash no longer matches, and the message names both rows."""
    target = AuditEvent.objects.get(seq=3)
    target.action = "test.forged"
    forged_hash = compute_hash(target)
    tamper(
        f"UPDATE {EVENTS} SET action = %s, hash = %s WHERE id = %s",
        ["test.forged", forged_hash, target.id],
    )
    outcome = run_verify()
    assert not outcome.ok
    line = next(line for line in outcome.err.splitlines() if "seq 4" in line)
    assert "prev_hash" in line and f"seq 3 (id {target.id})" in line


def test_rewrite_of_the_last_row_with_recomputed_hash_is_named(chain):
    target = AuditEvent.objects.get(seq=6)
    target.detail = {"n": 5, "forged": True}
    tamper(
        f"UPDATE {EVENTS} SET detail = {json_sql()}, hash = %s WHERE id = %s",
        ['{"n": 5, "forged": true}', compute_hash(target), target.id],
    )
    outcome = run_verify()
    assert names(outcome, 6, target.id, "edited"), outcome.text
    assert "chain head" in outcome.text


def test_deleted_middle_row_is_named(chain):
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 3")
    outcome = run_verify()
    assert not outcome.ok
    assert names(outcome, 3, None, "deleted"), outcome.text
    assert f"before seq 4 (id {chain[3].id}" in outcome.text
    assert "edited" not in outcome.text  # the link break is explained by the deletion


def test_deleted_rows_in_a_run_are_named_as_a_range(chain):
    tamper(f"DELETE FROM {EVENTS} WHERE seq IN (2, 3, 4)")
    outcome = run_verify()
    assert "seq 2..4 (3 rows): deleted" in outcome.text


def test_deleted_first_row_is_named(chain):
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 1")
    outcome = run_verify()
    assert names(outcome, 1, None, "deleted") and "start of the chain" in outcome.text


def test_deleted_last_row_is_named(chain):
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 6")
    outcome = run_verify()
    assert not outcome.ok
    assert names(outcome, 6, None, "truncated"), outcome.text


def test_deleted_tail_and_head_rolled_back_is_invisible_without_checkpoint(chain):
    """The limit of a chain without a secret: a DBA who deletes the tail AND rewinds
    the head leaves a consistent shorter chain. A checkpoint kept outside the
    database (the hash printed by an earlier run) catches it."""
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 6")
    tamper(f"UPDATE {HEAD} SET last_seq = 5, last_hash = %s", [chain[4].hash])
    assert run_verify().ok
    outcome = run_verify("--checkpoint", f"6:{chain[5].hash}")
    assert not outcome.ok and names(outcome, 6, None, "deleted")


def test_checkpoint_mismatch_is_named(chain):
    assert run_verify("--checkpoint", f"4:{chain[3].hash}").ok
    outcome = run_verify("--checkpoint", f"4:{'b' * 64}")
    assert names(outcome, 4, chain[3].id, "edited")


def test_all_rows_deleted_is_named(chain):
    tamper(f"DELETE FROM {EVENTS}")
    outcome = run_verify()
    assert not outcome.ok and "truncated" in outcome.text and "seq 1..6" in outcome.text


def test_missing_head_is_named(chain):
    tamper(f"DELETE FROM {HEAD}")
    outcome = run_verify()
    assert not outcome.ok and "head row is missing" in outcome.text


def _forged(seq: int, prev_hash: str, **extra) -> dict:
    base = AuditEvent.objects.get(seq=1)
    row = {
        "seq": seq,
        "occurred_at": base.occurred_at,
        "actor_id": None,
        "actor_username": "mallory",
        "on_behalf_of_id": None,
        "on_behalf_of_username": "",
        "action": "test.forged",
        "object_type": "",
        "object_id": "",
        "unit_id": None,
        "source_address": None,
        "result": "success",
        "detail": {},
        "prev_hash": prev_hash,
        **extra,
    }
    row["hash"] = compute_hash(row)  # a well-formed forgery: its own hash is right
    return row


def test_forged_row_after_the_head_is_named(chain):
    insert_row(**_forged(7, chain[-1].hash))
    forged = AuditEvent.objects.get(seq=7)
    outcome = run_verify()
    assert not outcome.ok
    assert names(outcome, 7, forged.id, "inserted"), outcome.text


def test_forged_row_before_the_start_is_named(chain):
    insert_row(**_forged(0, "0" * 64))
    forged = AuditEvent.objects.get(seq=0)
    outcome = run_verify()
    assert names(outcome, 0, forged.id, "inserted"), outcome.text


def test_replaced_middle_row_is_named(chain):
    """Delete row 3 and insert a forgery in its place, linked to row 2."""
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 3")
    insert_row(**_forged(3, chain[1].hash))
    forged = AuditEvent.objects.get(seq=3)
    outcome = run_verify()
    assert not outcome.ok
    assert names(outcome, 3, forged.id, "inserted"), outcome.text
    # Its hash no longer matches what row 4 links to.
    assert "seq 4" in outcome.text


def test_new_events_after_tampering_do_not_hide_it(chain):
    tamper(f"UPDATE {EVENTS} SET actor_username = 'x' WHERE seq = 2")
    record("test.after")
    record("test.after")
    outcome = run_verify()
    assert names(outcome, 2, chain[1].id, "edited")
    assert "8 events" in outcome.message


@pytest.mark.parametrize("chunk", ["1", "2", "4", "5000"])
def test_detection_across_chunk_boundaries(chain, chunk):
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 4")
    tamper(f"UPDATE {EVENTS} SET action = 'x' WHERE seq = 5")
    outcome = run_verify("--chunk-size", chunk)
    assert names(outcome, 4, None, "deleted"), outcome.text
    assert names(outcome, 5, chain[4].id, "edited"), outcome.text


def test_walk_streams_in_chunks(chain, django_assert_max_num_queries):
    for _ in range(14):
        record("test.more")
    # 20 rows in chunks of 5: a handful of small queries, never one big fetch.
    with django_assert_max_num_queries(12):
        result = verify_chain(chunk_size=5)
    assert result.ok and result.checked == 20


def test_since_seq_checks_only_the_rest(chain):
    tamper(f"UPDATE {EVENTS} SET action = 'x' WHERE seq = 2")
    later = run_verify("--since-seq", "4")
    assert later.ok and later.out.startswith("OK 3 events (seq 4..6)")
    assert not run_verify("--since-seq", "2").ok
    tamper(f"UPDATE {EVENTS} SET action = 'y' WHERE seq = 5")
    assert names(run_verify("--since-seq", "4"), 5, chain[4].id, "edited")


def test_since_seq_row_before_missing(chain):
    tamper(f"DELETE FROM {EVENTS} WHERE seq = 3")
    outcome = run_verify("--since-seq", "4")
    assert names(outcome, 3, None, "deleted")


def test_many_problems_are_counted_and_capped(chain):
    tamper(f"UPDATE {EVENTS} SET actor_username = 'x'")
    outcome = run_verify("--max-problems", "2")
    assert "6 problem(s)" in outcome.message
    assert "and 4 more" in outcome.err


def test_bad_options(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("verify_audit", "--checkpoint", "nonsense")
    with pytest.raises(CommandError):
        call_command("verify_audit", "--since-seq", "0")
    with pytest.raises(CommandError, match="beyond the chain head"):
        call_command("verify_audit", "--since-seq", "5")
