"""The three sources a case is opened from, and the snapshot of their linked records.

Docs: docs/accountability.md#sources. Each ``resolve_*`` checks that the source exists
inside the supervisor's scope (outside it, it reads as missing and the attempt is
recorded) and that it warrants a case (a red light, an overdue document, a figure that
is not zero), and returns the unit concerned, a title, the source key and the snapshot
of the records behind it (``linked``), taken now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from api.accountability import selectors
from api.accountability.models import SourceKind
from api.accounts.models import Unit, User
from api.audit.recorder import record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict
from api.common.i18n import t
from api.common.people import person_ref

MAX_LINKED = 50  # tasks listed in a snapshot; the count is always whole
MAX_PERIOD_DAYS = 400  # as the statistics API (docs/supervision.md#statistics-api)
EARLIEST_DAY = date(1900, 1, 1)
STAT_COMPONENTS = ("overdue", "open_overdue", "returned", "slow")
STAT_LABELS = {
    "overdue": "逾期",
    "open_overdue": "未办结逾期",
    "returned": "退回",
    "slow": "超时办理",
}


@dataclass
class Source:
    kind: str
    key: str
    unit: Unit
    title: str
    linked: dict[str, Any]
    supervised_item: Any = None
    document: Any = None
    audit: dict[str, Any] = field(default_factory=dict)


def field_error(name: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={name: [t(zh, en)]})


def not_eligible(zh: str, en: str) -> Conflict:
    return Conflict("accountability_source_not_eligible", t(zh, en), status_code=409)


def _unit(unit: Unit) -> dict[str, Any]:
    return {"id": unit.pk, "name": unit.name}


def _task_rows(tasks: Any) -> list[dict[str, Any]]:
    return [
        {
            "task_id": task.pk,
            "document_id": task.document_id,
            "step_name": task.step_name,
            "person": person_ref(task.on_behalf_of or task.assignee),
            "state": task.state,
            "action": task.action,
            "received_at": client_datetime(task.received_at),
            "due_at": client_datetime(task.due_at),
            "acted_at": client_datetime(task.acted_at),
            "working_seconds": task.working_seconds,
        }
        for task in tasks.select_related("assignee", "on_behalf_of").order_by("pk")[:MAX_LINKED]
    ]


def _denied(actor: User, obj: Any, reason: str) -> None:
    record_denied("accountability.open", actor=actor, obj=obj, detail={"reason": reason})


# --- a red-light supervised item -------------------------------------------------------


def resolve_item(actor: User, item_id: int) -> Source:
    from api.supervision.models import ItemState, Light, SupervisedItem

    item = (
        SupervisedItem.objects.select_related("owner_unit", "document").filter(pk=item_id).first()
    )
    if item is None or not selectors.supervises(actor, item.owner_unit):
        if item is not None:
            _denied(actor, item, "item_outside_scope")
        raise field_error("supervised_item_id", "督办事项不存在。", "No such supervised item.")
    if item.state != ItemState.OPEN or item.light != Light.RED:
        raise not_eligible(
            "该督办事项没有亮红灯，不能据此立案问责。",
            "The supervised item is not at red; a case is opened from a red-light item.",
        )
    now = timezone.now()
    milestones = [
        {
            "id": m.pk,
            "title": m.title,
            "due": client_datetime(m.due),
            "done_at": client_datetime(m.done_at),
            "overdue": m.done_at is None and now > m.due,
        }
        for m in item.milestones.order_by("due", "id")
    ]
    latest = item.reports.select_related("by").first()
    linked = {
        "supervised_item": {
            "id": item.pk,
            "title": item.title,
            "source": item.source,
            "owner_unit": _unit(item.owner_unit),
            "created_at": client_datetime(item.created_at),
            "deadline": client_datetime(item.deadline),
            "light": item.light,
            "progress": item.progress,
            "escalations": item.escalations,
            "urges": item.urges.count(),
            "milestones": milestones,
            "latest_report": None
            if latest is None
            else {
                "by": person_ref(latest.by),
                "text": latest.text[:500],
                "percent": latest.percent,
                "created_at": client_datetime(latest.created_at),
            },
        },
        "document": None
        if item.document is None
        else {"id": item.document.pk, "title": item.document.title},
    }
    return Source(
        kind=SourceKind.SUPERVISION_ITEM,
        key=f"supervision_item:{item.pk}",
        unit=item.owner_unit,
        title=f"督办事项亮红灯：{item.title}"[:200],
        linked=linked,
        supervised_item=item,
        audit={"supervised_item_id": item.pk},
    )


# --- an overdue document --------------------------------------------------------------


def resolve_document(actor: User, document_id: int) -> Source:
    from api.documents.models import Document
    from api.workflow.models import Task, TaskState

    document = Document.objects.select_related("unit").filter(pk=document_id).first()
    if document is None or not selectors.supervises(actor, document.unit):
        if document is not None:
            _denied(actor, document, "document_outside_scope")
        raise field_error("document_id", "公文不存在。", "No such document.")
    if not document.is_overdue:
        raise not_eligible(
            "该公文没有超过办结时限，不能据此立案问责。",
            "The document is not past its time limit; a case is opened from an overdue one.",
        )
    now = timezone.now()
    late = Q(due_at__isnull=False) & (
        Q(acted_at__gt=F("due_at")) | Q(state=TaskState.OPEN, due_at__lt=now)
    )
    tasks = Task.objects.filter(document=document, assignee__isnull=False).filter(late)
    end = document.limit_done_at or document.limit_paused_at or now
    late_seconds = None
    if document.due_at is not None and end > document.due_at:
        from api.workdays import working_seconds_between

        late_seconds = int(working_seconds_between(document.due_at, end))
    linked = {
        "document": {
            "id": document.pk,
            "title": document.title,
            "doc_number": document.doc_number,
            "doc_type": document.doc_type,
            "urgency": document.urgency,
            "status": document.status,
            "unit": _unit(document.unit),
            "time_limit_days": None
            if document.time_limit_days is None
            else float(document.time_limit_days),
            "limit_started_at": client_datetime(document.limit_started_at),
            "due_at": client_datetime(document.due_at),
            "limit_done_at": client_datetime(document.limit_done_at),
            "overdue_at": client_datetime(document.overdue_at),
            "late_working_hours": None if late_seconds is None else round(late_seconds / 3600, 1),
        },
        "late_tasks": {"count": tasks.count(), "tasks": _task_rows(tasks)},
    }
    return Source(
        kind=SourceKind.OVERDUE_DOCUMENT,
        key=f"document:{document.pk}",
        unit=document.unit,
        title=f"公文超期：{document.title}"[:200],
        linked=linked,
        document=document,
        audit={"document_id": document.pk},
    )


# --- a statistic ----------------------------------------------------------------------


def resolve_statistic(actor: User, spec: dict[str, Any]) -> Source:
    from api.stats import compute
    from api.workdays.deadlines import TZ

    today = timezone.now().astimezone(TZ).date()
    first, last = spec["from"], spec["to"]
    for name, day in (("from", first), ("to", last)):
        if not EARLIEST_DAY <= day <= today:
            raise field_error(
                f"statistic.{name}",
                "日期须在 1900-01-01 至今天之间。",
                "The date must lie between 1900-01-01 and today.",
            )
    if last < first:
        raise field_error("statistic.to", "结束日期早于开始日期。", "to is before from.")
    if last - first > timedelta(days=MAX_PERIOD_DAYS):
        raise field_error(
            "statistic.to", "统计期间最长 400 天。", "The period is at most 400 days."
        )
    unit = Unit.objects.filter(pk=spec["unit_id"]).first()
    if unit is None or not selectors.supervises(actor, unit):
        if unit is not None:
            _denied(actor, unit, "unit_outside_scope")
        raise field_error("statistic.unit_id", "单位不存在。", "No such unit.")
    component = spec["component"]
    period = compute.Period(first, last)
    weights = compute.Weights.from_settings()
    now = timezone.now()
    figures = compute.figures_by(
        "stat_unit", period, now=now, weights=weights, restrict=compute.unit_filter([unit])
    ).get(unit.pk, compute.Figures())
    count = figures.open_overdue if component == "open_overdue" else figures.count(component)
    if count == 0:
        raise not_eligible(
            "该单位在此期间的这项统计为零，不能据此立案问责。",
            "The unit's figure for that period is zero; there is nothing to account for.",
        )
    tasks = compute.component_tasks(component, period, now, weights).filter(
        **{"stat_unit": unit.pk}  # an annotation (compute._principal)
    )
    linked = {
        "statistic": {
            "unit": _unit(unit),
            **period.query(),
            "component": component,
            "count": count,
            "figures": compute.figures_json(figures),
            "score": compute.score(figures, weights),
            "formula": compute.formula(weights),
            "tasks_link": compute.tasks_link(unit.pk, component, period),
        },
        "tasks": {"count": count, "tasks": _task_rows(tasks)},
    }
    label = STAT_LABELS[component]
    return Source(
        kind=SourceKind.STATISTIC,
        key=f"statistic:{unit.pk}:{first.isoformat()}:{last.isoformat()}:{component}",
        unit=unit,
        title=f"效能统计：{unit.name} {first:%Y-%m-%d}至{last:%Y-%m-%d} {label} {count} 件"[:200],
        linked=linked,
        audit={"statistic": {**period.query(), "unit_id": unit.pk, "component": component}},
    )
