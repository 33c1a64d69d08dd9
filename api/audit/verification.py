"""Walking the audit chain and naming what is wrong with it.

Docs: docs/audit.md#verify_audit. Used by ``manage.py verify_audit`` and by the
retention pruner (which refuses to delete a range that does not verify).

The walk streams rows in ``seq`` order in keyset chunks (``seq > last ORDER BY seq
LIMIT n``), so memory stays constant for any number of rows and no server-side
cursor is needed (it works behind pgbouncer too). For each row it recomputes the
hash, checks the link to the previous row, the continuity of ``seq`` and that ids
grow with ``seq``; at the end it compares the last row with the chain head. Only the
first ``max_problems`` problems are kept; all are counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from api.audit.hashing import HASHED_FIELDS, canonical_time, compute_hash
from api.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

ROW_FIELDS = ("id", *HASHED_FIELDS, "hash")
DEFAULT_CHUNK = 5000


@dataclass(frozen=True)
class Problem:
    """One finding. ``kind`` is one of: edited, relinked, inserted, deleted,
    truncated, head."""

    kind: str
    seq: int | None
    id: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class VerifyResult:
    checked: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    anchor_seq: int = 1
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


class _Walk:
    def __init__(self, result: VerifyResult, max_problems: int) -> None:
        self.result = result
        self.max_problems = max_problems

    def problem(self, kind: str, seq: int | None, row_id: int | None, message: str) -> None:
        self.result.problem_count += 1
        if len(self.result.problems) < self.max_problems:
            self.result.problems.append(Problem(kind, seq, row_id, message))


def iter_rows(after_seq: int | None, until_seq: int | None, chunk: int) -> Iterator[dict[str, Any]]:
    """Rows with ``seq > after_seq`` (all when None) up to ``until_seq``, in order."""
    last = after_seq
    while True:
        query = AuditEvent.objects.order_by("seq")
        if last is not None:
            query = query.filter(seq__gt=last)
        if until_seq is not None:
            query = query.filter(seq__lte=until_seq)
        rows = list(query.values(*ROW_FIELDS)[:chunk])
        yield from rows
        if len(rows) < chunk:
            return
        last = rows[-1]["seq"]


def _describe(row: dict[str, Any]) -> str:
    when = canonical_time(row["occurred_at"])
    return f"seq {row['seq']} (id {row['id']}, {row['action']!r} at {when})"


def _missing(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}..{last} ({last - first + 1} rows)"


def _read_head() -> AuditChainHead | None:
    return AuditChainHead.objects.filter(pk=1).first()


def verify_chain(
    *,
    since_seq: int | None = None,
    until_seq: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    max_problems: int = 100,
    checkpoints: dict[int, str] | None = None,
) -> VerifyResult:
    """Verify the chain (or ``since_seq``..``until_seq`` of it).

    ``until_seq`` limits the walk to a prefix and skips the head comparison (the
    pruner checks what it is about to delete). ``checkpoints`` maps a seq to the
    hash recorded for it earlier (outside the database); a mismatch is reported.
    A pruning run that moves the chain's start during the walk makes it start over.
    """
    for _attempt in range(3):
        head = _read_head()
        result = _verify_once(head, since_seq, until_seq, chunk_size, max_problems, checkpoints)
        after = _read_head()
        moved = (head.first_seq if head else 1) != (after.first_seq if after else 1)
        if not moved:
            return result
    return result


def _verify_once(
    head: AuditChainHead | None,
    since_seq: int | None,
    until_seq: int | None,
    chunk: int,
    max_problems: int,
    checkpoints: dict[int, str] | None,
) -> VerifyResult:
    first_seq = head.first_seq if head else 1
    result = VerifyResult(anchor_seq=first_seq)
    walk = _Walk(result, max_problems)
    pending_checkpoints = dict(checkpoints or {})

    # Rows below the chain's start: a forged row, or one a pruning run should have removed.
    if since_seq is None or since_seq < first_seq:
        for row in iter_rows(None, first_seq - 1, chunk):
            walk.problem(
                "inserted",
                row["seq"],
                row["id"],
                f"{_describe(row)}: inserted — it lies before the chain's start "
                f"(first kept seq {first_seq})",
            )

    start = first_seq
    expected_prev: str | None = head.anchor_hash if head else GENESIS_HASH
    prev_id: int | None = None
    if since_seq is not None and since_seq > first_seq:
        start = since_seq
        before = AuditEvent.objects.filter(seq=since_seq - 1).values("id", "hash").first()
        if before is None:
            walk.problem(
                "deleted",
                since_seq - 1,
                None,
                f"{_missing(since_seq - 1, since_seq - 1)}: deleted (the row before "
                f"--since-seq {since_seq} is missing)",
            )
            expected_prev = None
        else:
            expected_prev, prev_id = before["hash"], before["id"]

    expected_seq = start
    last_row: dict[str, Any] | None = None

    def check(row: dict[str, Any]) -> None:
        nonlocal expected_seq, expected_prev, prev_id, last_row
        seq, row_id = row["seq"], row["id"]
        link_known = expected_prev is not None
        if seq > expected_seq:
            where = "at the start of the chain" if last_row is None else f"before {_describe(row)}"
            walk.problem(
                "deleted",
                expected_seq,
                None,
                f"{_missing(expected_seq, seq - 1)}: deleted {where}",
            )
            link_known = False
        if result.first_seq is None:
            result.first_seq = seq
        if compute_hash(row) != row["hash"]:
            walk.problem(
                "edited",
                seq,
                row_id,
                f"{_describe(row)}: edited — its content no longer matches its hash",
            )
        elif link_known and row["prev_hash"] != expected_prev:
            if last_row is None:
                other = f"the chain's anchor (prev_hash of seq {start})"
            else:
                other = f"seq {last_row['seq']} (id {last_row['id']})"
            walk.problem(
                "relinked",
                seq,
                row_id,
                f"{_describe(row)}: edited — its prev_hash does not match the hash of "
                f"{other}; one of the two was rewritten with a recomputed hash",
            )
        if prev_id is not None and row_id <= prev_id:
            # Ids grow with seq (appends are serialised); the row with the higher id
            # was written after its successor: it was inserted (or replaced) later.
            if last_row is not None:
                walk.problem(
                    "inserted",
                    last_row["seq"],
                    last_row["id"],
                    f"{_describe(last_row)}: inserted — its id is higher than the id "
                    f"{row_id} of seq {seq} after it, so it was written later",
                )
            else:
                walk.problem(
                    "inserted",
                    seq,
                    row_id,
                    f"{_describe(row)}: inserted — its id is lower than the id {prev_id} "
                    f"of the row before it",
                )
        expected_hash = pending_checkpoints.pop(seq, None)
        if expected_hash is not None and expected_hash != row["hash"]:
            walk.problem(
                "edited",
                seq,
                row_id,
                f"{_describe(row)}: edited — its hash differs from the checkpoint "
                f"{expected_hash[:16]}…",
            )
        expected_prev = row["hash"]
        expected_seq = seq + 1
        prev_id = row_id
        last_row = row
        result.checked += 1
        result.last_seq = seq

    for row in iter_rows(start - 1, until_seq, chunk):
        check(row)

    if until_seq is not None:
        if last_row is None or last_row["seq"] < until_seq:
            walk.problem(
                "deleted",
                expected_seq,
                None,
                f"{_missing(expected_seq, until_seq)}: deleted",
            )
        return result

    # The head: follow appends that committed during the walk, then compare.
    while True:
        head_now = _read_head()
        walked = expected_seq - 1
        if head_now is None or head_now.last_seq <= walked:
            break
        more = False
        for row in iter_rows(walked, None, chunk):
            more = True
            check(row)
        if not more:
            break
    head_now = _read_head()
    if head_now is not None:
        result.head_seq, result.head_hash = head_now.last_seq, head_now.last_hash

    for seq, expected_hash in sorted(pending_checkpoints.items()):
        walk.problem(
            "deleted",
            seq,
            None,
            f"seq {seq}: deleted — the checkpoint {expected_hash[:16]}… names a row "
            f"that is not in the chain",
        )

    if head_now is None:
        if last_row is not None:
            walk.problem("head", None, None, "the chain head row is missing (deleted)")
        return result
    walked = expected_seq - 1
    if walked < head_now.last_seq and head_now.last_seq >= first_seq:
        after = f"after {_describe(last_row)}" if last_row else "(no rows left)"
        walk.problem(
            "truncated",
            walked + 1,
            None,
            f"{_missing(walked + 1, head_now.last_seq)}: deleted at the end — truncated "
            f"tail {after}; the chain head says the last seq is {head_now.last_seq}",
        )
    elif walked > head_now.last_seq:
        for row in iter_rows(head_now.last_seq, None, chunk):
            walk.problem(
                "inserted",
                row["seq"],
                row["id"],
                f"{_describe(row)}: inserted after the chain head "
                f"(the head says the last seq is {head_now.last_seq})",
            )
    elif last_row is not None and last_row["hash"] != head_now.last_hash:
        walk.problem(
            "head",
            last_row["seq"],
            last_row["id"],
            f"{_describe(last_row)}: edited — its hash differs from the chain head's "
            f"last_hash; the row was rewritten with a recomputed hash, or the head edited",
        )
    return result


def verify_archive(lines: Iterator[str], max_problems: int = 100) -> VerifyResult:
    """Verify a JSON-lines export (``manage.py export_audit``) on its own: every
    line's hash, the links between lines and the continuity of ``seq``. The result's
    ``head_seq``/``head_hash`` are the archive's last seq and hash — equal to the
    live chain head's ``first_seq - 1``/``anchor_hash`` when the archive ends where
    the kept chain starts."""
    import json

    result = VerifyResult()
    walk = _Walk(result, max_problems)
    expected_seq: int | None = None
    expected_prev: str | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            seq, row_hash = int(row["seq"]), str(row["hash"])
            actual = compute_hash(row)
        except (ValueError, KeyError, TypeError) as exc:
            walk.problem("edited", None, None, f"line {number}: not an audit event ({exc})")
            continue
        where = f"line {number}, seq {seq} (id {row.get('id')}, {row.get('action')!r})"
        if expected_seq is not None and seq != expected_seq:
            if seq > expected_seq:
                walk.problem(
                    "deleted",
                    expected_seq,
                    None,
                    f"{_missing(expected_seq, seq - 1)}: deleted before {where}",
                )
            else:
                walk.problem(
                    "inserted", seq, row.get("id"), f"{where}: inserted — seq out of order"
                )
            expected_prev = None
        if actual != row_hash:
            walk.problem(
                "edited",
                seq,
                row.get("id"),
                f"{where}: edited — its content no longer matches its hash",
            )
        elif expected_prev is not None and row.get("prev_hash") != expected_prev:
            walk.problem(
                "relinked",
                seq,
                row.get("id"),
                f"{where}: edited — its prev_hash does not match the line before",
            )
        if result.first_seq is None:
            result.first_seq = seq
            result.anchor_seq = seq
        result.last_seq = seq
        result.checked += 1
        result.head_seq, result.head_hash = seq, row_hash
        expected_seq, expected_prev = seq + 1, row_hash
    return result
