"""Models of api.integrations.video: the camera catalogue, viewing grants and view
sessions. Docs: docs/integrations.md#video.

* ``Camera`` — one camera of the video platform, synchronised by the pull connector
  (idempotent by ``source_id``). A camera removed upstream is ``retired`` (kept, so the
  views of it stay readable), never deleted.
* ``CameraGrant`` — who may view which cameras: people of a unit subtree (optionally
  only those holding a role there) may view cameras of one type (or all types), owned
  by a unit subtree (or by anyone — city IT admin only).
* ``ViewSession`` — one viewing: who, which camera, when it started, the last heartbeat
  and when it ended, so its duration is known.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from api.accounts.models import Role, Unit


class CameraType(models.TextChoices):
    TIANWANG = "tianwang", "天网"
    TRAFFIC = "traffic", "交通"
    CITY = "city", "城市"


class Camera(models.Model):
    source_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    camera_type = models.CharField(max_length=16, choices=CameraType.choices)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    address = models.CharField(max_length=200, blank=True)
    owner_code = models.CharField(max_length=40, blank=True, help_text="upstream owner unit code")
    owner_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="cameras"
    )
    online = models.BooleanField(default=True)
    # The platform's change number of the state stored here: an older change arriving
    # late (or twice) never overwrites a newer one.
    revision = models.BigIntegerField(default=0)
    retired_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["camera_type", "name", "id"]
        indexes = [models.Index(fields=["camera_type", "retired_at"], name="camera_type_retired")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.name}"


class CameraGrant(models.Model):
    """People of ``grantee_unit``'s subtree (with ``role`` there, when set) may view the
    cameras of ``camera_type`` (any, when blank) owned by ``owner_unit``'s subtree (any
    owner, when null). Revoked grants stay for the record."""

    grantee_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="camera_grants")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    camera_type = models.CharField(max_length=16, choices=CameraType.choices, blank=True)
    owner_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="camera_grants_owned"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grantee_unit", "role", "camera_type", "owner_unit"],
                condition=Q(revoked_at__isnull=True),
                name="camera_grant_unique_active",
            )
        ]


class ViewSession(models.Model):
    """One viewing of one camera; ``ended_at`` is set by the PWA's stop, or from the last
    heartbeat when the page went away without one (``close_stale_views``)."""

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="views")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="camera_views"
    )
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    url_expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["ended_at", "last_seen_at"], name="view_open_seen")]

    @property
    def duration_seconds(self) -> int:
        end = self.ended_at or self.last_seen_at
        return max(0, int((end - self.started_at).total_seconds()))
