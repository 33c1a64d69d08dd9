"""One datetime format, one person shape and one language per response, across the API.

Docs: docs/api.md#datetimes, docs/api.md#people, docs/api.md#languages. The demo city
is seeded, a document is taken a few steps through its flow over HTTP, and then every
parameterless GET operation of the live OpenAPI schema (and every one-id GET operation,
with an id taken from the matching list) is read as several personas; with the action
responses of the flow, every JSON body is walked:

- every string that looks like a datetime carries the +08:00 offset (never ``Z`` or
  ``+00:00``); dates (YYYY-MM-DD) stay dates;
- every person embedded in a response is ``{id, display_name}`` (plus a unit or title
  where that is the point), never ``{id, username, name}``.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from api.accounts.models import User
from api.common.datetimes import client_datetime
from api.common.errors import envelope
from api.common.i18n import Msg, between
from tests.personas import client_for

# A whole string that is a date and time (a sentence that mentions one is text).
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")
PERSONAS = ("clerk", "director", "leader1", "office_admin", "admin", "supervisor")
# A person embedded in a response may carry these beside {id, display_name}, where
# they are the point (mail and VPN lists show the unit, post holders their title).
PERSON_EXTRAS = {"unit", "unit_id", "unit_name", "title"}
# Responses that are people themselves (not embedded references) carry more.
PEOPLE_RESOURCES = ("/api/v1/me/", "/api/v1/people/", "/api/v1/contacts/", "/members/")
SKIP = ("/stream/", "/live/")


def strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{where}[{index}]")
    elif isinstance(value, str):
        yield where, value


PERSONISH = {"id", "display_name", "username", "name"} | PERSON_EXTRAS


def embedded_people(value: Any, where: str = "", depth: int = 0) -> Iterator[tuple[str, dict]]:
    """Person references below the response's own resources (the top-level object, or
    the items of a top-level list or ``results``): small dicts naming a person by
    ``display_name`` or ``username``."""
    if isinstance(value, dict):
        if depth > 0 and set(value) & {"display_name", "username"} and set(value) <= PERSONISH:
            yield where, value
        for key, item in value.items():
            deeper = depth if key == "results" and depth == 0 else depth + 1
            yield from embedded_people(item, f"{where}.{key}", deeper)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from embedded_people(item, f"{where}[{index}]", depth)


def check(label: str, body: Any, seen: dict[str, int]) -> list[str]:
    problems = []
    for where, text in strings(body):
        if DATETIME.match(text):
            seen["datetimes"] += 1
            if not LOCAL.match(text):
                problems.append(f"{label} {where}: {text!r}")
    if not any(part in label for part in PEOPLE_RESOURCES):
        for where, person in embedded_people(body):
            seen["people"] += 1
            if not {"id", "display_name"} <= set(person) or {"username", "name"} & set(person):
                problems.append(f"{label} {where}: person {sorted(person)}")
    return problems


@pytest.fixture
def city(db):
    call_command("seed_demo", stdout=io.StringIO())
    clients = {name: client_for(User.objects.get(username=name)) for name in PERSONAS}
    return clients


def _flow(clients) -> list[tuple[str, Any]]:
    """Draft, submit and approve one document over HTTP; the action responses."""
    from api.workflow.models import WorkflowTemplate

    clerk = clients["clerk"]
    out: list[tuple[str, Any]] = []
    created = clerk.post(
        "/api/v1/documents/",
        {
            "direction": "outgoing",
            "title": "关于做好冬季安全生产工作的通知",
            "doc_type": "notice",
            "urgency": "urgent",
            "body": [{"level": 0, "text": "各区县人民政府："}],
            "main_recipients": "各区县人民政府",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    document_id = created.json()["id"]
    out.append(("POST documents", created.json()))
    ids = {u.username: u.pk for u in User.objects.filter(username__in=["leader1", "mayor"])}
    submitted = clerk.post(
        f"/api/v1/documents/{document_id}/submit/",
        {
            "template_id": WorkflowTemplate.objects.get(name="市政府办公室发文", is_active=True).pk,
            "participants": {"countersigners": [ids["leader1"]], "sign_off_by": ids["mayor"]},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=f"submit-{uuid.uuid4()}",
    )
    assert submitted.status_code == 201, submitted.content
    out.append(("POST submit", submitted.json()))
    todo = clients["director"].get("/api/v1/tasks/", {"state": "todo"}).json()["results"]
    task = next(t for t in todo if t["document"]["id"] == document_id)
    approved = clients["director"].post(f"/api/v1/tasks/{task['id']}/approve/")
    assert approved.status_code == 200, approved.content
    out.append(("POST approve", approved.json()))
    absence = clients["leader1"].post(
        "/api/v1/me/absences/",
        {"starts_at": "2031-03-02T09:00:00+08:00", "ends_at": "2031-03-03T18:00:00+08:00"},
        format="json",
    )
    if absence.status_code == 201:
        out.append(("POST absence", absence.json()))
    return out


def _get_paths() -> tuple[list[str], list[str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    plain, one_id = [], []
    for path, operations in schema["paths"].items():
        if "get" not in operations or any(s in path for s in SKIP):
            continue
        params = re.findall(r"\{[^}]+\}", path)
        if not params:
            plain.append(path)
        elif len(params) == 1:
            one_id.append(path)
    return plain, one_id


def _json(response) -> Any | None:
    if getattr(response, "streaming", False):
        return None
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    return response.json()


@pytest.mark.django_db
def test_every_datetime_is_local_and_every_person_has_one_shape(city):
    clients = city
    seen = {"datetimes": 0, "people": 0, "responses": 0}
    problems: list[str] = []
    for label, body in _flow(clients):
        problems += check(label, body, seen)
    plain, one_id = _get_paths()
    first_ids: dict[str, int] = {}
    for name, client in clients.items():
        for path in plain:
            body = _json(client.get(path))
            if body is None:
                continue
            seen["responses"] += 1
            problems += check(f"GET {path} as {name}", body, seen)
            results = body.get("results") if isinstance(body, dict) else body
            first = results[0] if isinstance(results, list) and results else None
            if isinstance(first, dict) and isinstance(first.get("id"), int):
                first_ids.setdefault(path, first["id"])
    for path in one_id:
        listing = path.split("{", 1)[0]
        if listing not in first_ids:
            continue
        concrete = re.sub(r"\{[^}]+\}", str(first_ids[listing]), path)
        for name, client in clients.items():
            body = _json(client.get(concrete))
            if body is None:
                continue
            seen["responses"] += 1
            problems += check(f"GET {concrete} as {name}", body, seen)
    assert not problems, "\n".join(problems[:40])
    # The walk must have met what it checks, or it proves nothing.
    assert seen["responses"] > 300 and seen["datetimes"] > 500 and seen["people"] > 50, seen


@pytest.mark.django_db
def test_the_trail_and_task_names_people_by_display_name(city):
    clients = city
    _flow(clients)
    todo = clients["leader1"].get("/api/v1/tasks/", {"state": "todo"}).json()["results"]
    task = clients["leader1"].get(f"/api/v1/tasks/{todo[0]['id']}/").json()
    for entry in task["trail"]:
        for key in ("actor", "on_behalf_of", "from"):
            assert entry[key] is None or set(entry[key]) == {"id", "display_name"}
    assert set(task["document"]["drafter"]) == {"id", "display_name"}


def test_client_datetime_is_iso_with_the_shanghai_offset():
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)
    assert client_datetime(moment) == "2026-12-07T09:02:03+08:00"
    assert client_datetime(None) is None


def test_a_datetime_left_in_a_body_or_an_error_is_rendered_local():
    import json
    from datetime import UTC, datetime

    from api.common.datetimes import ClientJSONRenderer
    from api.common.errors import error_response

    moment = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)
    body = json.loads(ClientJSONRenderer().render({"at": moment, "list": [moment]}))
    assert body == {"at": "2026-12-07T09:02:03+08:00", "list": ["2026-12-07T09:02:03+08:00"]}
    error = envelope("already_signed_for", extra={"signed_for_at": moment})
    assert json.loads(ClientJSONRenderer().render(error))["error"]["signed_for_at"] == (
        "2026-12-07T09:02:03+08:00"
    )
    django = json.loads(error_response(409, "conflict", fields={"at": [moment]}).content)
    assert django["error"]["fields"]["at"] == ["2026-12-07T09:02:03+08:00"]


@pytest.mark.parametrize(
    ("language", "message", "detail"),
    [
        ("zh-hans", "提交的数据有误。", "须在 1–20 之间。"),
        ("en", "Some fields are not valid.", "Must be between 1 and 20."),
    ],
)
def test_field_details_follow_the_response_language(language, message, detail):
    from django.utils import translation

    with translation.override(language):
        body = envelope(
            "validation_error",
            fields={"n": [between(1, 20)], "x": [Msg("中文。", "English.")]},
        )
    assert body["error"]["message"] == message
    assert body["error"]["fields"]["n"] == [detail]
    assert body["error"]["fields"]["x"] == ["中文。" if language == "zh-hans" else "English."]


CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_template_invalid_details_are_in_the_response_language(city, language):
    from api.accounts.models import Unit

    body = {
        "unit": Unit.objects.get(code="XC-OFF").pk,
        "name": "简易发文",
        "direction": "outgoing",
        "doc_types": ["letter"],
        "steps": [
            {"kind": "sign_for", "assignee_kind": "auto"},
            {"kind": "review", "assignee_kind": "drafter_choice", "choice_key": "recipients"},
            {"kind": "review", "assignee_kind": "user", "user": 0, "time_limit_days": 999},
        ],
    }
    response = city["office_admin"].post(
        "/api/v1/workflow-templates/", body, format="json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    details = [d for problems in error["fields"].values() for d in problems]
    assert len(details) >= 5, details
    for text in [error["message"], *details]:
        assert bool(CJK.search(text)) == (language == "zh-CN"), text
    name = city["office_admin"].post(
        "/api/v1/workflow-templates/",
        {**body, "name": "", "steps": body["steps"][:1]},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )
    [detail] = name.json()["error"]["fields"]["name"]
    assert bool(CJK.search(detail)) == (language == "zh-CN"), detail
