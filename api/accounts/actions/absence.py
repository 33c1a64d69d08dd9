"""Absences for A/B delegation: declare, end early, cancel; the start/end sweep.

Docs: docs/delegation.md. Same shape as every action: permission first (refusals
audited with ``record_denied`` outside any transaction), then one transaction that
locks the person (``select_for_update`` on the user row serialises every absence
change of one person, so two overlapping declarations cannot both pass), changes the
rows and appends the audit event. Transitions send ``absence_changed`` after
commit, exactly once (api/accounts/signals.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.accounts.models import Absence, User
from api.accounts.roles import can_manage_user, can_view_user
from api.accounts.signals import send_after_commit
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import t

SWEEP_BATCH = 500


def _detail(absence: Absence, **extra: Any) -> dict[str, Any]:
    return {
        "user_id": absence.user_id,
        "starts_at": client_datetime(absence.starts_at),
        "ends_at": client_datetime(absence.ends_at),
        **extra,
    }


def check_can_manage_absences(actor: User, target: User, action: str) -> None:
    """Anyone for themselves; an admin (unit admin of the person's subtree, city IT
    admin) for others. Someone the actor may not even see: 404; may see but not
    manage: 403. Both audited."""
    if actor.pk == target.pk:
        return
    if not can_view_user(actor, target):
        record_denied(action, actor=actor, obj=target, detail={"reason": "outside_scope"})
        raise NotFound()
    if not can_manage_user(actor, target):
        record_denied(action, actor=actor, obj=target, detail={"reason": "not_admin"})
        raise Forbidden()


def absence_for(actor: User, target: User, absence_id: int, action: str) -> Absence:
    """``target``'s absence ``absence_id`` (after the permission check), or 404."""
    check_can_manage_absences(actor, target, action)
    absence = (
        Absence.objects.select_related("user", "created_by")
        .filter(pk=absence_id, user=target)
        .first()
        if 0 < absence_id < 2**63
        else None
    )
    if absence is None:
        record_denied(
            action,
            actor=actor,
            object_type="accounts.absence",
            object_id=absence_id,
            detail={"reason": "not_found_for_user", "user_id": target.pk},
        )
        raise NotFound()
    return absence


def _invalid(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def _validate_period(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise _invalid("ends_at", "结束时间须晚于开始时间。", "ends_at must be after starts_at.")
    if ends_at <= now:
        raise _invalid("ends_at", "结束时间须晚于当前时间。", "ends_at must be in the future.")
    max_days = settings.GOVDESK_ABSENCE_MAX_DAYS
    if ends_at - starts_at > timedelta(days=max_days):
        raise _invalid(
            "ends_at",
            f"请假期间最长 {max_days} 天。",
            f"An absence lasts at most {max_days} days.",
        )


def declare_absence(
    actor: User, target: User, *, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> Absence:
    """Declare that ``target`` is away from ``starts_at`` to ``ends_at``. An absence
    already in effect (``starts_at`` not in the future) sends ``started`` at once."""
    check_can_manage_absences(actor, target, "absence.declare")
    now = timezone.now()
    _validate_period(starts_at, ends_at, now)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=target.pk).first()
        overlapping = Absence.objects.filter(
            user=target, cancelled_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists()
        if overlapping:
            raise Conflict("absence_overlaps")
        started = starts_at <= now
        absence = Absence.objects.create(
            user=target,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason,
            created_by=actor,
            started_signalled=started,
        )
        record(
            "absence.declared",
            actor=actor,
            obj=absence,
            unit_id=target.unit_id,
            detail=_detail(absence, reason=reason, in_effect=started),
        )
        if started:
            send_after_commit(absence.pk, "started")
    absence.user = target
    return absence


def end_absence(actor: User, absence: Absence) -> Absence:
    """End an absence in effect now (``ends_at`` becomes now)."""
    with transaction.atomic():
        locked = Absence.objects.select_for_update().get(pk=absence.pk)
        now = timezone.now()
        if not locked.in_effect(now):
            raise Conflict("absence_not_in_effect")
        locked.ends_at = now
        locked.ended_early_at = now
        start_pending = not locked.started_signalled
        locked.started_signalled = True
        locked.ended_signalled = True
        locked.save(
            update_fields=["ends_at", "ended_early_at", "started_signalled", "ended_signalled"]
        )
        record(
            "absence.ended",
            actor=actor,
            obj=locked,
            unit_id=absence.user.unit_id,
            detail=_detail(locked, early=True),
        )
        if start_pending:
            send_after_commit(locked.pk, "started")
        send_after_commit(locked.pk, "ended")
    locked.user = absence.user
    locked.created_by = absence.created_by
    return locked


def cancel_absence(actor: User, absence: Absence) -> Absence:
    """Cancel an absence that has not started yet (one in effect is ended instead)."""
    with transaction.atomic():
        locked = Absence.objects.select_for_update().get(pk=absence.pk)
        now = timezone.now()
        if locked.cancelled_at is not None:
            raise Conflict("absence_cancelled")
        if locked.starts_at <= now:
            raise Conflict("absence_already_started")
        locked.cancelled_at = now
        locked.started_signalled = True
        locked.ended_signalled = True
        locked.save(update_fields=["cancelled_at", "started_signalled", "ended_signalled"])
        record(
            "absence.cancelled",
            actor=actor,
            obj=locked,
            unit_id=absence.user.unit_id,
            detail=_detail(locked),
        )
        send_after_commit(locked.pk, "cancelled")
    locked.user = absence.user
    locked.created_by = absence.created_by
    return locked


# --- the sweep (beat: api.accounts.tasks.sweep_absences, every minute) --------------------


def _claim(absence_id: int, flag: str, change: str) -> bool:
    """Flip ``flag`` from False to True for one absence and, if this call flipped it,
    audit the transition and queue the signal. Safe to run concurrently."""
    with transaction.atomic():
        claimed = Absence.objects.filter(pk=absence_id, **{flag: False}).update(**{flag: True})
        if not claimed:
            return False
        absence = Absence.objects.select_related("user").get(pk=absence_id)
        record(
            f"absence.{change}",
            obj=absence,
            unit_id=absence.user.unit_id,
            detail=_detail(absence, by="schedule"),
        )
        send_after_commit(absence_id, change)
    return True


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Send ``started`` for absences whose start time has passed and ``ended`` for
    those whose end time has passed, each once. Running it twice sends nothing new."""
    now = now or timezone.now()
    started = ended = 0
    due_start = Absence.objects.filter(
        started_signalled=False, cancelled_at__isnull=True, starts_at__lte=now
    ).order_by("starts_at", "id")
    for absence_id in list(due_start.values_list("pk", flat=True)[:SWEEP_BATCH]):
        started += _claim(absence_id, "started_signalled", "started")
    due_end = Absence.objects.filter(
        ended_signalled=False, cancelled_at__isnull=True, ends_at__lte=now
    ).order_by("ends_at", "id")
    for absence_id in list(due_end.values_list("pk", flat=True)[:SWEEP_BATCH]):
        # An absence shorter than the sweep interval: its start goes out first.
        started += _claim(absence_id, "started_signalled", "started")
        ended += _claim(absence_id, "ended_signalled", "ended")
    return {"started": started, "ended": ended}
