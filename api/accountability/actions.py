"""Every state change of an accountability case (问责): open, record findings, decide.

Docs: docs/accountability.md. Each action checks permission first (a refusal is
recorded with ``record_denied``, then raised), then runs in one transaction: the case
row is locked (``select_for_update``), changed, the unit's leaders are notified through
``api.notify.actions.notify`` inside the same transaction (a rollback sends nothing,
and the dedup key makes a repeat send nothing twice), and the audit event is written
last.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.accountability import selectors, sources
from api.accountability.models import AccountabilityCase, CaseStatus, OutcomeKind, SourceKind
from api.accounts.models import User
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden


def _require_supervisor(actor: User, case: AccountabilityCase, action: str) -> None:
    if not selectors.supervises(actor, case.unit):
        record_denied(action, actor=actor, obj=case, detail={"reason": "not_supervisor"})
        raise Forbidden()


def _locked(case_id: int) -> AccountabilityCase:
    return (
        AccountabilityCase.objects.select_for_update(of=("self",))
        .select_related("unit")
        .get(pk=case_id)
    )


def _require_undecided(case: AccountabilityCase) -> None:
    if case.status == CaseStatus.DECIDED:
        raise Conflict("accountability_decided", status_code=409)


def _notify_heads(case: AccountabilityCase, *, event: str, title: str, body: str) -> list[int]:
    """The unit's leaders, once per case and event (dedup key), never by SMS."""
    from api.notify.actions import notify

    sent = []
    for person in selectors.unit_heads(case.unit_id):
        created = notify(
            recipient=person,
            kind="supervision",
            title=title[:200],
            body=body,
            urgency="high",
            dedup_key=f"accountability_{event}:{case.pk}",
            # In-app, push and IM only: a discipline matter's text is not sent by SMS.
            sms=False,
        )
        if created is not None:
            sent.append(person.pk)
    return sent


def undecided_case_exists(source_key: str) -> bool:
    return (
        AccountabilityCase.objects.filter(source_key=source_key)
        .exclude(status=CaseStatus.DECIDED)
        .exists()
    )


def _existing_case_conflict(source_key: str) -> Conflict:
    existing = (
        AccountabilityCase.objects.filter(source_key=source_key)
        .exclude(status=CaseStatus.DECIDED)
        .values_list("pk", flat=True)
        .first()
    )
    return Conflict("accountability_case_exists", status_code=409, extra={"case_id": existing})


def open_case(
    actor: User,
    *,
    source_kind: str,
    reason: str,
    supervised_item_id: int | None = None,
    document_id: int | None = None,
    statistic: dict[str, Any] | None = None,
) -> AccountabilityCase:
    """A supervisor opens a case about a unit in their scope from one source; the
    linked records are attached as a snapshot (api/accountability/sources.py)."""
    if not selectors.is_supervisor(actor):
        record_denied("accountability.open", actor=actor, detail={"reason": "not_supervisor"})
        raise Forbidden()
    given = {
        SourceKind.SUPERVISION_ITEM: ("supervised_item_id", supervised_item_id),
        SourceKind.OVERDUE_DOCUMENT: ("document_id", document_id),
        SourceKind.STATISTIC: ("statistic", statistic),
    }
    for kind, (name, value) in given.items():
        if kind == source_kind and value is None:
            raise sources.field_error(name, "请指明立案来源。", "The source is required.")
        if kind != source_kind and value is not None:
            raise sources.field_error(
                name,
                "与立案来源类型不符。",
                "This field does not belong to the chosen source kind.",
            )
    if source_kind == SourceKind.SUPERVISION_ITEM and supervised_item_id is not None:
        source = sources.resolve_item(actor, supervised_item_id)
    elif source_kind == SourceKind.OVERDUE_DOCUMENT and document_id is not None:
        source = sources.resolve_document(actor, document_id)
    elif statistic is not None:
        source = sources.resolve_statistic(actor, statistic)
    else:  # the serializer allows only the three kinds
        raise ApiError("validation_error")
    if undecided_case_exists(source.key):
        raise _existing_case_conflict(source.key)
    try:
        with transaction.atomic():
            case = AccountabilityCase.objects.create(
                unit=source.unit,
                source_kind=source.kind,
                source_key=source.key,
                supervised_item=source.supervised_item,
                document=source.document,
                title=source.title,
                reason=reason,
                linked=source.linked,
                opened_by=actor,
                opened_at=timezone.now(),
            )
            # Notification text is Chinese: it is read on the unit leader's phone.
            sent = _notify_heads(
                case,
                event="opened",
                title=f"问责立案：{case.title}",
                body=f"督查部门已就“{case.title}”立案问责，请配合核查。",
            )
            record(
                "accountability.opened",
                actor=actor,
                obj=case,
                detail={
                    "source_kind": source.kind,
                    "source_key": source.key,
                    **source.audit,
                    "reason": reason[:500],
                    "notified": sent,
                },
            )
    except IntegrityError:
        # A concurrent open of the same source won the partial unique index.
        raise _existing_case_conflict(source.key) from None
    return case


def record_findings(case_id: int, actor: User, *, findings: str) -> AccountabilityCase:
    """The supervisor records (or, before the decision, amends) what was found."""
    case = selectors.case_or_404(actor, case_id, "accountability.findings")
    _require_supervisor(actor, case, "accountability.findings")
    with transaction.atomic():
        case = _locked(case_id)
        _require_undecided(case)
        previous = case.findings
        if previous == findings and case.status == CaseStatus.FINDINGS_RECORDED:
            return case  # a retry of the same findings changes nothing
        case.findings = findings
        case.findings_by = actor
        case.findings_at = timezone.now()
        case.status = CaseStatus.FINDINGS_RECORDED
        case.save(update_fields=["findings", "findings_by", "findings_at", "status"])
        record(
            "accountability.findings_recorded",
            actor=actor,
            obj=case,
            detail={
                "findings": findings[:1000],
                "amended": bool(previous),
                "previous": previous[:1000],
            },
        )
    return case


def decide(
    case_id: int, actor: User, *, outcome_kind: str, outcome_text: str
) -> AccountabilityCase:
    """The outcome (问责结果) closes the case; findings must be recorded first."""
    case = selectors.case_or_404(actor, case_id, "accountability.decide")
    _require_supervisor(actor, case, "accountability.decide")
    if outcome_kind not in OutcomeKind.values:  # the serializer checks it too
        raise sources.field_error("outcome_kind", "问责方式无效。", "Unknown outcome kind.")
    with transaction.atomic():
        case = _locked(case_id)
        _require_undecided(case)
        if case.status != CaseStatus.FINDINGS_RECORDED:
            raise Conflict("accountability_findings_required", status_code=409)
        now = timezone.now()
        case.status = CaseStatus.DECIDED
        case.outcome_kind = outcome_kind
        case.outcome_text = outcome_text
        case.decided_by = actor
        case.decided_at = now
        case.save(
            update_fields=["status", "outcome_kind", "outcome_text", "decided_by", "decided_at"]
        )
        label = OutcomeKind(outcome_kind).label
        sent = _notify_heads(
            case,
            event="decided",
            title=f"问责结果：{label}（{case.title}）",
            body=outcome_text[:500] or f"问责结果：{label}。",
        )
        record(
            "accountability.decided",
            actor=actor,
            obj=case,
            detail={
                "outcome_kind": outcome_kind,
                "outcome_text": outcome_text[:1000],
                "notified": sent,
            },
        )
    return case
