"""The authorisation matrix: every endpoint × persona → expected status.

Docs: docs/security.md#authorisation-matrix. Rows live in tests/security/matrix/*.yaml,
one file per area; each later feature adds its rows. A row:

    - {method: GET, path: "/api/v1/units/{office}/members/", persona: charlie, status: 404}

Placeholders: {city} {office} {bureau} {district} {township} are unit ids of the
``org`` fixture; {user:NAME} is a persona's user id. ``body`` is sent as JSON, with
the same placeholders (a value that is exactly a placeholder becomes an integer).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.personas import client_for

MATRIX_DIR = Path(__file__).parent / "matrix"
PERSONAS = {"anonymous", "alice", "bob", "charlie", "dana", "ivy", "sam", "leo"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def load_rows() -> list[tuple[str, dict]]:
    rows = []
    for path in sorted(MATRIX_DIR.glob("*.yaml")):
        for index, row in enumerate(yaml.safe_load(path.read_text()) or []):
            rows.append(
                (f"{path.stem}:{index}:{row['method']} {row['path']} as {row['persona']}", row)
            )
    return rows


ROWS = load_rows()


def test_matrix_rows_are_well_formed():
    assert ROWS, "the matrix must not be empty"
    for label, row in ROWS:
        assert row["method"] in METHODS, label
        assert row["persona"] in PERSONAS, label
        assert isinstance(row["status"], int) and 200 <= row["status"] < 600, label
        assert row["path"].startswith("/api/"), label


def resolve(path: str, org, personas) -> str:
    def sub(match: re.Match) -> str:
        key = match.group(1)
        if key.startswith("user:"):
            return str(personas[key.split(":", 1)[1]].pk)
        return str(getattr(org, key).pk)

    return re.sub(r"\{([a-z_:]+)\}", sub, path)


def resolve_body(value, org, personas):
    """Placeholders in bodies: a string that is exactly "{office}" or "{user:bob}"
    becomes that id (an integer); other strings are substituted as in paths."""
    if isinstance(value, dict):
        return {k: resolve_body(v, org, personas) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_body(v, org, personas) for v in value]
    if isinstance(value, str):
        if re.fullmatch(r"\{[a-z_:]+\}", value):
            return int(resolve(value, org, personas))
        return resolve(value, org, personas)
    return value


@pytest.mark.django_db
@pytest.mark.parametrize("row", [r for _, r in ROWS], ids=[label for label, _ in ROWS])
def test_authorisation_matrix(row, org, personas):
    user = None if row["persona"] == "anonymous" else personas[row["persona"]]
    client = client_for(user)
    path = resolve(row["path"], org, personas)
    body = resolve_body(row.get("body"), org, personas)
    response = client.generic(
        row["method"],
        path,
        data="" if body is None else json.dumps(body),
        content_type="application/json",
    )
    who = f"{row['method']} {path} as {row['persona']}"
    assert response.status_code == row["status"], (
        f"{who}: {response.status_code} {response.content[:300]!r}"
    )
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"]
