"""Who sees what in 信息报送, and the read-side queries. Docs: docs/submissions.md#scope.

A submission is seen by the members of its unit and by the editors and leaders of an
office it was submitted to; anything else is a 404. An office's incoming items, issues
and calls are seen by its editors and leaders; a published issue by every signed-in
user (the readership); a call by the office and the units it asks.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet, Sum

from api.accounts.models import Role, RoleAssignment, Unit, User
from api.common.search import matching
from api.submissions.models import (
    Call,
    Delivery,
    EditorialOffice,
    IssueState,
    JournalIssue,
    ScoreEntry,
    Submission,
)

DRAFTING_ROLES = (Role.CLERK, Role.UNIT_ADMIN)


def holds(user: User, unit_id: int, roles: tuple[str, ...]) -> bool:
    return RoleAssignment.objects.filter(user=user, unit_id=unit_id, role__in=roles).exists()


def may_draft(user: User, unit_id: int) -> bool:
    return user.unit_id == unit_id and holds(user, unit_id, DRAFTING_ROLES)


def is_unit_leader(user: User, unit_id: int) -> bool:
    return holds(user, unit_id, (Role.LEADER,))


def editor_offices(user: User) -> list[int]:
    return list(EditorialOffice.objects.filter(editors=user).values_list("pk", flat=True))


def leader_offices(user: User) -> list[int]:
    return list(EditorialOffice.objects.filter(leaders=user).values_list("pk", flat=True))


def staff_offices(user: User) -> list[int]:
    return sorted(set(editor_offices(user)) | set(leader_offices(user)))


def is_editor(user: User, office_id: int) -> bool:
    return EditorialOffice.objects.filter(pk=office_id, editors=user).exists()


def is_office_leader(user: User, office_id: int) -> bool:
    return EditorialOffice.objects.filter(pk=office_id, leaders=user).exists()


def visible_submissions(user: User) -> QuerySet[Submission]:
    offices = staff_offices(user)
    sent_to_mine = Delivery.objects.filter(office_id__in=offices).values("submission_id")
    return Submission.objects.filter(Q(unit_id=user.unit_id) | Q(pk__in=sent_to_mine))


def submission_or_none(user: User, submission_id: int) -> Submission | None:
    return visible_submissions(user).filter(pk=submission_id).first()


def submissions_page_queryset(user: User, params: dict) -> QuerySet[Submission]:
    qs = visible_submissions(user)
    if params.get("unit"):
        qs = qs.filter(unit_id=params["unit"])
    if params.get("category"):
        qs = qs.filter(category=params["category"])
    if params.get("state"):
        qs = qs.filter(state=params["state"])
    deliveries = Delivery.objects.all()
    if params.get("office"):
        deliveries = deliveries.filter(office_id=params["office"])
    if params.get("delivery_state"):
        deliveries = deliveries.filter(state=params["delivery_state"])
    if params.get("office") or params.get("delivery_state"):
        qs = qs.filter(pk__in=deliveries.values("submission_id"))
    if params.get("q"):
        # Chinese full-text search (jieba; tsvector on PostgreSQL, FTS5 on SQLite).
        qs = matching(qs, str(params["q"]), date_field="created_at")
    return qs.select_related("unit", "author").prefetch_related("deliveries__office")


def visible_issues(user: User) -> QuerySet[JournalIssue]:
    return JournalIssue.objects.filter(
        Q(state=IssueState.PUBLISHED) | Q(journal__office_id__in=staff_offices(user))
    )


def visible_calls(user: User) -> QuerySet[Call]:
    return Call.objects.filter(
        Q(office_id__in=staff_offices(user)) | Q(units=user.unit_id)
    ).distinct()


def call_status(call: Call, now) -> list[dict]:
    """Per asked unit: answered (on time / late) or missing, and overdue."""
    answers: dict[int, list[Delivery]] = {}
    for delivery in Delivery.objects.filter(
        submission__call=call, office_id=call.office_id
    ).select_related("submission"):
        answers.setdefault(delivery.submission.unit_id, []).append(delivery)
    rows = []
    for unit in call.units.order_by("id"):
        mine = answers.get(unit.pk, [])
        if mine:
            state = "late" if all(d.late for d in mine) else "answered"
        else:
            state = "missing_overdue" if now > call.deadline else "missing"
        rows.append({"unit_id": unit.pk, "unit": unit.name, "state": state, "answers": len(mine)})
    return rows


def unit_scores(year: int, month: int | None, office_id: int | None = None) -> list[dict]:
    qs = ScoreEntry.objects.filter(year=year)
    if month:
        qs = qs.filter(month=month)
    if office_id:
        qs = qs.filter(rule__office_id=office_id)
    rows = (
        qs.values("unit_id", "unit__name")
        .annotate(points=Sum("points"), entries=Count("id"))
        .order_by("-points", "unit_id")
    )
    return [
        {
            "rank": i + 1,
            "unit_id": r["unit_id"],
            "unit": r["unit__name"],
            "points": r["points"],
            "entries": r["entries"],
        }
        for i, r in enumerate(rows)
    ]


def unit_name(unit_id: int) -> str:
    return Unit.objects.filter(pk=unit_id).values_list("name", flat=True).first() or ""
