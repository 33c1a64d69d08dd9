"""The camera catalogue's pull connector. Docs: docs/integrations.md#video-catalogue.

The platform's change feed gives every camera change after a cursor. Each change is one
record whose source id is ``"<camera id>@<revision>"``, so the connector layer stores
and applies each change exactly once; ``apply_camera`` (the spec's ``handle``) keeps the
newest revision per camera: a late or repeated change never moves a camera back. A
removed camera is retired (``retired_at``), never deleted: its view records stay.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from api.accounts.models import Unit
from api.audit.recorder import record
from api.integrations.errors import PermanentError
from api.integrations.http import Client, client
from api.integrations.video import platform
from api.integrations.video.models import Camera, CameraType

PAGE_SIZE = 100


class BadCameraRecord(PermanentError):
    """A change the catalogue cannot store (a permanent error: it goes to dead letters)."""


def source_id_of(change: dict[str, Any]) -> str:
    return f"{change['id']}@{int(change['revision'])}"


def _coordinate(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        return None


def apply_camera(source_id: str, change: dict[str, Any]) -> None:
    """Store one change of the feed; idempotent, and an older revision is ignored."""
    try:
        camera_id = str(change["id"])
        revision = int(change["revision"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadCameraRecord(f"camera change without id/revision: {source_id}") from exc
    if not camera_id or len(camera_id) > 64:
        raise BadCameraRecord(f"camera id not usable: {source_id}")
    now = timezone.now()
    with transaction.atomic():
        camera = Camera.objects.select_for_update().filter(source_id=camera_id).first()
        if camera is not None and camera.revision >= revision:
            return
        if change.get("removed"):
            if camera is None or camera.retired_at is not None:
                if camera is not None:
                    Camera.objects.filter(pk=camera.pk).update(revision=revision, synced_at=now)
                return
            camera.retired_at = now
            camera.online = False
            camera.revision = revision
            camera.synced_at = now
            camera.save(update_fields=["retired_at", "online", "revision", "synced_at"])
            record("video.camera_retired", obj=camera, detail={"source_id": camera_id})
            return
        kind = change.get("type")
        if kind not in CameraType.values:
            raise BadCameraRecord(f"camera {camera_id}: unknown type {kind!r}")
        location = change.get("location") or {}
        owner_code = str(change.get("owner_unit_code") or "")[:40]
        fields = {
            "name": str(change.get("name") or camera_id)[:120],
            "camera_type": kind,
            "latitude": _coordinate(location.get("lat")),
            "longitude": _coordinate(location.get("lng")),
            "address": str(location.get("address") or "")[:200],
            "owner_code": owner_code,
            "owner_unit": Unit.objects.filter(code=owner_code).first() if owner_code else None,
            "online": change.get("online") is not False,
            "revision": revision,
            "retired_at": None,
            "synced_at": now,
        }
        if camera is None:
            camera = Camera.objects.create(source_id=camera_id, **fields)
            record("video.camera_added", obj=camera, detail={"source_id": camera_id})
        else:
            was_retired = camera.retired_at is not None
            for key, value in fields.items():
                setattr(camera, key, value)
            camera.save()
            if was_retired:
                record("video.camera_restored", obj=camera, detail={"source_id": camera_id})


def fetch_page(http: Client, cursor: str) -> tuple[list[tuple[str, dict]], str, bool]:
    """One page of changes as ``(records, next cursor, more)`` for the connector layer."""
    page = platform.camera_changes(http, cursor, PAGE_SIZE)
    records = []
    for change in page["cameras"]:
        if isinstance(change, dict) and "id" in change and "revision" in change:
            records.append((source_id_of(change), change))
    return records, str(page.get("cursor") or cursor), bool(page.get("more"))


def sync_all(cursor: str = "") -> str:
    """Pull every page now and apply it directly, bypassing the connector layer's record
    store (the demo seed and the tests' shortcut); returns the last cursor."""
    more = True
    with client(platform.config()) as http:
        while more:
            records, cursor, more = fetch_page(http, cursor)
            for source_id, change in records:
                apply_camera(source_id, change)
    return cursor
