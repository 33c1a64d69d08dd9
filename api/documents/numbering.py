"""发文字号: document numbers per issuing unit, prefix and year.

Docs: docs/documents.md#numbering. Format ``{prefix}〔{year}〕{n}号`` (e.g.
新府发〔2026〕12号). The prefix is the unit's ``NumberPrefix`` for the document's type
when one exists, else ``Unit.doc_prefix``. The year is the calendar year in
Asia/Shanghai when the number is taken.

The next value comes from the ``NumberSequence`` row of (unit, prefix, year), read
and bumped under ``select_for_update`` inside the caller's transaction: a rolled
back transaction gives its number back (no gap), two concurrent ones queue on the
row lock (no duplicate). Every issued number is also written to the
``NumberAssignment`` ledger, whose unique constraint is a second guard.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from api.accounts.models import Unit
from api.documents.models import NumberPrefix, NumberSequence


def format_number(prefix: str, year: int, value: int) -> str:
    return f"{prefix}〔{year}〕{value}号"


def prefix_for(unit: Unit, doc_type: str) -> str:
    """The unit's prefix for ``doc_type`` ('' when the unit has none)."""
    special = NumberPrefix.objects.filter(unit=unit, doc_type=doc_type).first()
    return special.prefix if special else unit.doc_prefix


def current_year() -> int:
    return timezone.localdate().year


def next_value(unit: Unit, prefix: str, year: int) -> int:
    """Take the next value of (unit, prefix, year). Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_value must run inside a transaction")
    # Create the row if missing without racing: a concurrent creator wins quietly.
    NumberSequence.objects.bulk_create(
        [NumberSequence(unit=unit, prefix=prefix, year=year, last_value=0)],
        ignore_conflicts=True,
    )
    sequence = NumberSequence.objects.select_for_update().get(unit=unit, prefix=prefix, year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return sequence.last_value
