"""Figures that apps above stats add to each unit's row, without stats importing them.

Docs: docs/supervision.md#contributed-figures. api/stats sits below the apps whose
records belong in a unit's yearly figures (accountability cases, docs/accountability.md).
Such an app registers a ``UnitContribution`` in its ``AppConfig.ready()``; every unit
row (JSON, CSV/XLSX) then carries the contribution under its ``key``, computed for all
the rows of a page at once (one call per contribution, whatever the number of units),
the OpenAPI schema describes it with the contribution's serializer, and the annual PDF
report adds a table of its columns under ``report_title``. A contribution with a
``score_part`` also enters the unit efficiency score: ``weight × count ÷ base`` of its
figures is deducted (docs/supervision.md#the-score).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rest_framework import serializers

# unit ids, period start (inclusive), period end (exclusive) → figures per unit id.
Provider = Callable[[Sequence[int], datetime, datetime], dict[int, dict[str, Any]]]


@dataclass(frozen=True)
class ScorePart:
    """A deduction from the efficiency score: ``weight × figures[count] ÷ figures[base]``
    (none when the base is 0); the weight is read from the setting ``weight_setting``."""

    label: str
    weight_setting: str
    count: str
    base: str


@dataclass(frozen=True)
class UnitContribution:
    key: str
    provider: Provider
    empty: Callable[[], dict[str, Any]]
    serializer: type[serializers.Serializer]
    # CSV/XLSX: (field of the contribution, column heading); the column is "<key>_<field>".
    columns: tuple[tuple[str, str], ...] = ()
    help_text: str = ""
    # The annual PDF report: a table under this heading (no table when empty).
    report_title: str = ""
    score_part: ScorePart | None = None


_registry: dict[str, UnitContribution] = {}


def register(contribution: UnitContribution) -> None:
    """Add (or replace, for a re-run ready()) the contribution under its key."""
    _registry[contribution.key] = contribution


def registered() -> list[UnitContribution]:
    return [_registry[key] for key in sorted(_registry)]


def unit_figures(unit_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, dict]:
    """Per unit id: {key: figures} for every registered contribution."""
    result: dict[int, dict[str, Any]] = {pk: {} for pk in unit_ids}
    for contribution in registered():
        values = contribution.provider(unit_ids, start, end)
        for pk in unit_ids:
            result[pk][contribution.key] = values.get(pk) or contribution.empty()
    return result


def scored() -> list[UnitContribution]:
    """The contributions that enter the score, by key."""
    return [c for c in registered() if c.score_part is not None]


def columns() -> list[tuple[str, str]]:
    return [(f"{c.key}_{name}", heading) for c in registered() for name, heading in c.columns]


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """The export columns of one unit row's contributions."""
    flat: dict[str, Any] = {}
    for contribution in registered():
        values = row.get(contribution.key) or {}
        for name, _heading in contribution.columns:
            flat[f"{contribution.key}_{name}"] = values.get(name)
    return flat
