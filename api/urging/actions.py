"""State changes of api.urging: the automatic deadline scan and the manual urge.

Docs: docs/urging.md. Every urge is one short transaction: the task row is locked,
re-checked (still open, still the same light), the ``UrgeRecord`` written, the
notification written through ``api.notify.actions.notify`` in the same transaction
(a rollback sends nothing) and the audit event appended. A refused manual urge is
recorded with ``record_denied`` outside the transaction.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from api.accounts.models import Role, User
from api.accounts.roles import roles_of, supervised_units, within
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.notify import urge_caps
from api.urging.models import UrgeKind, UrgeRecord
from api.workflow.lights import RED, YELLOW, deadline_light, elapsed_fraction
from api.workflow.models import Task, TaskState

logger = logging.getLogger(__name__)

# Columns the scan reads: what the light needs and what identifies the urge.
SCAN_FIELDS = (
    "id",
    "state",
    "round",
    "received_at",
    "due_at",
    "paused_at",
    "paused_seconds",
    "assignee_id",
    "document_id",
)


# --- working hours ----------------------------------------------------------------------


def urging_hours(now: datetime) -> bool:
    """Automatic urges go out only on a working day (api/workdays) between
    GOVDESK_URGE_DAY_START_HOUR and GOVDESK_URGE_DAY_END_HOUR, Shanghai time."""
    from api.workdays.calendar import is_working_day
    from api.workdays.deadlines import local

    moment = local(now)
    start = time(settings.GOVDESK_URGE_DAY_START_HOUR)
    end_hour = settings.GOVDESK_URGE_DAY_END_HOUR
    in_day = moment.time() >= start and (end_hour == 24 or moment.time() < time(end_hour))
    return in_day and is_working_day(moment.date())


# --- the automatic scan -------------------------------------------------------------------


@dataclass
class ScanResult:
    yellow: int = 0
    red: int = 0
    examined: int = 0
    failed: int = 0
    outside_hours: bool = False
    urge_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "yellow": self.yellow,
            "red": self.red,
            "examined": self.examined,
            "failed": self.failed,
            "outside_hours": self.outside_hours,
        }


def candidates(now: datetime):
    """Open tasks that may need an automatic urge now, in one query (the partial
    index ``task_open_due_idx`` of api/workflow on open tasks' due_at): past due with no red
    urge today and fewer than GOVDESK_URGE_RED_MAX in total, or not yet due with no
    yellow urge yet. Whether a not-yet-due one is yellow is decided in Python (it
    needs the working-day calendar)."""
    from api.workdays.deadlines import local

    today = local(now).date()
    urges = UrgeRecord.objects.filter(task=OuterRef("pk"))
    red_count = Subquery(
        urges.filter(kind=UrgeKind.AUTO_RED)
        .order_by()
        .values("task")
        .annotate(n=Count("id"))
        .values("n"),
        output_field=IntegerField(),
    )
    return (
        Task.objects.filter(
            state=TaskState.OPEN,
            assignee__isnull=False,
            received_at__isnull=False,
            due_at__isnull=False,
        )
        .annotate(
            yellow_sent=Exists(urges.filter(kind=UrgeKind.AUTO_YELLOW)),
            red_today=Exists(urges.filter(kind=UrgeKind.AUTO_RED, work_day=today)),
            red_sent=Coalesce(red_count, Value(0)),
        )
        .filter(
            Q(due_at__lt=now, red_today=False, red_sent__lt=settings.GOVDESK_URGE_RED_MAX)
            | Q(due_at__gte=now, yellow_sent=False)
        )
        .only(*SCAN_FIELDS)
        .order_by("due_at", "id")
    )


def scan_deadlines(now: datetime | None = None) -> ScanResult:
    """Send the automatic urges due at ``now`` (docs/urging.md#automatic-urges).
    Safe to run twice and concurrently: the caps are re-checked under the task's row
    lock and enforced by unique constraints."""
    now = now or timezone.now()
    result = ScanResult()
    if not urging_hours(now):
        result.outside_hours = True
        return result
    due: list[tuple[int, str]] = []
    for task in candidates(now).iterator(chunk_size=2000):
        result.examined += 1
        light = deadline_light(task, now)
        if light == RED:
            due.append((task.pk, UrgeKind.AUTO_RED))
        elif light == YELLOW:
            due.append((task.pk, UrgeKind.AUTO_YELLOW))
    for task_id, kind in due:
        try:
            urge = _auto_urge(task_id, kind, now)
        except Exception:
            # One task's failure (rolled back: nothing sent) must not hold up the
            # others; the next scan retries it.
            logger.exception("automatic %s urge of task %s failed", kind, task_id)
            result.failed += 1
            continue
        if urge is None:
            continue
        result.urge_ids.append(urge.pk)
        if kind == UrgeKind.AUTO_RED:
            result.red += 1
        else:
            result.yellow += 1
    if result.yellow or result.red or result.failed:
        logger.info("deadline scan at %s: %s", now.isoformat(), result.as_dict())
    return result


def _locked_task(task_id: int) -> Task | None:
    return (
        Task.objects.select_for_update(of=("self",), no_key=True)
        .select_related("document", "assignee")
        .filter(pk=task_id)
        .first()
    )


def _auto_urge(task_id: int, kind: str, now: datetime) -> UrgeRecord | None:
    """One automatic urge in its own transaction; None when the task moved on or the
    cap was reached meanwhile (another scan got there first)."""
    from api.workdays.deadlines import local

    today = local(now).date()
    with transaction.atomic():
        task = _locked_task(task_id)
        if task is None or task.assignee is None:
            return None
        light = deadline_light(task, now)
        if (kind == UrgeKind.AUTO_RED and light != RED) or (
            kind == UrgeKind.AUTO_YELLOW and light != YELLOW
        ):
            return None
        # The caps again, under the row lock: the days this kind was already sent.
        days = list(
            UrgeRecord.objects.filter(task=task, kind=kind).values_list("work_day", flat=True)
        )
        if kind == UrgeKind.AUTO_YELLOW and days:
            return None
        if kind == UrgeKind.AUTO_RED and (
            today in days or len(days) >= settings.GOVDESK_URGE_RED_MAX
        ):
            return None
        urge = _create(task, kind, now, by=None, message="", work_day=today)
        if urge is None:
            return None
        # Automatic urges have their own caps; they only share the one SMS per person
        # and item per window with the manual and supervision urges.
        slot = urge_caps.claim(
            task.assignee.pk, urge_caps.document_item(task.document_id), now, counted=False
        )
        _notify(task, urge, now, sms=slot.sms)
        record(
            "task.urged",
            obj=task.document,
            detail={"task_id": task.pk, "urge_id": urge.pk, "kind": kind},
        )
    return urge


def _create(
    task: Task, kind: str, now: datetime, *, by: User | None, message: str, work_day=None
) -> UrgeRecord | None:
    assignee = task.assignee
    assert assignee is not None  # callers checked it under the row lock
    fraction = elapsed_fraction(task, now)
    try:
        with transaction.atomic():  # a savepoint: losing the unique race is not an error
            return UrgeRecord.objects.create(
                task=task,
                document=task.document,
                unit_id=assignee.unit_id,
                kind=kind,
                urged=assignee,
                by=by,
                message=message,
                task_round=task.round,
                work_day=work_day,
                elapsed_fraction=None if fraction is None else round(fraction, 4),
                created_at=now,
            )
    except IntegrityError:
        return None


def _notify(task: Task, urge: UrgeRecord, now: datetime, *, sms: bool = True) -> None:
    from api.common.i18n import t
    from api.notify.actions import notify

    title = task.document.title
    if urge.kind == UrgeKind.AUTO_YELLOW:
        heading = t("临期提醒", "Deadline approaching")
        body = t(
            f"「{title}」的{task.step_name}即将到期，请及时办理。",
            f"“{title}” ({task.step_name}) is due soon.",
        )
        urgency, dedup_key = "normal", f"urge_yellow:{task.pk}"
    elif urge.kind == UrgeKind.AUTO_RED:
        heading = t("超期催办", "Overdue")
        body = t(
            f"「{title}」的{task.step_name}已超过办理时限，请尽快办理。",
            f"“{title}” ({task.step_name}) is past its deadline.",
        )
        urgency, dedup_key = "high", f"urge_red:{task.pk}:{urge.work_day}"
    else:
        who = urge.by.display_name if urge.by is not None else ""
        heading = t(f"{who}催办", f"Urged by {who}")
        body = f"「{title}」{task.step_name}：{urge.message}"
        urgency, dedup_key = "high", f"urge:{urge.pk}"
    notification = notify(
        recipient=urge.urged,
        kind="urge",
        title=f"{heading}：{title}",
        body=body,
        task=task,
        document=task.document,
        urgency=urgency,
        dedup_key=dedup_key,
        now=now,
        sms=sms,
    )
    if notification is not None:
        urge.notification_id = notification.pk
        urge.save(update_fields=["notification_id"])


# --- manual urge ------------------------------------------------------------------------


def can_see_task(user: User, task: Task) -> bool:
    """Who may see a task's urges: whoever may see its document (drafter, the body's
    clerks/leaders/admins, supervisors of its unit, anyone with a task on it)."""
    from api.documents.selectors import can_view

    return user.pk in (task.assignee_id, task.on_behalf_of_id) or can_view(user, task.document)


def may_urge(user: User, task: Task) -> bool:
    """The task's sender, the document's drafter or the submitter of the run, or a
    supervisor of the document's unit or of the assignee's unit; never the assignee."""
    if user.pk == task.assignee_id:
        return False
    if user.pk in (task.sender_id, task.document.drafter_id, task.instance.started_by_id):
        return True
    if Role.SUPERVISOR not in roles_of(user):
        return False
    units = [task.document.unit]
    if task.assignee is not None and task.assignee.unit is not None:
        units.append(task.assignee.unit)
    return any(within(unit, root) for unit in units for root in supervised_units(user))


def task_for_urging(user: User, task_id: int, action: str) -> Task:
    """The task when ``user`` may see it; else 404 (recorded as ``action``)."""
    task = None
    if isinstance(task_id, int) and 0 < task_id < 2**63:
        task = (
            Task.objects.select_related(
                "document", "document__unit", "instance", "assignee", "assignee__unit"
            )
            .filter(pk=task_id)
            .first()
        )
    if task is None or not can_see_task(user, task):
        record_denied(action, actor=user, object_type="workflow.task", object_id=task_id)
        raise NotFound()
    return task


def urge(task_id: int, actor: User, message: str, now: datetime | None = None) -> UrgeRecord:
    """A manual urge (人工催办) with a message, sent to the task's assignee as a
    high-urgency notification. Refusals: 404 (cannot see), 403 ``urge_not_allowed``,
    409 ``task_not_open``, 429 ``urge_too_soon`` and 429 ``urge_capped`` (the cap per
    urged person and item, api/notify/urge_caps.py; ``retry_after``) — the 403s and
    429s recorded. Only the first urge of a person and item per window may go to SMS."""
    now = now or timezone.now()
    task = task_for_urging(actor, task_id, "task.urge")
    if not may_urge(actor, task):
        record_denied("task.urge", actor=actor, obj=task.document, detail={"task_id": task.pk})
        raise Forbidden(code="urge_not_allowed")
    interval = timedelta(minutes=settings.GOVDESK_URGE_MANUAL_INTERVAL_MINUTES)
    try:
        with transaction.atomic():
            created = _manual_urge(task, actor, message, now, interval)
    except _Refused as refused:
        # Every refusal is audited (outside the rolled-back transaction), then raised.
        record_denied(
            "task.urge",
            actor=actor,
            obj=task.document,
            detail={"task_id": task.pk, **refused.detail},
        )
        raise ApiError(
            refused.code, status_code=429, extra={"retry_after": refused.retry_after}
        ) from None
    return created


class _Refused(Exception):
    """A manual urge over a cap: raised out of the transaction (nothing written)."""

    def __init__(self, code: str, retry_after: int, detail: dict[str, Any]) -> None:
        super().__init__(code)
        self.code, self.retry_after, self.detail = code, retry_after, detail


def _manual_urge(
    task: Task, actor: User, message: str, now: datetime, interval: timedelta
) -> UrgeRecord:
    locked = _locked_task(task.pk)
    if locked is None or locked.state != TaskState.OPEN or locked.assignee is None:
        raise Conflict(code="task_not_open")
    locked.document = task.document
    last = (
        UrgeRecord.objects.filter(task=locked, by=actor, kind=UrgeKind.MANUAL)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None and now - last < interval:
        wait = math.ceil((last + interval - now).total_seconds())
        raise _Refused(
            "urge_too_soon",
            max(wait, 1),
            {"reason": "urge_too_soon", "urged_id": locked.assignee_id},
        )
    # The cap per urged person and item, across every urger (docs/urging.md): the
    # (person, document) row is locked until this transaction ends.
    slot = urge_caps.claim(locked.assignee.pk, urge_caps.document_item(locked.document_id), now)
    if not slot.allowed:
        raise _Refused(
            "urge_capped",
            slot.retry_after,
            {
                "reason": "urge_capped",
                "urged_id": locked.assignee_id,
                "count": slot.count,
                "limit": settings.GOVDESK_URGE_CAP_PER_WINDOW,
                "window_minutes": settings.GOVDESK_URGE_CAP_WINDOW_MINUTES,
            },
        )
    created = _create(locked, UrgeKind.MANUAL, now, by=actor, message=message)
    if created is None:  # manual urges have no unique constraint; a broken row
        raise Conflict()
    _notify(locked, created, now, sms=slot.sms)
    record(
        "task.urged",
        actor=actor,
        obj=task.document,
        detail={
            "task_id": locked.pk,
            "urge_id": created.pk,
            "kind": UrgeKind.MANUAL,
            "urged_id": locked.assignee_id,
            "message": message,
            "sms": slot.sms,
        },
    )
    return created
