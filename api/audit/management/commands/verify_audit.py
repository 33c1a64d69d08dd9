"""``manage.py verify_audit``: check the audit hash chain and name any broken row.

Docs: docs/audit.md#verify_audit. Exit status 0 and ``OK <n> events …`` when the
chain is intact; otherwise each problem on stderr (``seq N (id I, …): edited — …``)
and exit status 1.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.audit.models import AuditChainHead
from api.audit.verification import DEFAULT_CHUNK, verify_archive, verify_chain

CHECKPOINT = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _checkpoint(value: str) -> tuple[int, str]:
    match = CHECKPOINT.match(value.strip().lower())
    if not match:
        raise CommandError(f"--checkpoint {value!r}: expected SEQ:HASH (64 hex digits)")
    return int(match.group(1)), match.group(2)


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; name every edited, inserted or deleted row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since-seq",
            type=int,
            default=None,
            help="Start at this seq (incremental check); the row before it is trusted.",
        )
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="A (seq, hash) pair recorded earlier outside the database, e.g. from a "
            "previous run's output; repeatable.",
        )
        parser.add_argument(
            "--archive",
            metavar="FILE",
            help="Verify a JSON-lines export (manage.py export_audit) instead of the database.",
        )
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
        parser.add_argument(
            "--max-problems", type=int, default=100, help="How many problems to print."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = options["since_seq"]
        if since is not None and since < 1:
            raise CommandError("--since-seq must be at least 1")
        if options["chunk_size"] < 1 or options["max_problems"] < 1:
            raise CommandError("--chunk-size and --max-problems must be at least 1")
        checkpoints = dict(_checkpoint(v) for v in options["checkpoint"])
        head = AuditChainHead.objects.filter(pk=1).first()
        if since is not None and since > (head.last_seq if head else 0) + 1:
            raise CommandError(f"--since-seq {since} is beyond the chain head")
        if options["archive"]:
            try:
                with open(options["archive"], encoding="utf-8") as lines:
                    result = verify_archive(lines, max_problems=options["max_problems"])
            except OSError as exc:
                raise CommandError(f"--archive: {exc}") from exc
        else:
            result = verify_chain(
                since_seq=since,
                chunk_size=options["chunk_size"],
                max_problems=options["max_problems"],
                checkpoints=checkpoints,
            )
        span = f"seq {result.first_seq}..{result.last_seq}" if result.checked else "no rows"
        what = "last" if options["archive"] else "head"
        end_text = f"{what} seq {result.head_seq} hash {result.head_hash}"
        if result.ok:
            self.stdout.write(f"OK {result.checked} events ({span}); {end_text}")
            return
        for problem in result.problems:
            self.stderr.write(f"FAIL {problem}")
        hidden = result.problem_count - len(result.problems)
        if hidden:
            self.stderr.write(f"… and {hidden} more problems")
        first = result.problems[0]
        raise CommandError(
            f"audit chain broken: {result.problem_count} problem(s) in {result.checked} "
            f"events checked ({span}); first: {first}",
            returncode=1,
        )
