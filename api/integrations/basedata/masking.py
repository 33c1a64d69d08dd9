"""Masking of personal fields in base-data rows (docs/integrations.md#masking-policy).

Pure functions, no Django. A row leaves GovDesk with only the fields the catalogue
declares (anything else the platform sends is dropped); a field of a personal kind is
masked unless the grant is ``unmasked``:

- id_number: first 3 and last 4 kept — ``110101199003071234`` → ``110***********1234``
- phone: first 3 and last 4 kept — ``13812345678`` → ``138****5678``
- name: the first character kept — ``张三丰`` → ``张**``
- address: the first 6 characters kept, then ``****``
- email: the first character and the domain kept — ``zhang@example.cn`` → ``z***@example.cn``

A value too short to mask this way is replaced by stars entirely: masking must never
leak more than the pattern promises.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PERSONAL = ("id_number", "phone", "name", "address", "email")


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + (value[-tail:] if tail else "")


def mask_value(kind: str, value: Any) -> Any:
    if value is None or value == "" or kind not in PERSONAL:
        return value
    text = str(value)
    if kind == "id_number":
        return _keep(text, 3, 4)
    if kind == "phone":
        return _keep(text, 3, 4)
    if kind == "name":
        return _keep(text, 1, 0) if len(text) > 1 else "*"
    if kind == "address":
        return text[:6] + "****" if len(text) > 6 else "*" * len(text)
    # email
    local, at, domain = text.partition("@")
    if not at or not local:
        return "*" * len(text)
    return local[0] + "***@" + domain


def shape_rows(
    rows: Iterable[Mapping[str, Any]], fields: list[dict[str, Any]], *, masked: bool
) -> list[dict[str, Any]]:
    """Each row reduced to the catalogue's fields, in catalogue order, masked by kind."""
    kinds = [(f["name"], f["kind"]) for f in fields]
    out = []
    for row in rows:
        out.append(
            {
                name: (mask_value(kind, row.get(name)) if masked else row.get(name))
                for name, kind in kinds
            }
        )
    return out


def mask_parameters(parameters: Mapping[str, Any], declared: list[dict[str, Any]]) -> dict:
    """Parameters as the audit log keeps them: personal ones masked (an ID number
    looked up is itself personal data)."""
    kinds = {p["name"]: p.get("kind", "") for p in declared}
    return {k: mask_value(kinds.get(k, ""), v) for k, v in parameters.items()}
