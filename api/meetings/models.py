"""Meeting models (视频会议). Docs: docs/meetings.md.

Rows change only in api/meetings/actions.py. A meeting's video room lives on Janus
(``janus_room``): created when the first invited person asks to join, destroyed when
the meeting ends or is cancelled. ``room_secret`` and ``room_pin`` never leave the
server except the pin, in the join answer, to invited people.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MeetingState(models.TextChoices):
    SCHEDULED = "scheduled", "已安排"
    ENDED = "ended", "已结束"
    CANCELLED = "cancelled", "已取消"


class Meeting(models.Model):
    title = models.CharField(max_length=200)
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    host = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(max_length=200, blank=True, help_text="会议室 for on-site people")
    agenda = models.TextField(blank=True)
    state = models.CharField(
        max_length=10, choices=MeetingState.choices, default=MeetingState.SCHEDULED
    )
    locked = models.BooleanField(default=False, help_text="no one else may enter the room")
    signin_code = models.CharField(max_length=8, help_text="on-site sign-in code")
    janus_room = models.BigIntegerField(unique=True)
    room_secret = models.CharField(max_length=64)
    room_pin = models.CharField(max_length=32)
    room_open = models.BooleanField(default=False, help_text="the room exists on Janus")
    minutes_document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revision = models.PositiveIntegerField(default=1, help_text="bumped by every change")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["starts_at", "ends_at"], name="meeting_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"meeting {self.pk} {self.title[:30]}"


class ParticipantRole(models.TextChoices):
    HOST = "host", "主持人"
    ATTENDEE = "attendee", "参会人"


class SigninMethod(models.TextChoices):
    ROOM = "room", "入会签到"
    CODE = "code", "现场签到"


class Participant(models.Model):
    """One invited person. ``via_unit`` is set when a unit named them as its attendee."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(
        max_length=10, choices=ParticipantRole.choices, default=ParticipantRole.ATTENDEE
    )
    via_unit = models.ForeignKey(
        "accounts.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    signed_in_at = models.DateTimeField(null=True, blank=True)
    signin_method = models.CharField(max_length=8, choices=SigninMethod.choices, blank=True)
    janus_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    removed = models.BooleanField(default=False, help_text="removed by the host")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="meeting_participant_once")
        ]


class UnitInvitation(models.Model):
    """A unit asked to send attendees; its admins and clerks name them."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="unit_invitations")
    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveSmallIntegerField(default=1)
    invited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "unit"], name="meeting_unit_once")
        ]


class Attendance(models.Model):
    """One stay in the video room: from Janus's ``joined`` event to its ``leaving``
    (or the handle's detach, or the session's end)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="stays")
    janus_session = models.BigIntegerField()
    janus_handle = models.BigIntegerField()
    feed_id = models.BigIntegerField(null=True, blank=True)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["janus_session", "janus_handle", "joined_at"], name="attendance_once"
            )
        ]
        indexes = [models.Index(fields=["janus_handle"], name="attendance_handle_idx")]


class Material(models.Model):
    """Agenda papers and materials (会议材料), stored in the attachment store."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="materials")
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
