"""State changes of the video connector: viewing sessions and grants.

Docs: docs/integrations.md#video-viewing. Every view start and end is audited (who,
which camera, when, how long); heartbeats only move ``last_seen_at`` (not audited: one
every 30 s would drown the log; the end event carries the duration). Grants are created
and revoked by the city IT admin or the owner unit's admin, audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.accounts.models import Role, Unit, User
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import Msg
from api.integrations.errors import IntegrationError
from api.integrations.video import platform, selectors
from api.integrations.video.models import CameraGrant, ViewSession

# A view with no heartbeat for this long has ended (the page went away without a stop).
STALE_AFTER = timedelta(seconds=120)

CAMERA_RETIRED = Msg("该摄像头已下线停用。", "This camera has been retired.")
CAMERA_OFFLINE = Msg("该摄像头当前离线。", "This camera is offline.")
VIDEO_UNAVAILABLE = Msg(
    "视频平台暂不可用，请稍后再试。", "The video platform is not available; try again later."
)
GRANT_EXISTS = Msg("已有相同的授权。", "The same grant already exists.")


def play_ttl_seconds() -> int:
    return int(getattr(settings, "GOVDESK_VIDEO_PLAY_TTL_SECONDS", 300))


def viewer_id(user: User) -> str:
    """What the platform learns about the viewer: an opaque id, not a name."""
    return f"govdesk-{user.pk}"


def start_view(user: User, camera_id: int) -> tuple[ViewSession, str]:
    """Ask the platform for a signed play URL for a camera ``user`` may view and open a
    view session (audited). Returns the session and the URL."""
    camera = selectors.camera_or_404(user, camera_id, action="video.view")
    if camera.retired_at is not None:
        raise Conflict("camera_retired", CAMERA_RETIRED)
    if not camera.online:
        raise Conflict("camera_offline", CAMERA_OFFLINE)
    try:
        issued = platform.play_url(camera.source_id, viewer_id(user), play_ttl_seconds())
    except IntegrationError as exc:
        # Unreachable, busy, not configured, or refusing (the camera went offline since
        # the last pull): nothing to play, nothing recorded as a view.
        raise ApiError("video_unavailable", VIDEO_UNAVAILABLE, status_code=503) from exc
    try:
        expires_at = datetime.fromtimestamp(int(issued.get("expires_at", 0)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        expires_at = timezone.now() + timedelta(seconds=play_ttl_seconds())
    now = timezone.now()
    with transaction.atomic():
        view = ViewSession.objects.create(
            camera=camera, viewer=user, started_at=now, last_seen_at=now, url_expires_at=expires_at
        )
        record(
            "video.view",
            actor=user,
            obj=view,
            unit_id=user.unit_id,
            detail={"camera_id": camera.pk, "camera": camera.source_id, "name": camera.name},
        )
    return view, issued["url"]


def heartbeat(user: User, view_id: int) -> ViewSession:
    """The page still plays: move ``last_seen_at``. An ended session stays ended."""
    view = selectors.own_view_or_404(user, view_id)
    ViewSession.objects.filter(pk=view.pk, ended_at__isnull=True).update(
        last_seen_at=timezone.now()
    )
    view.refresh_from_db()
    return view


def _end(view: ViewSession, ended_at: datetime, reason: str, actor: User | None) -> bool:
    """Close an open session once (compare-and-set) and record its duration."""
    with transaction.atomic():
        if not ViewSession.objects.filter(pk=view.pk, ended_at__isnull=True).update(
            ended_at=ended_at, last_seen_at=max(ended_at, view.last_seen_at)
        ):
            return False
        view.refresh_from_db()
        record(
            "video.view_end",
            actor=actor,
            obj=view,
            unit_id=view.viewer.unit_id,
            detail={
                "camera_id": view.camera_id,
                "viewer_id": view.viewer_id,
                "duration_seconds": view.duration_seconds,
                "reason": reason,
            },
        )
    return True


def stop_view(user: User, view_id: int) -> ViewSession:
    view = selectors.own_view_or_404(user, view_id)
    _end(view, timezone.now(), "stopped", user)
    view.refresh_from_db()
    return view


def close_stale_views(now: datetime | None = None) -> int:
    """End the sessions whose page went away without a stop, at their last heartbeat.
    Safe to run twice: each session is closed once (compare-and-set)."""
    now = now or timezone.now()
    stale = ViewSession.objects.filter(
        ended_at__isnull=True, last_seen_at__lt=now - STALE_AFTER
    ).select_related("viewer")
    return sum(1 for view in stale if _end(view, view.last_seen_at, "no_heartbeat", None))


# --- grants ----------------------------------------------------------------------------


def _unit_or_404(unit_id: int | None) -> Unit | None:
    if unit_id is None:
        return None
    unit = Unit.objects.filter(pk=unit_id).first()
    if unit is None:
        raise NotFound()
    return unit


def create_grant(user: User, data: dict[str, Any]) -> CameraGrant:
    grantee = Unit.objects.filter(pk=data["grantee_unit_id"]).first()
    if grantee is None:
        raise NotFound()
    owner = _unit_or_404(data.get("owner_unit_id"))
    if not selectors.can_grant_for_owner(user, owner):
        record_denied(
            "video.grant_create", actor=user, object_type="integrations_video.cameragrant",
            detail={"owner_unit_id": owner.pk if owner else None, "reason": "not_owner_admin"},
        )  # fmt: skip
        raise Forbidden()
    role = data.get("role", "")
    if role and role not in Role.values:
        raise NotFound()
    camera_type = data.get("camera_type", "")
    # The unique constraint cannot see two "any owner" grants (NULL owners are distinct).
    if CameraGrant.objects.filter(
        grantee_unit=grantee, role=role, camera_type=camera_type, owner_unit=owner,
        revoked_at__isnull=True,
    ).exists():  # fmt: skip
        raise Conflict("grant_exists", GRANT_EXISTS)
    try:
        with transaction.atomic():
            grant = CameraGrant.objects.create(
                grantee_unit=grantee,
                role=role,
                camera_type=camera_type,
                owner_unit=owner,
                created_by=user,
            )
            record(
                "video.grant_create",
                actor=user,
                obj=grant,
                unit_id=owner.pk if owner else None,
                detail={
                    "grantee_unit_id": grantee.pk,
                    "role": role,
                    "camera_type": grant.camera_type,
                    "owner_unit_id": owner.pk if owner else None,
                },
            )
    except IntegrityError as exc:
        raise Conflict("grant_exists", GRANT_EXISTS) from exc
    return grant


def revoke_grant(user: User, grant_id: int) -> CameraGrant:
    grant = selectors.manageable_grants(user).filter(pk=grant_id).first()
    if grant is None:
        if CameraGrant.objects.filter(pk=grant_id).exists():
            record_denied(
                "video.grant_revoke", actor=user,
                object_type="integrations_video.cameragrant", object_id=grant_id,
            )  # fmt: skip
        raise NotFound()
    with transaction.atomic():
        if CameraGrant.objects.filter(pk=grant.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=user
        ):
            grant.refresh_from_db()
            record(
                "video.grant_revoke",
                actor=user,
                obj=grant,
                unit_id=grant.owner_unit_id,
                detail={"grantee_unit_id": grant.grantee_unit_id},
            )
    return grant
