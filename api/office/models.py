"""Personal office (个人办公): schedule events, who keeps or sees a person's schedule,
the iCalendar feed token, private notes and the address-book card (office phone).

Docs: docs/personal-office.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Event(models.Model):
    """One entry of a person's schedule (日程). ``owner`` is whose schedule it is;
    ``created_by`` differs when a secretary keeps a leader's schedule. ``rrule`` is an
    RFC 5545 RRULE value ("FREQ=WEEKLY;BYDAY=MO;COUNT=10"), expanded with dateutil;
    ``end`` is the end of the first occurrence (every occurrence lasts as long)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200)
    place = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    rrule = models.CharField(max_length=400, blank=True)
    # Last possible end of any occurrence; None = recurs for ever (no COUNT/UNTIL).
    series_end = models.DateTimeField(null=True, blank=True)
    remind_minutes = models.PositiveIntegerField(null=True, blank=True)
    attendees: models.ManyToManyField = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Attendee", related_name="attended_events"
    )
    uid = models.CharField(max_length=80, unique=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        indexes = [
            models.Index(fields=["owner", "start"], name="event_owner_start_idx"),
            models.Index(
                fields=["start"],
                condition=Q(remind_minutes__isnull=False, cancelled_at__isnull=True),
                name="event_remind_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=models.F("start")), name="event_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Attendee(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="attendee_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="attendee_unique_per_event")
        ]
        indexes = [models.Index(fields=["user", "event"], name="attendee_user_idx")]


class AccessLevel(models.TextChoices):
    BUSY = "busy", "仅忙闲"
    FULL = "full", "查看全部"
    KEEP = "keep", "代为维护"  # a secretary: reads and edits the schedule


class ScheduleAccess(models.Model):
    """Who the owner (a leader) lets see or keep their schedule (领导日程)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule_grants"
    )
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule_access"
    )
    level = models.CharField(max_length=8, choices=AccessLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "grantee"], name="schedule_access_unique"),
            models.CheckConstraint(
                condition=~Q(owner=models.F("grantee")), name="schedule_access_not_self"
            ),
        ]


class FeedToken(models.Model):
    """The personal iCalendar feed's secret (only its SHA-256 is stored)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feed_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=Q(revoked_at__isnull=True), name="feed_one_live_token"
            )
        ]


class Note(models.Model):
    """A private note (便签); only its owner ever sees it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(
                fields=["remind_at"],
                condition=Q(remind_at__isnull=False, reminded_at__isnull=True),
                name="note_remind_due_idx",
            )
        ]


class ContactCard(models.Model):
    """Address-book details a user record does not hold: office phone and room."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_card"
    )
    office_phone = models.CharField(max_length=40, blank=True)
    room = models.CharField(max_length=40, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
