"""``manage.py export_audit``: write audit events as JSON lines (for the archive).

Docs: docs/audit.md#retention-and-pruning. Each line is the event's canonical hashed form (the
exact JSON its hash covers, with ``v``) plus ``id`` and ``hash``, so the archive can
be checked on its own with ``manage.py verify_audit --archive FILE``. ``--before``
exports the chain's prefix of events that occurred before that moment — the same
prefix rule the retention pruner uses, so exporting with ``--before`` at the pruning
cutoff archives exactly what the pruner will delete. Streams; constant memory.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from api.audit.hashing import canonical_payload
from api.audit.models import AuditChainHead
from api.audit.retention import expired_prefix_end
from api.audit.verification import iter_rows


def _moment(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(
                f"--before {value!r}: expected a date (2026-05-01) or an ISO datetime"
            )
        parsed = datetime.combine(day, time.min)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)  # the deployment's TIME_ZONE (Asia/Shanghai)
    return parsed


class Command(BaseCommand):
    help = "Export audit events (the prefix before --before, or all) as JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--before", help="Export events that occurred before this date/time.")
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--chunk-size", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        head = AuditChainHead.objects.filter(pk=1).first()
        first_seq = head.first_seq if head else 1
        last_seq = head.last_seq if head else 0
        if options["before"]:
            end = expired_prefix_end(_moment(options["before"]), first_seq, last_seq)
        else:
            end = last_seq
        count = 0
        with contextlib.ExitStack() as stack:
            if options["output"]:
                handle = stack.enter_context(open(options["output"], "w", encoding="utf-8"))

                def write(text: str) -> None:
                    handle.write(text + "\n")

            else:

                def write(text: str) -> None:
                    self.stdout.write(text)

            if end >= first_seq:
                for row in iter_rows(first_seq - 1, end, options["chunk_size"]):
                    line = {**canonical_payload(row), "id": row["id"], "hash": row["hash"]}
                    write(json.dumps(line, ensure_ascii=False, sort_keys=True))
                    count += 1
        span = f"seq {first_seq}..{end}" if count else "nothing to export"
        self.stderr.write(f"exported {count} events ({span})")
