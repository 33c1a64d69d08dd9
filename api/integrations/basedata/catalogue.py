"""Applying the base-data platform's catalogue entries (docs/integrations.md#base-data).

One function, ``apply_entry``, used by the pull connector (each record of the
platform's ``GET /catalogue`` feed), by ``manage.py basedata_load_catalogue`` (a JSON
file, for a platform with no catalogue API) and by the demo seed. An entry is checked
whole before anything is written: a bad entry raises ``InvalidEntry`` (the layer's
dead-letter list keeps it for an operator to fix and replay). Applying is idempotent
and ordered by the platform's ``version``: a version older than or equal to the stored
one changes nothing, so a replayed or late record cannot roll a dataset back.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import Unit
from api.integrations.basedata.models import BaseDatabase, Dataset, FieldKind, ParameterType

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_FIELDS = 100
MAX_PARAMETERS = 20


class InvalidEntry(ValueError):
    """The catalogue entry cannot be applied (a permanent error for the layer)."""


def source_id_of(entry: dict[str, Any]) -> str:
    """The record's id for the connector layer: dataset id and version, so each new
    version is a new record and a repeat of one version is received once."""
    return f"{entry.get('id')}@{entry.get('version')}"


def _text(entry: dict[str, Any], key: str, limit: int, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise InvalidEntry(f"{key}: a string of 1–{limit} characters is required")
    return value.strip()


def _items(entry: dict[str, Any], key: str, limit: int) -> list[dict[str, Any]]:
    value = entry.get(key, [])
    if not isinstance(value, list) or len(value) > limit:
        raise InvalidEntry(f"{key}: a list of at most {limit} objects is required")
    names: set[str] = set()
    for item in value:
        if not isinstance(item, dict) or not NAME_RE.match(str(item.get("name", ""))):
            raise InvalidEntry(f"{key}: each needs a name of [a-z0-9_]")
        if item["name"] in names:
            raise InvalidEntry(f"{key}: {item['name']} given twice")
        names.add(item["name"])
    return value


def check_fields(entry: dict[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for item in _items(entry, "fields", MAX_FIELDS):
        kind = item.get("kind", "text")
        if kind not in FieldKind.values:
            raise InvalidEntry(f"fields: unknown kind {kind!r}")
        label = item.get("label") or item["name"]
        fields.append({"name": item["name"], "label": str(label)[:100], "kind": kind})
    if not fields:
        raise InvalidEntry("fields: a dataset needs at least one field")
    return fields


def check_parameters(entry: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = []
    for item in _items(entry, "parameters", MAX_PARAMETERS):
        kind = item.get("kind", "")
        type_ = item.get("type", "string")
        if type_ not in ParameterType.values:
            raise InvalidEntry(f"parameters: unknown type {type_!r}")
        if kind and kind not in FieldKind.values:
            raise InvalidEntry(f"parameters: unknown kind {kind!r}")
        parameters.append(
            {
                "name": item["name"],
                "label": str(item.get("label") or item["name"])[:100],
                "type": type_,
                "required": item.get("required") is True,
                "kind": kind,
            }
        )
    return parameters


def apply_entry(entry: dict[str, Any]) -> Dataset:
    """Create or update the dataset an entry describes; returns it (unchanged when
    the entry is not newer)."""
    if not isinstance(entry, dict):
        raise InvalidEntry("an entry is a JSON object")
    source_id = _text(entry, "id", 100)
    version = entry.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidEntry("version: a positive integer is required")
    database = entry.get("database")
    if database not in BaseDatabase.values:
        raise InvalidEntry(f"database: one of {', '.join(BaseDatabase.values)}")
    status = entry.get("status", "active")
    if status not in ("active", "retired"):
        raise InvalidEntry("status: active or retired")
    values = {
        "database": database,
        "name": _text(entry, "name", 200),
        "description": _text(entry, "description", 4000, required=False),
        "fields": check_fields(entry),
        "parameters": check_parameters(entry),
        "version": version,
        "active": status == "active",
    }
    code = _text(entry, "owner_unit_code", 40)
    owner = Unit.objects.filter(code=code).first()
    if owner is None:
        raise InvalidEntry(f"owner_unit_code: no unit has the code {code!r}")
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(source_id=source_id).first()
        if dataset is None:
            return Dataset.objects.create(
                source_id=source_id, owner_unit=owner, synced_at=timezone.now(), **values
            )
        if dataset.version >= version:
            return dataset
        for key, value in values.items():
            setattr(dataset, key, value)
        dataset.owner_unit = owner
        dataset.synced_at = timezone.now()
        dataset.save()
        return dataset
