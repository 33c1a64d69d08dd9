"""Every state change of the exchange (公文交换): dispatch, sign for, return, recall,
read, and the exchange groups. Docs: docs/exchange.md.

Each function is one transaction that locks what it changes and writes its audit
event in it. Checks that hide (404) or refuse (403) run first, outside any
transaction, and are recorded durably with ``record_denied``. Notifications to
hundreds of units are not sent here: the dispatch enqueues ``fan_out_dispatch`` on
commit (api/exchange/tasks.py), which is safe to run twice.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from api.accounts.models import Role, RoleAssignment, Unit, User
from api.accounts.roles import organisation_of
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.enqueue import enqueue_after_commit
from api.common.errors import ApiError, Conflict, Forbidden, message_for
from api.common.i18n import Msg, at_most, localise, not_found_ids, t
from api.documents.models import (
    Direction,
    Document,
    DocumentStatus,
    DocumentVersion,
    RenderedPdf,
)
from api.documents.selectors import document_or_404
from api.exchange import selectors
from api.exchange.models import (
    Dispatch,
    DispatchState,
    ExchangeGroup,
    Receipt,
    ReceiptRole,
    ReceiptState,
)

MAX_RECIPIENTS = 5000
# A document back with its drafter (draft, returned) or withdrawn: its sealed PDF is
# of a text that is being revised or was taken back, so it must not go out.
NOT_DISPATCHABLE = frozenset(
    {DocumentStatus.DRAFT, DocumentStatus.RETURNED, DocumentStatus.WITHDRAWN}
)
MAX_REASON = 500
MAX_GROUP_UNITS = 5000

# --- dispatch (分发) ------------------------------------------------------------------------


def sealed_rendering(document: Document) -> RenderedPdf | None:
    """The latest sealed rendering (docs/seals.md#the-seal-step: ``meta["sealed"]``)."""
    for rendering in RenderedPdf.objects.filter(document=document).order_by("-version"):
        if rendering.meta.get("sealed"):
            return rendering
    return None


@dataclass
class Recipients:
    """The validated addressees: unit id → role, in the order given (to first)."""

    roles: dict[int, str] = field(default_factory=dict)
    group_ids: list[int] = field(default_factory=list)


def _bad_units(code: str, by_field: dict[str, list[int]], status_code: int = 400) -> ApiError:
    named = {name: [str(i) for i in ids] for name, ids in by_field.items() if ids}
    every = sorted({i for ids in by_field.values() for i in ids})
    return ApiError(code, status_code=status_code, fields=named, extra={"unit_ids": every})


def clean_recipients(
    document: Document, to_units: list[int], cc_units: list[int], group_ids: list[int]
) -> Recipients:
    """Check the addressees before anything is written: every id a unit that exists
    (400 ``unit_not_found``) and takes part in the exchange (400
    ``unit_not_exchange_enabled``), none in both 主送 and 抄送 (400
    ``recipient_duplicated``), not the sending unit itself (400 ``own_unit_recipient``),
    groups that exist (400 ``group_not_found``), at least one recipient. A group's units
    are added as 主送 unless listed explicitly."""
    to_ids = list(dict.fromkeys(to_units))
    cc_ids = list(dict.fromkeys(cc_units))
    both = sorted(set(to_ids) & set(cc_ids))
    if both:
        raise _bad_units("recipient_duplicated", {"to_units": both, "cc_units": both})
    group_ids = list(dict.fromkeys(group_ids))
    groups = {g.pk: g for g in ExchangeGroup.objects.filter(pk__in=group_ids)}
    missing_groups = [g for g in group_ids if g not in groups]
    if missing_groups:
        raise ApiError(
            "group_not_found",
            fields={"groups": [not_found_ids(missing_groups)]},
            extra={"group_ids": missing_groups},
        )
    explicit = set(to_ids) | set(cc_ids)
    from_groups: list[int] = []
    if group_ids:
        through = ExchangeGroup.units.through
        for unit_id in (
            through.objects.filter(exchangegroup_id__in=group_ids)
            .order_by("exchangegroup_id", "unit_id")
            .values_list("unit_id", flat=True)
        ):
            if unit_id not in explicit and unit_id not in from_groups:
                from_groups.append(unit_id)
    wanted = to_ids + from_groups + cc_ids
    if not wanted:
        raise ApiError(
            "validation_error",
            fields={
                "to_units": [t("至少选择一个收文单位。", "Choose at least one recipient unit.")]
            },
        )
    if len(wanted) > MAX_RECIPIENTS:
        raise ApiError("validation_error", fields={"to_units": [at_most(MAX_RECIPIENTS)]})
    units = {
        u["pk"]: u
        for u in Unit.objects.filter(pk__in=wanted).values("pk", "is_active", "exchange_enabled")
    }
    missing = {
        "to_units": [i for i in to_ids if i not in units],
        "cc_units": [i for i in cc_ids if i not in units],
    }
    if any(missing.values()):
        raise _bad_units("unit_not_found", missing)
    closed = [i for i in wanted if not (units[i]["is_active"] and units[i]["exchange_enabled"])]
    if closed:
        raise _bad_units(
            "unit_not_exchange_enabled",
            {
                "to_units": [i for i in to_ids + from_groups if i in closed],
                "cc_units": [i for i in cc_ids if i in closed],
            },
        )
    own = {document.unit_id, organisation_of(document.unit).pk}
    mine = [i for i in wanted if i in own]
    if mine:
        raise _bad_units(
            "own_unit_recipient",
            {
                "to_units": [i for i in to_ids + from_groups if i in own],
                "cc_units": [i for i in cc_ids if i in own],
            },
        )
    roles: dict[int, str] = {i: ReceiptRole.TO.value for i in to_ids + from_groups}
    roles.update({i: ReceiptRole.CC.value for i in cc_ids})
    return Recipients(roles=roles, group_ids=group_ids)


def dispatch_document(
    document_id: int,
    actor: User,
    *,
    to_units: list[int],
    cc_units: list[int],
    group_ids: list[int] | None = None,
) -> Dispatch:
    """Send a sealed outgoing document to many units at once: the Dispatch and one
    Receipt per unit in one transaction (nothing half-sent), then the notification
    fan-out in the worker, enqueued on commit.

    Refusals: 404 (cannot see the document, recorded); 403 ``permission_denied`` (not
    a clerk or unit admin of the document's unit, recorded); 422
    ``document_not_outgoing``; the recipient codes of ``clean_recipients``; 409
    ``document_not_sealed``; 409 ``document_not_final`` (draft, returned or
    withdrawn since it was sealed); 409 ``already_dispatched``.

    When the document's flow is at its distribute step held by ``actor``, this is
    ``distribute_task``: the dispatch completes the step (docs/exchange.md#the-distribute-step)."""
    document = document_or_404(actor, document_id)
    if not selectors.may_send_for(actor, document.unit):
        record_denied(
            "exchange.dispatch", actor=actor, obj=document, detail={"reason": "not_clerk"}
        )
        raise Forbidden()
    if document.direction != Direction.OUTGOING:
        raise ApiError("document_not_outgoing", status_code=422)
    task_id = open_distribute_task_id(document, actor)
    if task_id is not None:
        # The flow is at its distribute step (分发), held by this clerk: the dispatch
        # completes the step, in one transaction (distribute_task).
        _task, dispatch = distribute_task(
            task_id, actor, to_units=to_units, cc_units=cc_units, group_ids=group_ids
        )
        return dispatch
    recipients = clean_recipients(document, to_units, cc_units, group_ids or [])
    with transaction.atomic():
        return create_dispatch(document.pk, actor, recipients)


def create_dispatch(document_id: int, actor: User, recipients: Recipients) -> Dispatch:
    """The Dispatch, one Receipt per unit and ``exchange.dispatched``, under a lock of
    the document row (inside the caller's transaction); the fan-out is enqueued on
    commit. 409 ``document_not_sealed`` / ``document_not_final`` /
    ``already_dispatched``."""
    try:
        with transaction.atomic():
            locked = Document.objects.select_for_update(no_key=True).get(pk=document_id)
            rendering = sealed_rendering(locked)
            if rendering is None:
                raise Conflict("document_not_sealed")
            if locked.status in NOT_DISPATCHABLE:
                raise Conflict("document_not_final", extra={"status": locked.status})
            existing = Dispatch.objects.filter(document=locked).first()
            if existing is not None:
                raise Conflict("already_dispatched", extra={"dispatch_id": existing.pk})
            now = timezone.now()
            dispatch = Dispatch.objects.create(
                document=locked,
                sender_unit=locked.unit,
                by=actor,
                created_at=now,
                rendering=rendering,
                group_ids=recipients.group_ids,
            )
            Receipt.objects.bulk_create(
                [
                    Receipt(dispatch=dispatch, unit_id=unit_id, role=role, sent_at=now)
                    for unit_id, role in recipients.roles.items()
                ],
                batch_size=500,
            )
            to_count = sum(1 for r in recipients.roles.values() if r == ReceiptRole.TO)
            record(
                "exchange.dispatched",
                actor=actor,
                obj=locked,
                detail={
                    "dispatch_id": dispatch.pk,
                    "to": to_count,
                    "cc": len(recipients.roles) - to_count,
                    "unit_ids": list(recipients.roles)[:1000],
                    "groups": recipients.group_ids,
                    "rendering_version": rendering.version,
                    "sha256": rendering.sha256,
                },
            )
            _fan_out_after_commit(dispatch.pk)
    except IntegrityError:
        # A concurrent dispatch of the same document won the one-to-one row.
        raise Conflict("already_dispatched") from None
    return dispatch


# --- the distribute step (分发) of the outgoing flow -----------------------------------------

RECIPIENT_SEPARATORS = re.compile(r"[，,、；;\s]+")


@dataclass
class DefaultRecipients:
    """Who the distribute step offers: the units named at submit
    (``participants.recipients``), else the document's 主送/抄送 lines matched to
    exchange units by name or short name; ``unmatched`` are names found no unit."""

    to_units: list[Unit] = field(default_factory=list)
    cc_units: list[Unit] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def _names(text: str) -> list[str]:
    names = [part.strip().strip("：:。.") for part in RECIPIENT_SEPARATORS.split(text or "")]
    return list(dict.fromkeys(name for name in names if name))


def default_recipients(document: Document, participants: dict[str, Any]) -> DefaultRecipients:
    own = {document.unit_id, organisation_of(document.unit).pk}
    usable = Unit.objects.filter(is_active=True, exchange_enabled=True).exclude(pk__in=own)
    chosen = [i for i in participants.get("recipients") or [] if isinstance(i, int)]
    if chosen:
        found = {u.pk: u for u in usable.filter(pk__in=chosen)}
        return DefaultRecipients(to_units=[found[i] for i in chosen if i in found])
    to_names, cc_names = _names(document.main_recipients), _names(document.cc)
    wanted = to_names + cc_names
    by_name: dict[str, Unit] = {}
    for unit in usable.filter(Q(name__in=wanted) | Q(short_name__in=wanted)).order_by("path"):
        by_name.setdefault(unit.name, unit)
        if unit.short_name:
            by_name.setdefault(unit.short_name, unit)
    result = DefaultRecipients()
    seen: set[int] = set()
    for names, target in ((to_names, result.to_units), (cc_names, result.cc_units)):
        for name in names:
            match = by_name.get(name)
            if match is None:
                result.unmatched.append(name)
            elif match.pk not in seen:
                seen.add(match.pk)
                target.append(match)
    return result


def open_distribute_task_id(document: Document, actor: User) -> int | None:
    """The open distribute task of the document's running flow that ``actor`` holds."""
    from api.workflow.models import InstanceState, StepKind, Task, TaskState

    return (
        Task.objects.filter(
            document=document,
            step_kind=StepKind.DISTRIBUTE,
            state=TaskState.OPEN,
            assignee=actor,
            instance__state=InstanceState.RUNNING,
        )
        .values_list("pk", flat=True)
        .first()
    )


def distribute_task(
    task_id: int,
    actor: User,
    *,
    to_units: list[int] | None = None,
    cc_units: list[int] | None = None,
    group_ids: list[int] | None = None,
) -> tuple[Any, Dispatch]:
    """The distribute step (分发) completed by the dispatch itself: in one transaction
    (the workflow's ``distribute_step``: instance and task locked first, then the
    document row) the Dispatch and its receipts are written and the task closes with
    "已分发", its ``detail`` naming the dispatch — or neither happens. No recipients
    given: the step's defaults (``default_recipients``). A document already
    dispatched (through ``POST documents/{id}/dispatch/`` by another clerk) completes
    the step with that dispatch. Refusals: 404 (not the actor's task); 422
    ``not_distribute_step``; 409 ``task_not_open``; 403 ``permission_denied`` (not a
    clerk of the unit, recorded); the refusals of ``dispatch_document``."""
    from api.workflow import actions as workflow

    sent: list[Dispatch] = []

    def send(task: Any, instance: Any) -> dict[str, Any]:
        document = Document.objects.select_related("unit").get(pk=instance.document_id)
        if not selectors.may_send_for(actor, document.unit):
            raise Forbidden()
        if document.direction != Direction.OUTGOING:
            raise ApiError("document_not_outgoing", status_code=422)
        existing = Dispatch.objects.filter(document=document).first()
        if existing is not None:
            sent.append(existing)
            return {"dispatch_id": existing.pk, "dispatched_before": True}
        to_ids, cc_ids, groups = list(to_units or []), list(cc_units or []), list(group_ids or [])
        if not (to_ids or cc_ids or groups):
            defaults = default_recipients(document, instance.participants or {})
            to_ids = [u.pk for u in defaults.to_units]
            cc_ids = [u.pk for u in defaults.cc_units]
        recipients = clean_recipients(document, to_ids, cc_ids, groups)
        dispatch = create_dispatch(document.pk, actor, recipients)
        sent.append(dispatch)
        return {
            "dispatch_id": dispatch.pk,
            "recipient_units": [i for i, r in recipients.roles.items() if r == ReceiptRole.TO],
            "cc_units": [i for i, r in recipients.roles.items() if r == ReceiptRole.CC],
        }

    try:
        task = workflow.distribute_step(task_id, actor, send)
    except Forbidden:
        record_denied(
            "exchange.dispatch",
            actor=actor,
            object_type="workflow.task",
            object_id=task_id,
            detail={"reason": "not_clerk"},
        )
        raise
    return task, sent[-1]


def _fan_out_after_commit(dispatch_id: int) -> None:
    """A broker outage is logged, never turned into an error of the committed dispatch
    (api/common/enqueue.py); the task is idempotent and ``requeue_unsent`` picks up what
    was never fanned out."""
    enqueue_after_commit("api.exchange.tasks.fan_out_dispatch", dispatch_id)


# --- notifications ----------------------------------------------------------------------


def clerks_by_unit(unit_ids: list[int]) -> dict[int, list[User]]:
    """The active clerks of each unit (its unit admins where it has no clerk), in one
    query."""
    rows = (
        RoleAssignment.objects.filter(
            unit_id__in=unit_ids, role__in=(Role.CLERK, Role.UNIT_ADMIN), user__is_active=True
        )
        .select_related("user")
        .order_by("unit_id", "user_id")
    )
    clerks: dict[int, list[User]] = {}
    admins: dict[int, list[User]] = {}
    for row in rows:
        target = clerks if row.role == Role.CLERK else admins
        target.setdefault(row.unit_id, []).append(row.user)
    return {unit_id: clerks.get(unit_id) or admins.get(unit_id, []) for unit_id in unit_ids}


def _notify(user: User, receipt: Receipt, document: Document, title: str, key: str) -> None:
    from api.notify.actions import notify, urgency_of_document

    role = ReceiptRole(receipt.role).label
    number = f" {document.doc_number}" if document.doc_number else ""
    notify(
        recipient=user,
        kind="exchange",
        title=title,
        body=f"《{document.title}》{number}（{role}）",
        urgency=urgency_of_document(document.urgency),
        dedup_key=key,
    )


def notify_receipt(receipt_id: int, clerks: list[User]) -> bool:
    """Tell the receiving unit's clerks about one pending receipt, once: the receipt
    row is locked, skipped when already notified or no longer pending, and the dedup
    key ``exchange:{receipt id}`` makes a repeat a no-op. True when it notified."""
    with transaction.atomic():
        receipt = (
            Receipt.objects.select_for_update(of=("self",), no_key=True)
            .select_related("dispatch__document", "dispatch__sender_unit")
            .filter(pk=receipt_id)
            .first()
        )
        if receipt is None or receipt.notified_at or receipt.state != ReceiptState.PENDING:
            return False
        document = receipt.dispatch.document
        sender = receipt.dispatch.sender_unit
        title = f"公文交换：{sender.short_name or sender.name}来文待签收"
        for clerk in clerks:
            _notify(clerk, receipt, document, title, f"exchange:{receipt.pk}")
        Receipt.objects.filter(pk=receipt.pk).update(notified_at=timezone.now())
        return True


# --- the recipient side -------------------------------------------------------------------


def _recipient_only(receipt: Receipt, side: str, actor: User, action: str) -> None:
    if side != "recipient":
        record_denied(
            action,
            actor=actor,
            obj=receipt,
            unit_id=receipt.unit_id,
            detail={"reason": "not_receiving_clerk", "receipt_id": receipt.pk},
        )
        raise Forbidden()


def _require_pending(receipt: Receipt) -> None:
    if receipt.state == ReceiptState.SIGNED_FOR:
        raise Conflict(
            "already_signed_for",
            extra={
                "signed_for_at": client_datetime(receipt.signed_for_at),
                "signed_for_by": receipt.signed_for_by_id,
            },
        )
    if receipt.state != ReceiptState.PENDING:
        raise Conflict("receipt_not_pending", extra={"state": receipt.state})


def _lock_receipt(receipt_id: int) -> Receipt:
    return (
        Receipt.objects.select_for_update(of=("self",), no_key=True)
        .select_related("dispatch__document", "dispatch__rendering", "dispatch__sender_unit")
        .get(pk=receipt_id)
    )


def open_receipt(receipt_id: int, actor: User) -> tuple[Receipt, str]:
    """The receipt as ``actor`` sees it; the receiving side's first look sets
    ``read_at`` (compare-and-set, audited ``exchange.read`` once)."""
    receipt, side = selectors.receipt_or_404(actor, receipt_id, "exchange.view")
    if side == "recipient" and receipt.read_at is None:
        with transaction.atomic():
            now = timezone.now()
            if Receipt.objects.filter(pk=receipt.pk, read_at__isnull=True).update(
                read_at=now, read_by=actor
            ):
                record(
                    "exchange.read",
                    actor=actor,
                    obj=receipt,
                    unit_id=receipt.unit_id,
                    detail={"receipt_id": receipt.pk, "document_id": receipt.dispatch.document_id},
                )
        receipt.refresh_from_db(fields=["read_at", "read_by"])
    return receipt, side


@dataclass
class SignResult:
    receipt: Receipt
    flow: dict[str, Any]


def sign_for(
    receipt_id: int,
    actor: User,
    *,
    template_id: int | None = None,
    participants: dict[str, Any] | None = None,
) -> SignResult:
    """签收: the receiving clerk signs for a pending receipt (time recorded). In the
    same transaction the incoming document (收文) is created in the receiving unit — a
    copy of the original's fields whose PDF is the original's sealed rendering — and
    the receipt links to it. Then, in a transaction of its own, the unit's incoming
    flow is started (``template_id`` or the nearest active incoming template of the
    unit or its ancestors, with ``participants`` for its choice steps); when that
    cannot be done the document stays registered as a draft and ``flow`` says why.

    Refusals: 404 (recorded); 403 (the sending side, recorded); 409
    ``already_signed_for``; 409 ``receipt_not_pending`` (returned or recalled)."""
    seen, side = selectors.receipt_or_404(actor, receipt_id, "exchange.sign")
    _recipient_only(seen, side, actor, "exchange.sign")
    with transaction.atomic():
        receipt = _lock_receipt(seen.pk)
        _require_pending(receipt)
        now = timezone.now()
        incoming = _register_incoming(receipt, actor, now)
        receipt.state = ReceiptState.SIGNED_FOR
        receipt.signed_for_at = now
        receipt.signed_for_by = actor
        receipt.incoming_document = incoming
        fields = ["state", "signed_for_at", "signed_for_by", "incoming_document"]
        if receipt.read_at is None:
            receipt.read_at, receipt.read_by = now, actor
            fields += ["read_at", "read_by"]
        receipt.save(update_fields=fields)
        record(
            "exchange.signed_for",
            actor=actor,
            obj=receipt,
            unit_id=receipt.unit_id,
            detail={
                "receipt_id": receipt.pk,
                "dispatch_id": receipt.dispatch_id,
                "document_id": receipt.dispatch.document_id,
                "incoming_document_id": incoming.pk,
            },
        )
    flow = start_incoming_flow(incoming, actor, template_id, participants)
    if flow.get("instance_id"):
        Receipt.objects.filter(pk=receipt.pk).update(incoming_instance_id=flow["instance_id"])
    receipt = selectors.receipts_with_refs().get(pk=receipt.pk)
    return SignResult(receipt, flow)


COPIED_FIELDS = (
    "title",
    "doc_type",
    "urgency",
    "body",
    "main_recipients",
    "cc",
    "header_text",
)


def _register_incoming(receipt: Receipt, actor: User, now: Any) -> Document:
    """The incoming copy in the receiving unit (登记), with the original's sealed PDF
    as its rendering (the same stored file, content-addressed; it is never rewritten)."""
    original = receipt.dispatch.document
    values = {name: getattr(original, name) for name in COPIED_FIELDS}
    incoming = Document.objects.create(
        direction=Direction.INCOMING,
        unit_id=receipt.unit_id,
        drafter=actor,
        status=DocumentStatus.DRAFT,
        version=1,
        created_at=now,
        updated_at=now,
        **values,
    )
    DocumentVersion.objects.create(
        document=incoming,
        version=1,
        edited_by=actor,
        edited_at=now,
        changed_fields=["created", "received"],
        snapshot=incoming.snapshot([]),
    )
    sealed = receipt.dispatch.rendering
    if sealed is not None:  # a reply (答复) has none: its text is the body
        RenderedPdf.objects.create(
            document=incoming,
            version=1,
            document_version=1,
            sha256=sealed.sha256,
            path=sealed.path,
            size=sealed.size,
            meta={
                **sealed.meta,
                "kind": "received",
                "sealed": True,
                "received_from": {
                    "document_id": original.pk,
                    "rendering_version": sealed.version,
                    "receipt_id": receipt.pk,
                    "doc_number": original.doc_number,
                },
            },
            created_at=now,
        )
    record(
        "document.created",
        actor=actor,
        obj=incoming,
        detail={
            "direction": incoming.direction,
            "doc_type": incoming.doc_type,
            "version": 1,
            "received_from_document": original.pk,
            "receipt_id": receipt.pk,
        },
    )
    return incoming


def incoming_template(unit: Unit, doc_type: str) -> Any:
    """The active incoming template nearest to ``unit`` (its own, else the closest
    ancestor's) that accepts ``doc_type``; None when there is none."""
    from api.workflow.models import WorkflowTemplate

    ancestor_ids = [int(step) for step in unit.path.split(".") if step]
    candidates = (
        WorkflowTemplate.objects.select_related("unit")
        .filter(unit_id__in=ancestor_ids, direction="incoming", is_active=True)
        .order_by("-unit__depth", "-id")
    )
    for template in candidates:
        if not template.doc_types or doc_type in template.doc_types:
            return template
    return None


def start_incoming_flow(
    document: Document,
    actor: User,
    template_id: int | None,
    participants: dict[str, Any] | None,
) -> dict[str, Any]:
    """Submit the incoming document into the unit's incoming flow, and complete its
    first step when it is the signer's own sign-for step (签收 already happened).
    Never raises a refusal: the answer says whether the flow started and why not."""
    from api.workflow import actions as workflow
    from api.workflow.models import StepKind, Task, TaskState

    document = Document.objects.select_related("unit").get(pk=document.pk)
    template = None
    if template_id is None:
        template = incoming_template(document.unit, document.doc_type)
        if template is None:
            return {
                "started": False,
                "template_id": None,
                "instance_id": None,
                "code": "no_incoming_template",
                "message": message_for("no_incoming_template"),
            }
        template_id = template.pk
    try:
        instance = workflow.submit(document.pk, actor, template_id, participants or {})
    except ApiError as problem:
        return {
            "started": False,
            "template_id": template_id,
            "instance_id": None,
            "code": problem.code,
            "message": str(problem.message or message_for(problem.code)),
            "fields": localise(problem.fields or {}),
        }
    first = Task.objects.filter(instance=instance, state=TaskState.OPEN).order_by("id").first()
    if first is not None and first.step_kind == StepKind.SIGN_FOR and first.assignee_id == actor.pk:
        # The task was just opened for the actor; a refusal here would only mean
        # someone else acted in between, and the flow is started either way.
        with contextlib.suppress(ApiError):
            workflow.approve(first.pk, actor, "已签收")
    return {
        "started": True,
        "template_id": template_id,
        "instance_id": instance.pk,
        "code": None,
        "message": t("已启动本单位收文流程。", "The unit's incoming flow has started."),
    }


def return_receipt(receipt_id: int, actor: User, reason: str) -> Receipt:
    """退文: the receiving clerk returns a pending receipt with a reason (422
    ``reason_required`` without one); the dispatching clerk is notified."""
    seen, side = selectors.receipt_or_404(actor, receipt_id, "exchange.return")
    _recipient_only(seen, side, actor, "exchange.return")
    reason = (reason or "").strip()
    if not reason:
        raise ApiError("reason_required", status_code=422)
    if len(reason) > MAX_REASON:
        raise ApiError("validation_error", fields={"reason": [at_most(MAX_REASON)]})
    with transaction.atomic():
        receipt = _lock_receipt(seen.pk)
        _require_pending(receipt)
        now = timezone.now()
        receipt.state = ReceiptState.RETURNED
        receipt.returned_at, receipt.returned_by, receipt.return_reason = now, actor, reason
        fields = ["state", "returned_at", "returned_by", "return_reason"]
        if receipt.read_at is None:
            receipt.read_at, receipt.read_by = now, actor
            fields += ["read_at", "read_by"]
        receipt.save(update_fields=fields)
        unit = seen.unit
        document = receipt.dispatch.document
        _notify(
            receipt.dispatch.by,
            receipt,
            document,
            f"公文交换：{unit.short_name or unit.name}退文：{reason[:60]}",
            f"exchange_returned:{receipt.pk}",
        )
        record(
            "exchange.returned",
            actor=actor,
            obj=receipt,
            unit_id=receipt.unit_id,
            detail={"receipt_id": receipt.pk, "document_id": document.pk, "reason": reason},
        )
    return selectors.receipts_with_refs().get(pk=receipt.pk)


# --- results of the incoming flow, back to the sender (初审 退回, 答复) -------------------


def _incoming_receipt(document_id: int) -> Receipt | None:
    """The receipt whose sign-for registered ``document_id``, locked (rows 5 of the
    lock order: after the workflow's instance and tasks)."""
    return (
        Receipt.objects.select_for_update(of=("self",), no_key=True)
        .select_related("unit", "dispatch__document", "dispatch__by", "dispatch__sender_unit")
        .filter(incoming_document_id=document_id)
        .first()
    )


def flow_returned_to_sender(task: Any, actor: User, reason: str, now: Any) -> dict[str, Any]:
    """The receiving unit's incoming flow returned the document to its sender (e.g. at
    初审): the sender's receipt becomes ``returned`` with the reason and the step, and
    the dispatching clerk is notified. Runs inside the workflow's return (its
    transaction). Nothing to do for a document that did not come through the exchange
    or whose receipt is no longer signed for. Returns what the task's detail keeps."""
    receipt = _incoming_receipt(task.document_id)
    if receipt is None or receipt.state != ReceiptState.SIGNED_FOR:
        return {}
    receipt.state = ReceiptState.RETURNED
    receipt.returned_at, receipt.returned_by, receipt.return_reason = (
        now,
        actor,
        reason[:MAX_REASON],
    )
    receipt.returned_at_step = task.step_kind
    receipt.save(
        update_fields=["state", "returned_at", "returned_by", "return_reason", "returned_at_step"]
    )
    unit = receipt.unit
    document = receipt.dispatch.document
    _notify(
        receipt.dispatch.by,
        receipt,
        document,
        f"公文交换：{unit.short_name or unit.name}{task.step_name}退回：{reason[:60]}",
        f"exchange_returned:{receipt.pk}",
    )
    record(
        "exchange.returned",
        actor=actor,
        obj=receipt,
        unit_id=receipt.unit_id,
        detail={
            "receipt_id": receipt.pk,
            "document_id": document.pk,
            "reason": reason[:MAX_REASON],
            "step": task.step_kind,
            "incoming_document_id": task.document_id,
        },
    )
    return {"receipt_id": receipt.pk}


def send_reply(task: Any, actor: User, text: str, now: Any) -> dict[str, Any]:
    """答复: the receiving unit's reply goes back through the exchange — a reply
    document (函) of the receiving unit, dispatched to the sending unit alone, its
    receipt linked to the original one (``reply_receipt`` / ``in_reply_to``) and
    waiting in the sender's inbox; the original receipt keeps the text. Runs inside the
    workflow's approval of the 答复 task. Once per receipt: a repeat answers the same
    reply. Nothing to do for a document that did not come through the exchange."""
    receipt = _incoming_receipt(task.document_id)
    if receipt is None:
        return {}
    if receipt.reply_receipt_id is not None:
        return {"reply_receipt_id": receipt.reply_receipt_id}
    original = receipt.dispatch.document
    sender_unit = receipt.dispatch.sender_unit
    title = f"关于《{original.title}》的答复"
    max_title = Document._meta.get_field("title").max_length or 200
    reply_document = Document.objects.create(
        direction=Direction.OUTGOING,
        unit_id=receipt.unit_id,
        drafter=actor,
        status=DocumentStatus.COMPLETED,
        version=1,
        title=title[:max_title],
        doc_type="letter",
        urgency=original.urgency,
        body=[{"level": 0, "text": text}],
        main_recipients=sender_unit.name,
        created_at=now,
        updated_at=now,
    )
    DocumentVersion.objects.create(
        document=reply_document,
        version=1,
        edited_by=actor,
        edited_at=now,
        changed_fields=["created", "reply"],
        snapshot=reply_document.snapshot([]),
    )
    record(
        "document.created",
        actor=actor,
        obj=reply_document,
        detail={
            "direction": reply_document.direction,
            "doc_type": reply_document.doc_type,
            "version": 1,
            "reply_to_receipt": receipt.pk,
        },
    )
    dispatch = Dispatch.objects.create(
        document=reply_document,
        sender_unit_id=receipt.unit_id,
        by=actor,
        created_at=now,
        rendering=None,
    )
    reply = Receipt.objects.create(
        dispatch=dispatch, unit=sender_unit, role=ReceiptRole.TO, sent_at=now
    )
    receipt.replied_at, receipt.reply_text, receipt.reply_receipt = now, text, reply
    receipt.save(update_fields=["replied_at", "reply_text", "reply_receipt"])
    unit = receipt.unit
    _notify(
        receipt.dispatch.by,
        receipt,
        original,
        f"公文交换：{unit.short_name or unit.name}答复：{text[:60]}",
        f"exchange_replied:{receipt.pk}",
    )
    record(
        "exchange.replied",
        actor=actor,
        obj=receipt,
        unit_id=receipt.unit_id,
        detail={
            "receipt_id": receipt.pk,
            "document_id": original.pk,
            "reply_receipt_id": reply.pk,
            "reply_dispatch_id": dispatch.pk,
            "reply_document_id": reply_document.pk,
        },
    )
    _fan_out_after_commit(dispatch.pk)
    return {"reply_receipt_id": reply.pk, "reply_document_id": reply_document.pk}


# --- the sender side ----------------------------------------------------------------------


def recall(receipt_id: int, actor: User) -> Receipt:
    """撤回: the sending unit's clerk recalls one receipt before it is signed for (409
    ``already_signed_for`` after). Recipients already told about it are told again."""
    seen, side = selectors.receipt_or_404(actor, receipt_id, "exchange.recall")
    if side != "sender":
        record_denied(
            "exchange.recall",
            actor=actor,
            obj=seen,
            unit_id=seen.unit_id,
            detail={"reason": "not_sending_clerk", "receipt_id": seen.pk},
        )
        raise Forbidden()
    with transaction.atomic():
        receipt = _lock_receipt(seen.pk)
        _require_pending(receipt)
        now = timezone.now()
        receipt.state, receipt.recalled_at, receipt.recalled_by = ReceiptState.RECALLED, now, actor
        receipt.save(update_fields=["state", "recalled_at", "recalled_by"])
        document = receipt.dispatch.document
        if receipt.notified_at is not None:
            sender = receipt.dispatch.sender_unit
            for clerk in clerks_by_unit([receipt.unit_id])[receipt.unit_id]:
                _notify(
                    clerk,
                    receipt,
                    document,
                    f"公文交换：{sender.short_name or sender.name}已撤回来文",
                    f"exchange_recalled:{receipt.pk}",
                )
        record(
            "exchange.recalled",
            actor=actor,
            obj=document,
            detail={"receipt_id": receipt.pk, "unit_id": receipt.unit_id},
        )
    return selectors.receipts_with_refs().get(pk=receipt.pk)


def mark_fanned_out(dispatch_id: int) -> bool:
    return bool(
        Dispatch.objects.filter(pk=dispatch_id, state=DispatchState.SENDING).update(
            state=DispatchState.SENT, fanned_out_at=timezone.now()
        )
    )


# --- exchange groups (city IT admins) -----------------------------------------------------


def _require_group_admin(actor: User, action: str, group: ExchangeGroup | None = None) -> None:
    if not selectors.may_manage_groups(actor):
        record_denied(
            action,
            actor=actor,
            obj=group,
            object_type="" if group else "exchange.exchangegroup",
            detail={"reason": "not_city_it_admin"},
        )
        raise Forbidden()


def _group_units(unit_ids: list[int]) -> list[int]:
    ids = list(dict.fromkeys(unit_ids))
    if len(ids) > MAX_GROUP_UNITS:
        raise ApiError("validation_error", fields={"unit_ids": [at_most(MAX_GROUP_UNITS)]})
    known = set(Unit.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in known]
    if missing:
        raise _bad_units("unit_not_found", {"unit_ids": missing})
    return ids


def _name_taken(name: str) -> Msg:
    return Msg(f"名称“{name}”已被使用。", f"The name “{name}” is already taken.")


def _unique_name(name: str, exclude: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ApiError("validation_error", fields={"name": [t("必填。", "Required.")]})
    taken = ExchangeGroup.objects.filter(name=name).exclude(pk=exclude or 0).exists()
    if taken:
        raise ApiError("group_name_taken", status_code=409, fields={"name": [_name_taken(name)]})
    return name


def _name_race(name: str | None) -> ApiError | None:
    """After an IntegrityError: the 409 of ``_unique_name`` when the cause is a group of
    that name committed between the check and the write (two admins at once)."""
    name = (name or "").strip()
    if name and ExchangeGroup.objects.filter(name=name).exists():
        return ApiError("group_name_taken", status_code=409, fields={"name": [_name_taken(name)]})
    return None


def create_group(actor: User, name: str, unit_ids: list[int]) -> ExchangeGroup:
    _require_group_admin(actor, "exchange.group_create")
    ids = _group_units(unit_ids)
    try:
        with transaction.atomic():
            group = ExchangeGroup.objects.create(name=_unique_name(name))
            group.units.set(ids)
            record(
                "exchange.group_created",
                actor=actor,
                obj=group,
                detail={"name": group.name, "unit_ids": ids},
            )
    except IntegrityError:
        problem = _name_race(name)
        if problem is None:
            raise
        raise problem from None
    return group


def update_group(
    actor: User, group_id: int, name: str | None, unit_ids: list[int] | None
) -> ExchangeGroup:
    group = ExchangeGroup.objects.filter(pk=group_id).first()
    _require_group_admin(actor, "exchange.group_update", group)
    if group is None:
        from api.common.errors import NotFound

        raise NotFound()
    ids = _group_units(unit_ids) if unit_ids is not None else None
    try:
        with transaction.atomic():
            group = ExchangeGroup.objects.select_for_update().get(pk=group_id)
            changed: dict[str, Any] = {}
            if name is not None and name.strip() != group.name:
                group.name = _unique_name(name, exclude=group.pk)
                changed["name"] = group.name
            if ids is not None:
                group.units.set(ids)
                changed["unit_ids"] = ids
            group.updated_at = timezone.now()
            group.save(update_fields=["name", "updated_at"])
            record("exchange.group_updated", actor=actor, obj=group, detail=changed)
    except IntegrityError:
        problem = _name_race(name)
        if problem is None:
            raise
        raise problem from None
    return group


def delete_group(actor: User, group_id: int) -> None:
    group = ExchangeGroup.objects.filter(pk=group_id).first()
    _require_group_admin(actor, "exchange.group_delete", group)
    if group is None:
        from api.common.errors import NotFound

        raise NotFound()
    with transaction.atomic():
        record(
            "exchange.group_deleted",
            actor=actor,
            object_type="exchange.exchangegroup",
            object_id=group.pk,
            detail={"name": group.name},
        )
        group.delete()
