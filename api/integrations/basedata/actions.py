"""Every state change of the base data catalogue: request access, approve, refuse; and
the proxy query (which changes nothing but the log). Docs: docs/integrations.md#base-data.

Permission first (a refusal is recorded with ``record_denied``, then raised), then one
transaction that locks what it changes, notifies inside it (a rollback sends nothing)
and writes the audit event.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.accounts.models import Role, RoleAssignment, User
from api.audit.models import AuditResult
from api.audit.recorder import record, record_denied
from api.common.errors import ApiError, Conflict, Forbidden
from api.common.i18n import Msg
from api.integrations.basedata import errors, masking, platform, selectors
from api.integrations.basedata.models import (
    AccessLevel,
    AccessRequest,
    Dataset,
    QueryLog,
    QueryOutcome,
    RequestStatus,
)

MAX_PERIOD_DAYS = 366
DEFAULT_ROWS = 20


def max_rows() -> int:
    """The row cap of one query (``GOVDESK_BASEDATA_MAX_ROWS``, default 100)."""
    return int(getattr(settings, "GOVDESK_BASEDATA_MAX_ROWS", 100))


def _field_error(name: str, zh: str, en: str) -> ApiError:
    return ApiError("validation_error", fields={name: [Msg(zh, en)]})


def _owner_admins(dataset: Dataset) -> list[User]:
    """Active unit admins whose scope covers the owner unit (its own admins first)."""
    ancestor_ids = [int(step) for step in dataset.owner_unit.path.split(".") if step]
    user_ids = (
        RoleAssignment.objects.filter(
            role=Role.UNIT_ADMIN, unit_id__in=ancestor_ids, user__is_active=True
        )
        .values_list("user_id", flat=True)
        .distinct()
    )
    return list(User.objects.filter(pk__in=list(user_ids)).order_by("pk"))


def _notify(person: User, title: str, body: str, key: str) -> None:
    from api.notify.actions import notify

    # Personal data never goes into the text: dataset name and purpose only.
    notify(recipient=person, kind="system", title=title[:200], body=body[:500], dedup_key=key)


def request_access(
    actor: User,
    dataset_id: int,
    *,
    purpose: str,
    starts_on: date,
    ends_on: date,
    access_level: str = AccessLevel.MASKED,
) -> AccessRequest:
    dataset = selectors.dataset_or_404(dataset_id)
    if not dataset.active:
        raise Conflict("basedata_dataset_retired", errors.DATASET_RETIRED, status_code=409)
    day = selectors.today()
    if starts_on < day:
        raise _field_error("starts_on", "不能早于今天。", "May not lie in the past.")
    if ends_on < starts_on:
        raise _field_error("ends_on", "不能早于开始日期。", "May not precede starts_on.")
    if (ends_on - starts_on) >= timedelta(days=MAX_PERIOD_DAYS):
        raise _field_error(
            "ends_on",
            f"授权期限最长 {MAX_PERIOD_DAYS} 天。",
            f"A grant lasts at most {MAX_PERIOD_DAYS} days.",
        )
    pending = AccessRequest.objects.filter(
        requester=actor, dataset=dataset, status=RequestStatus.PENDING
    ).values_list("pk", flat=True)
    if pending:
        raise Conflict(
            "basedata_request_pending",
            errors.REQUEST_PENDING,
            status_code=409,
            extra={"request_id": pending[0]},
        )
    try:
        with transaction.atomic():
            created = AccessRequest.objects.create(
                dataset=dataset,
                requester=actor,
                unit_id=actor.unit_id,
                purpose=purpose,
                starts_on=starts_on,
                ends_on=ends_on,
                access_level=access_level,
                requested_at=timezone.now(),
            )
            for admin in _owner_admins(dataset):
                if admin.pk != actor.pk:
                    _notify(
                        admin,
                        f"基础数据使用申请：{dataset.name}",
                        f"{actor.display_name}（{actor.unit.name}）申请使用“{dataset.name}”，"
                        f"用途：{purpose[:200]}",
                        f"basedata_request:{created.pk}",
                    )
            record(
                "basedata.access_requested",
                actor=actor,
                obj=created,
                detail={
                    "dataset": dataset.source_id,
                    "purpose": purpose[:500],
                    "starts_on": starts_on.isoformat(),
                    "ends_on": ends_on.isoformat(),
                    "access_level": access_level,
                },
            )
    except IntegrityError:
        # A concurrent request of the same person won the partial unique index.
        raise Conflict(
            "basedata_request_pending", errors.REQUEST_PENDING, status_code=409
        ) from None
    return created


def _owner_check(request_id: int, actor: User, action: str) -> AccessRequest:
    found = selectors.request_or_404(actor, request_id, action)
    if not selectors.owns_data_of(actor, found.dataset.owner_unit):
        record_denied(action, actor=actor, obj=found, detail={"reason": "not_owner_admin"})
        raise Forbidden("basedata_not_owner", errors.NOT_OWNER)
    if found.requester_id == actor.pk:
        record_denied(action, actor=actor, obj=found, detail={"reason": "self_decision"})
        raise Forbidden("self_approval", errors.SELF_DECISION)
    return found


def _decide(
    request_id: int, actor: User, *, approve: bool, reason: str, action: str
) -> AccessRequest:
    found = _owner_check(request_id, actor, action)
    with transaction.atomic():
        locked = AccessRequest.objects.select_for_update().get(pk=request_id)
        if locked.status != RequestStatus.PENDING:
            raise Conflict("basedata_request_decided", errors.NOT_PENDING, status_code=409)
        locked.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        dataset = found.dataset
        verdict = "已批准" if approve else "未获批准"
        _notify(
            found.requester,
            f"基础数据使用申请{verdict}：{dataset.name}",
            reason[:300] or verdict,
            f"basedata_decided:{locked.pk}",
        )
        record(
            "basedata.access_approved" if approve else "basedata.access_refused",
            actor=actor,
            obj=locked,
            detail={
                "dataset": dataset.source_id,
                "requester_id": found.requester_id,
                "unit_id": found.unit_id,
                "reason": reason[:500],
                "access_level": locked.access_level,
                "ends_on": locked.ends_on.isoformat(),
            },
        )
    return locked


def approve(request_id: int, actor: User, *, reason: str = "") -> AccessRequest:
    return _decide(request_id, actor, approve=True, reason=reason, action="basedata.approve")


def refuse(request_id: int, actor: User, *, reason: str) -> AccessRequest:
    return _decide(request_id, actor, approve=False, reason=reason, action="basedata.refuse")


def revoke(request_id: int, actor: User, *, reason: str) -> AccessRequest:
    """The owner's admin ends a grant before its period ends (misuse, the duty is over)."""
    found = _owner_check(request_id, actor, "basedata.revoke")
    with transaction.atomic():
        locked = AccessRequest.objects.select_for_update().get(pk=request_id)
        if locked.status != RequestStatus.APPROVED:
            raise Conflict("basedata_not_granted", errors.NOT_GRANTED, status_code=409)
        locked.status = RequestStatus.REVOKED
        locked.decision_reason = reason
        locked.save(update_fields=["status", "decision_reason"])
        _notify(
            found.requester,
            f"基础数据使用授权已收回：{found.dataset.name}",
            reason[:300],
            f"basedata_revoked:{locked.pk}",
        )
        record(
            "basedata.access_revoked",
            actor=actor,
            obj=locked,
            detail={
                "dataset": found.dataset.source_id,
                "requester_id": found.requester_id,
                "reason": reason[:500],
            },
        )
    return locked


# --- the proxy query ---------------------------------------------------------------------


def _check_parameters(dataset: Dataset, given: dict[str, Any]) -> dict[str, Any]:
    declared = {p["name"]: p for p in dataset.parameters}
    problems: dict[str, list[Msg]] = {}
    for name in sorted(set(given) - set(declared)):
        problems[name] = [Msg("该数据集不接受此参数。", "The dataset has no such parameter.")]
    for name, spec in declared.items():
        value = given.get(name)
        if value is None or value == "":
            if spec.get("required"):
                problems[name] = [Msg("必填。", "Required.")]
            continue
        if spec["type"] == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif spec["type"] == "date":
            ok = isinstance(value, str) and _is_date(value)
        else:
            ok = isinstance(value, str) and len(value) <= 200
        if not ok:
            problems[name] = [
                Msg(f"须为 {spec['type']} 类型。", f"Must be of type {spec['type']}.")
            ]
    if problems:
        raise ApiError("validation_error", fields={"parameters": [problems]})
    return {k: v for k, v in given.items() if v is not None and v != ""}


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _log(
    dataset: Dataset,
    actor: User,
    parameters: dict[str, Any],
    *,
    outcome: str,
    code: str = "",
    grant: AccessRequest | None = None,
    rows: int = 0,
    truncated: bool = False,
) -> QueryLog:
    return QueryLog.objects.create(
        dataset=dataset,
        user=actor,
        unit_id=actor.unit_id,
        grant=grant,
        parameters=parameters,
        access_level=grant.access_level if grant else "",
        outcome=outcome,
        code=code,
        rows_returned=rows,
        truncated=truncated,
        queried_at=timezone.now(),
    )


def run_query(
    actor: User, dataset_id: int, *, parameters: dict[str, Any], limit: int | None
) -> tuple[QueryLog, list[dict[str, Any]], Dataset]:
    """Check the grant, ask the platform, shape and mask the rows, log the query.

    A refusal is logged and audited before it is raised; so is a platform failure."""
    dataset = selectors.dataset_or_404(dataset_id)
    audit_params = masking.mask_parameters(parameters, dataset.parameters)
    cap = max_rows()
    if limit is not None and not 1 <= limit <= cap:
        raise _field_error("limit", f"须在 1–{cap} 之间。", f"Must be between 1 and {cap}.")
    grant, why = selectors.current_grant(actor, dataset)
    if grant is None:
        code = f"basedata_{why}"
        _log(dataset, actor, parameters, outcome=QueryOutcome.REFUSED, code=code)
        record_denied(
            "basedata.query",
            actor=actor,
            obj=dataset,
            unit_id=actor.unit_id,
            detail={"reason": why, "dataset": dataset.source_id, "parameters": audit_params},
        )
        raise errors.refused(code, errors.NO_GRANT if why == "no_grant" else errors.GRANT_EXPIRED)
    if not dataset.active:
        raise Conflict("basedata_dataset_retired", errors.DATASET_RETIRED, status_code=409)
    checked = _check_parameters(dataset, parameters)
    wanted = limit or min(DEFAULT_ROWS, cap)
    try:
        answer = platform.query(
            dataset.source_id,
            checked,
            wanted,
            requested_by={"user_id": actor.pk, "unit_code": actor.unit.code},
        )
    except (platform.NotConfigured, platform.Unavailable, platform.Refused) as exc:
        code, message, status = {
            platform.NotConfigured: ("basedata_not_configured", errors.NOT_CONFIGURED, 503),
            platform.Unavailable: ("basedata_unavailable", errors.UNAVAILABLE, 503),
            platform.Refused: ("basedata_upstream_error", errors.UPSTREAM, 502),
        }[type(exc)]
        _log(dataset, actor, checked, outcome=QueryOutcome.FAILED, code=code, grant=grant)
        record(
            "basedata.query_failed",
            actor=actor,
            obj=dataset,
            unit_id=actor.unit_id,
            result=AuditResult.FAILED,
            detail={"code": code, "dataset": dataset.source_id, "grant_id": grant.pk},
        )
        raise ApiError(code, message, status_code=status) from None
    rows = masking.shape_rows(
        answer.rows[:wanted], dataset.fields, masked=grant.access_level != AccessLevel.UNMASKED
    )
    truncated = answer.total > len(rows)
    with transaction.atomic():
        log = _log(
            dataset,
            actor,
            checked,
            outcome=QueryOutcome.OK,
            grant=grant,
            rows=len(rows),
            truncated=truncated,
        )
        record(
            "basedata.queried",
            actor=actor,
            obj=dataset,
            unit_id=actor.unit_id,
            detail={
                "dataset": dataset.source_id,
                "grant_id": grant.pk,
                "log_id": log.pk,
                "parameters": masking.mask_parameters(checked, dataset.parameters),
                "rows": len(rows),
                "access_level": grant.access_level,
            },
        )
    return log, rows, dataset
