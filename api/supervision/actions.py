"""Every state change of supervision (督办): create, milestones, progress, urge, close,
lights and escalation. Docs: docs/supervision.md.

Each action checks permission first (a refusal is recorded with ``record_denied``
outside any transaction, then raised), then runs in one transaction: the item row is
locked (``select_for_update``), the rows are changed, notifications are written
through ``api.notify.actions.notify`` inside the same transaction (a rollback sends
nothing), and the audit event is written last.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.accounts.models import Role, Unit, User
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import t
from api.supervision import selectors
from api.supervision.lights import MilestoneClock, traffic_light
from api.supervision.models import (
    ItemState,
    Light,
    Milestone,
    ProgressReport,
    Source,
    SupervisedItem,
    Urge,
)

MAX_MILESTONES = 20
# Every light walks the working-day calendar from the item's creation to its deadline,
# one day at a time: a deadline in year 9999 took ~15 s of CPU per recompute and then
# overflowed the date range (a 500). A century keeps a recompute well under a second.
MAX_DEADLINE = timedelta(days=36_525)


def _field_error(field: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={field: [t(zh, en)]})


def _working_seconds(a: datetime, b: datetime) -> int:
    from api.workdays import working_seconds_between

    return int(working_seconds_between(a, b))


def compute_light(item: SupervisedItem, now: datetime, milestones: Iterable[Milestone]) -> str:
    return traffic_light(
        now=now,
        start=item.created_at,
        deadline=item.deadline,
        progress=item.progress,
        milestones=[MilestoneClock(m.due, m.done_at) for m in milestones],
        working_seconds=_working_seconds,
    )


def _set_light(item: SupervisedItem, now: datetime) -> list[str]:
    """Recompute the stored light of a locked item; the changed field names."""
    if item.state != ItemState.OPEN:
        return []
    light = compute_light(item, now, Milestone.objects.filter(item=item))
    item.light_updated_at = now
    changed = ["light_updated_at"]
    if light != item.light:
        item.light = light
        changed.append("light")
    return changed


def _locked(item_id: int) -> SupervisedItem:
    return (
        SupervisedItem.objects.select_for_update(of=("self",))
        .select_related("owner_unit")
        .get(pk=item_id)
    )


def _require_open(item: SupervisedItem) -> None:
    if item.state != ItemState.OPEN:
        raise Conflict("supervision_closed", status_code=409)


def _require_supervisor(actor: User, item: SupervisedItem, action: str) -> None:
    if not selectors.supervises(actor, item.owner_unit):
        record_denied(action, actor=actor, obj=item, detail={"reason": "not_supervisor"})
        raise Forbidden()


def _require_owner_staff(actor: User, item: SupervisedItem, action: str) -> None:
    if not selectors.is_owner_staff(actor, item):
        record_denied(action, actor=actor, obj=item, detail={"reason": "not_owner_staff"})
        raise Forbidden()


def _notify(
    item: SupervisedItem,
    recipients: Iterable[User],
    *,
    title: str,
    body: str,
    dedup: str,
    urgency: str,
    no_sms: frozenset[int] = frozenset(),
) -> list[int]:
    from api.notify.actions import notify

    sent = []
    for person in recipients:
        created = notify(
            recipient=person,
            kind="supervision",
            title=title,
            body=body,
            document=item.document,
            urgency=urgency,
            dedup_key=dedup,
            sms=person.pk not in no_sms,
        )
        if created is not None:
            sent.append(person.pk)
    return sent


def _clean_milestones(raw: list[dict[str, Any]], deadline: datetime) -> list[dict[str, Any]]:
    if len(raw) > MAX_MILESTONES:
        raise _field_error("milestones", "节点最多 20 个。", "At most 20 milestones.")
    for index, milestone in enumerate(raw):
        if milestone["due"] > deadline:
            raise ApiError(
                "validation_error",
                fields={
                    f"milestones[{index}].due": [
                        t(
                            "节点时间不能晚于办结期限。",
                            "A milestone cannot be due after the deadline.",
                        )
                    ]
                },
            )
    return raw


def create_item(
    actor: User,
    *,
    title: str,
    source: str,
    owner_unit_id: int,
    deadline: datetime,
    document_id: int | None = None,
    instruction: str = "",
    milestones: list[dict[str, Any]] | None = None,
) -> SupervisedItem:
    """A supervisor opens a supervised item for a unit in their scope."""
    now = timezone.now()
    unit = Unit.objects.filter(pk=owner_unit_id, is_active=True).first()
    if not selectors.is_supervisor(actor):
        record_denied("supervision.create", actor=actor, detail={"reason": "not_supervisor"})
        raise Forbidden()
    if unit is None or not selectors.supervises(actor, unit):
        # A unit outside the supervisor's scope reads as one that does not exist.
        if unit is not None:
            record_denied(
                "supervision.create", actor=actor, obj=unit, detail={"reason": "outside_scope"}
            )
        raise _field_error("owner_unit_id", "单位不存在。", "No such unit.")
    if deadline <= now:
        raise _field_error(
            "deadline", "办结期限须晚于现在。", "The deadline must be in the future."
        )
    if deadline > now + MAX_DEADLINE:
        raise _field_error(
            "deadline",
            "办结期限不能超过 100 年。",
            "The deadline is at most 100 years from now.",
        )
    document = None
    if source == Source.DOCUMENT:
        from api.documents.models import Document

        document = (
            Document.objects.filter(pk=document_id).select_related("unit").first()
            if document_id is not None
            else None
        )
        if document is None or not selectors.supervises(actor, document.unit):
            # Like the owner unit: a document outside the scope reads as missing, and
            # the attempt is recorded.
            if document is not None:
                record_denied(
                    "supervision.create",
                    actor=actor,
                    obj=document,
                    detail={"reason": "document_outside_scope"},
                )
            raise _field_error("document_id", "公文不存在。", "No such document.")
    elif document_id is not None:
        raise _field_error(
            "document_id", "只有来源为公文时才能关联公文。", "Only a document item names one."
        )
    if source == Source.INSTRUCTION and not instruction.strip():
        raise _field_error("instruction", "请填写领导批示内容。", "The instruction is required.")
    cleaned = _clean_milestones(milestones or [], deadline)
    with transaction.atomic():
        item = SupervisedItem.objects.create(
            title=title,
            source=source,
            document=document,
            instruction=instruction,
            owner_unit=unit,
            created_by=actor,
            created_at=now,
            deadline=deadline,
        )
        Milestone.objects.bulk_create(
            [Milestone(item=item, title=m["title"], due=m["due"]) for m in cleaned]
        )
        _set_light(item, now)
        item.save(update_fields=["light", "light_updated_at"])
        record(
            "supervision.created",
            actor=actor,
            obj=item,
            detail={
                "title": title[:200],
                "source": source,
                "document_id": document_id,
                "deadline": client_datetime(deadline),
                "milestones": len(cleaned),
                "light": item.light,
            },
        )
    return item


def add_milestone(item_id: int, actor: User, *, title: str, due: datetime) -> Milestone:
    item = selectors.item_or_404(actor, item_id, "supervision.milestone_add")
    _require_supervisor(actor, item, "supervision.milestone_add")
    with transaction.atomic():
        item = _locked(item_id)
        _require_open(item)
        if item.milestones.count() >= MAX_MILESTONES:
            raise _field_error("title", "节点最多 20 个。", "At most 20 milestones.")
        if due > item.deadline:
            raise _field_error(
                "due", "节点时间不能晚于办结期限。", "A milestone cannot be due after the deadline."
            )
        milestone = Milestone.objects.create(item=item, title=title, due=due)
        item.save(update_fields=_set_light(item, timezone.now()))
        record(
            "supervision.milestone_added",
            actor=actor,
            obj=item,
            detail={
                "milestone_id": milestone.pk,
                "title": title[:200],
                "due": client_datetime(due),
            },
        )
    return milestone


def complete_milestone(item_id: int, milestone_id: int, actor: User) -> Milestone:
    """The owner unit marks a milestone done; a second call changes nothing."""
    item = selectors.item_or_404(actor, item_id, "supervision.milestone_done")
    if not Milestone.objects.filter(pk=milestone_id, item_id=item.pk).exists():
        raise NotFound()
    _require_owner_staff(actor, item, "supervision.milestone_done")
    with transaction.atomic():
        item = _locked(item_id)
        milestone = Milestone.objects.select_for_update().get(pk=milestone_id)
        if milestone.done_at is not None:
            return milestone
        _require_open(item)
        now = timezone.now()
        milestone.done_at = now
        milestone.done_by = actor
        milestone.save(update_fields=["done_at", "done_by"])
        item.save(update_fields=_set_light(item, now))
        record(
            "supervision.milestone_done",
            actor=actor,
            obj=item,
            detail={"milestone_id": milestone.pk, "late": now > milestone.due},
        )
    return milestone


def report_progress(item_id: int, actor: User, *, text: str, percent: int) -> ProgressReport:
    item = selectors.item_or_404(actor, item_id, "supervision.progress")
    _require_owner_staff(actor, item, "supervision.progress")
    with transaction.atomic():
        item = _locked(item_id)
        _require_open(item)
        now = timezone.now()
        report = ProgressReport.objects.create(
            item=item, by=actor, text=text, percent=percent, created_at=now
        )
        item.progress = percent
        item.save(update_fields=["progress", *_set_light(item, now)])
        record(
            "supervision.progress_reported",
            actor=actor,
            obj=item,
            detail={"report_id": report.pk, "percent": percent, "light": item.light},
        )
    return report


class _Capped(Exception):
    def __init__(self, retry_after: int, detail: dict[str, Any]) -> None:
        super().__init__("urge_capped")
        self.retry_after, self.detail = retry_after, detail


def urge(item_id: int, actor: User, *, message: str = "", now: datetime | None = None) -> Urge:
    """催办: notify the owner unit's leaders and clerks (kind ``supervision``), within
    the cap per urged person and item shared with task urges (docs/urging.md): a
    person over the cap is left out (listed as ``capped`` in the audit detail), only
    the first urge of a window may reach a person by SMS, and when every recipient is
    over the cap the urge is refused with 429 ``urge_capped`` (audited)."""
    from api.notify import urge_caps

    now = now or timezone.now()
    item = selectors.item_or_404(actor, item_id, "supervision.urge")
    _require_supervisor(actor, item, "supervision.urge")
    try:
        with transaction.atomic():
            item = _locked(item_id)
            _require_open(item)
            people = selectors.owner_recipients(item.owner_unit_id)
            key = urge_caps.supervision_item(item.pk, item.document_id)
            # Claimed in ascending id order (owner_recipients sorts): no deadlock with
            # another urge of the same people.
            claims = {person.pk: urge_caps.claim(person.pk, key, now) for person in people}
            capped = [pk for pk, claim in claims.items() if not claim.allowed]
            if people and len(capped) == len(people):
                raise _Capped(
                    min(claims[pk].retry_after for pk in capped),
                    {
                        "reason": "urge_capped",
                        "capped": capped,
                        "limit": settings.GOVDESK_URGE_CAP_PER_WINDOW,
                        "window_minutes": settings.GOVDESK_URGE_CAP_WINDOW_MINUTES,
                    },
                )
            entry = Urge.objects.create(item=item, by=actor, message=message, created_at=now)
            # Notification text is Chinese: it is read on the owner's phone, whatever
            # language the supervisor's own client asked for.
            title = f"督办催办：{item.title}"[:200]
            body = message or (
                f"请于 {timezone.localtime(item.deadline):%Y-%m-%d %H:%M} 前办结并报告进展。"
            )
            entry.recipients = _notify(
                item,
                [person for person in people if claims[person.pk].allowed],
                title=title,
                body=body,
                dedup=f"supervision_urge:{entry.pk}",
                urgency="high",
                no_sms=frozenset(pk for pk, claim in claims.items() if not claim.sms),
            )
            entry.save(update_fields=["recipients"])
            record(
                "supervision.urged",
                actor=actor,
                obj=item,
                detail={
                    "urge_id": entry.pk,
                    "recipients": entry.recipients,
                    "message": message[:200],
                    "capped": capped,
                    "sms": sorted(pk for pk, claim in claims.items() if claim.sms),
                },
            )
    except _Capped as refused:
        record_denied("supervision.urge", actor=actor, obj=item, detail=refused.detail)
        raise ApiError(
            "urge_capped", status_code=429, extra={"retry_after": refused.retry_after}
        ) from None
    return entry


def close_item(item_id: int, actor: User, *, result: str) -> SupervisedItem:
    item = selectors.item_or_404(actor, item_id, "supervision.close")
    _require_supervisor(actor, item, "supervision.close")
    with transaction.atomic():
        item = _locked(item_id)
        _require_open(item)
        now = timezone.now()
        item.state = ItemState.CLOSED
        item.result = result
        item.closed_at = now
        item.closed_by = actor
        item.save(update_fields=["state", "result", "closed_at", "closed_by"])
        record(
            "supervision.closed",
            actor=actor,
            obj=item,
            detail={"result": result[:500], "late": now > item.deadline, "light": item.light},
        )
    return item


# --- the beat task's work ---------------------------------------------------------------


def refresh_item(item_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Recompute one open item's light; when it is red, escalate to the owner unit's
    leaders — at most ``GOVDESK_SUPERVISION_MAX_ESCALATIONS`` times, and not again
    within ``GOVDESK_SUPERVISION_ESCALATION_INTERVAL_HOURS``. Safe to run twice: the
    item row is locked, and each escalation's dedup key carries its number."""
    now = now or timezone.now()
    with transaction.atomic():
        item = SupervisedItem.objects.select_for_update().filter(pk=item_id).first()
        if item is None or item.state != ItemState.OPEN:
            return {"item": item_id, "changed": False, "escalated": False}
        before = item.light
        fields = _set_light(item, now)
        escalated = False
        interval = timedelta(hours=settings.GOVDESK_SUPERVISION_ESCALATION_INTERVAL_HOURS)
        if (
            item.light == Light.RED
            and item.escalations < settings.GOVDESK_SUPERVISION_MAX_ESCALATIONS
            and (item.last_escalated_at is None or now - item.last_escalated_at >= interval)
        ):
            number = item.escalations + 1
            leaders = selectors.owner_recipients(item.owner_unit_id, (Role.LEADER,))
            sent = _notify(
                item,
                leaders,
                title=f"督办事项亮红灯：{item.title}"[:200],
                body=f"督办事项已逾期或有节点逾期（第 {number} 次提醒），请督促办理。",
                dedup=f"supervision_escalation:{item.pk}:{number}",
                urgency="very_urgent",
            )
            item.escalations = number
            item.last_escalated_at = now
            fields += ["escalations", "last_escalated_at"]
            escalated = True
        item.save(update_fields=fields)
        if before != item.light:
            record(
                "supervision.light_changed",
                obj=item,
                detail={"from": before, "to": item.light},
            )
        if escalated:
            record(
                "supervision.escalated",
                obj=item,
                detail={"number": item.escalations, "recipients": sent},
            )
    return {"item": item_id, "changed": before != item.light, "escalated": escalated}


def refresh_open_items(now: datetime | None = None) -> int:
    """Every open item, each in its own short transaction; the number refreshed."""
    ids = list(
        SupervisedItem.objects.filter(state=ItemState.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        refresh_item(pk, now)
    return len(ids)
