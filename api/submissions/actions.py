"""Every state change of 信息报送: draft, approve, submit, adopt, merge, return,
issues (create, approve, publish), instructions, calls and their urging, scoring
rules. Docs: docs/submissions.md.

Each function is one transaction that locks the rows it changes and writes its audit
event in it; refusals (404 outside scope, 403) are recorded durably with
``record_denied`` before the error is raised, outside any transaction. Points are
written by ``_score`` in the decision's own transaction, one ``ScoreEntry`` per event
(its unique ``key`` makes a repeat impossible) naming the rule that gave them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from api.accounts.models import Role, RoleAssignment, Unit, User
from api.audit.recorder import record, record_denied
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict, Forbidden, NotFound
from api.common.i18n import between, not_found_ids, t
from api.common.search import search_document
from api.submissions import selectors
from api.submissions.models import (
    Call,
    Delivery,
    DeliveryState,
    EditorialOffice,
    Instruction,
    IssueState,
    Journal,
    JournalCounter,
    JournalIssue,
    ScoreEntry,
    ScoreEvent,
    ScoringRule,
    Submission,
    SubmissionState,
)

# The documented default (docs/submissions.md#scoring), written as rows the first time
# an office scores in a year; change the rows, not this table.
DEFAULT_POINTS: dict[str, int] = {
    ScoreEvent.ADOPTED: 10,
    ScoreEvent.MERGED: 5,
    ScoreEvent.INSTRUCTION: 20,
    ScoreEvent.LATE_ANSWER: -2,
}
MAX_OFFICES = 20
MAX_UNITS = 1000


def _deny(action: str, actor: User, *, status: int, obj: Any = None, **detail: Any) -> ApiError:
    record_denied(action, actor=actor, obj=obj, detail=detail)
    return NotFound() if status == 404 else Forbidden()


def _submission_or_404(actor: User, submission_id: int, action: str) -> Submission:
    submission = selectors.submission_or_none(actor, submission_id)
    if submission is None:
        raise _deny(action, actor, status=404, submission_id=submission_id)
    return submission


def _office_or_404(actor: User, office_id: int, action: str) -> EditorialOffice:
    office = EditorialOffice.objects.filter(pk=office_id).first()
    if office is None:
        raise _deny(action, actor, status=404, office_id=office_id)
    return office


def _require_editor(actor: User, office_id: int, action: str, obj: Any = None) -> None:
    if not selectors.is_editor(actor, office_id):
        raise _deny(action, actor, status=403, obj=obj, office_id=office_id, reason="not_editor")


def _notify_unit(submission: Submission, title: str, body: str, key: str) -> None:
    from api.notify.actions import notify

    notify(
        recipient=submission.author,
        kind="system",
        title=title,
        body=body,
        dedup_key=key,
    )


# --- scoring ------------------------------------------------------------------------------


def rule_for(office_id: int, year: int, event: str) -> ScoringRule:
    """The office's rule for ``event`` in ``year``, created from DEFAULT_POINTS the
    first time (a concurrent creation is tolerated)."""
    rule = ScoringRule.objects.filter(office_id=office_id, year=year, event=event).first()
    if rule is not None:
        return rule
    try:
        with transaction.atomic():
            return ScoringRule.objects.create(
                office_id=office_id,
                year=year,
                event=event,
                points=DEFAULT_POINTS[event],
                note="default",
            )
    except IntegrityError:
        return ScoringRule.objects.get(office_id=office_id, year=year, event=event)


def _score(
    delivery: Delivery,
    event: str,
    key: str,
    when: datetime,
    instruction: Instruction | None = None,
) -> ScoreEntry:
    local = timezone.localtime(when)
    rule = rule_for(delivery.office_id, local.year, event)
    return ScoreEntry.objects.create(
        unit_id=delivery.submission.unit_id,
        year=local.year,
        month=local.month,
        rule=rule,
        event=event,
        points=rule.points,
        delivery=delivery,
        instruction=instruction,
        key=key,
        created_at=when,
    )


def set_rule(
    actor: User, office_id: int, year: int, event: str, points: int, note: str = ""
) -> ScoringRule:
    """An editor of the office sets the points of one event for one year. Entries
    already written keep their points (they name the rule and carry the points they
    gave); the new value applies from now on."""
    _office_or_404(actor, office_id, "submissions.rule_set")
    _require_editor(actor, office_id, "submissions.rule_set")
    with transaction.atomic():
        rule = rule_for(office_id, year, event)
        rule = ScoringRule.objects.select_for_update().get(pk=rule.pk)
        before = rule.points
        rule.points = points
        rule.note = note[:200]
        rule.save(update_fields=["points", "note"])
        record(
            "submissions.rule_set",
            actor=actor,
            obj=rule,
            detail={
                "office_id": office_id,
                "year": year,
                "event": event,
                "from": before,
                "to": points,
            },
        )
    return rule


# --- the unit's side ----------------------------------------------------------------------


def create_submission(
    actor: User,
    *,
    title: str,
    body: str,
    category: str = "",
    contact: str = "",
    call_id: int | None = None,
    attachment_ids: list[int] | None = None,
) -> Submission:
    """A clerk (or unit admin) of the actor's unit drafts an item (403 otherwise). A
    call must ask the actor's unit (404 otherwise)."""
    if not selectors.may_draft(actor, actor.unit_id):
        raise _deny("submissions.create", actor, status=403, reason="not_clerk")
    call = None
    if call_id is not None:
        call = Call.objects.filter(pk=call_id, units=actor.unit_id).first()
        if call is None:
            raise _deny("submissions.create", actor, status=404, call_id=call_id)
    with transaction.atomic():
        submission = Submission.objects.create(
            unit_id=actor.unit_id,
            author=actor,
            title=title,
            body=body,
            category=category,
            contact=contact,
            call=call,
            attachment_ids=attachment_ids or [],
            search_text=search_document(title, body),
        )
        record("submissions.created", actor=actor, obj=submission, detail={"title": title[:100]})
    return submission


def approve_submission(submission_id: int, actor: User) -> Submission:
    """The unit's leader approves the item for sending (签发报送)."""
    submission = _submission_or_404(actor, submission_id, "submissions.approve")
    if not selectors.is_unit_leader(actor, submission.unit_id):
        raise _deny("submissions.approve", actor, status=403, obj=submission, reason="not_leader")
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.state != SubmissionState.DRAFT:
            raise Conflict(
                "submission_not_draft",
                t("该信息已审核。", "The item is not a draft."),
                extra={"state": locked.state},
            )
        locked.state = SubmissionState.APPROVED
        locked.approved_by = actor
        locked.approved_at = timezone.now()
        locked.save(update_fields=["state", "approved_by", "approved_at"])
        record("submissions.approved", actor=actor, obj=locked)
    return locked


def submit_submission(submission_id: int, actor: User, office_ids: list[int]) -> list[Delivery]:
    """Send an approved item to one or more editorial offices. 409
    ``duplicate_submission`` when it already went to one of them (nothing is sent);
    409 ``submission_not_approved`` before the leader's approval."""
    submission = _submission_or_404(actor, submission_id, "submissions.submit")
    if not selectors.may_draft(actor, submission.unit_id):
        raise _deny("submissions.submit", actor, status=403, obj=submission, reason="not_clerk")
    wanted = list(dict.fromkeys(office_ids))
    if not wanted or len(wanted) > MAX_OFFICES:
        raise ApiError("validation_error", fields={"offices": [between(1, MAX_OFFICES)]})
    found = set(EditorialOffice.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [o for o in wanted if o not in found]
    if missing:
        raise ApiError(
            "office_not_found",
            t("编辑部门不存在。", "No such editorial office."),
            fields={"offices": [not_found_ids(missing)]},
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("call")
                .get(pk=submission.pk)
            )
            if locked.state == SubmissionState.DRAFT:
                raise Conflict(
                    "submission_not_approved",
                    t("须经单位领导审核后报送。", "The unit's leader must approve the item first."),
                )
            already = sorted(
                Delivery.objects.filter(submission=locked, office_id__in=wanted).values_list(
                    "office_id", flat=True
                )
            )
            if already:
                raise Conflict(
                    "duplicate_submission",
                    t(
                        "该信息已报送至该编辑部门。",
                        "The item was already submitted to that office.",
                    ),
                    extra={"office_ids": already},
                )
            deliveries = []
            for office_id in wanted:
                late = bool(
                    locked.call
                    and locked.call.office_id == office_id
                    and now > locked.call.deadline
                )
                delivery = Delivery.objects.create(
                    submission=locked, office_id=office_id, submitted_at=now, late=late
                )
                delivery.submission = locked
                if late:
                    _score(delivery, ScoreEvent.LATE_ANSWER, f"late:{delivery.pk}", now)
                deliveries.append(delivery)
            locked.state = SubmissionState.SUBMITTED
            locked.submitted_at = locked.submitted_at or now
            locked.save(update_fields=["state", "submitted_at"])
            record("submissions.submitted", actor=actor, obj=locked, detail={"office_ids": wanted})
    except IntegrityError:
        raise Conflict("duplicate_submission") from None
    return deliveries


# --- the editors' side --------------------------------------------------------------------


def _delivery_for_decision(
    actor: User, submission_id: int, office_id: int, action: str
) -> Delivery:
    submission = _submission_or_404(actor, submission_id, action)
    delivery = Delivery.objects.filter(submission=submission, office_id=office_id).first()
    if delivery is None:
        raise _deny(action, actor, status=404, obj=submission, office_id=office_id)
    _require_editor(actor, office_id, action, obj=submission)
    return delivery


def _lock_pending(delivery_id: int) -> Delivery:
    locked = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("submission__author")
        .get(pk=delivery_id)
    )
    if locked.state != DeliveryState.PENDING:
        raise Conflict(
            "already_decided",
            t("该信息已处理。", "The item was already decided."),
            extra={"state": locked.state},
        )
    return locked


def _issue_for_editing(actor: User, issue_id: int, office_id: int, action: str) -> JournalIssue:
    issue = JournalIssue.objects.select_related("journal").filter(pk=issue_id).first()
    if issue is None or issue.journal.office_id != office_id:
        raise _deny(action, actor, status=404, issue_id=issue_id)
    return issue


def adopt(
    submission_id: int, actor: User, *, office_id: int, issue_id: int, notify: bool = True
) -> Delivery:
    """采用: the item goes into a compiling issue of the office's journal, last in
    order; the unit scores the ``adopted`` rule and is notified."""
    delivery = _delivery_for_decision(actor, submission_id, office_id, "submissions.adopt")
    issue = _issue_for_editing(actor, issue_id, office_id, "submissions.adopt")
    now = timezone.now()
    with transaction.atomic():
        locked_issue = JournalIssue.objects.select_for_update().get(pk=issue.pk)
        if locked_issue.state != IssueState.COMPILING:
            raise Conflict(
                "issue_not_compiling", t("该期已定稿。", "The issue is no longer being compiled.")
            )
        locked = _lock_pending(delivery.pk)
        last = Delivery.objects.filter(issue=locked_issue).aggregate(m=Max("position"))["m"] or 0
        locked.state = DeliveryState.ADOPTED
        locked.issue = locked_issue
        locked.position = last + 1
        locked.decided_by = actor
        locked.decided_at = now
        locked.save(update_fields=["state", "issue", "position", "decided_by", "decided_at"])
        entry = _score(locked, ScoreEvent.ADOPTED, f"adopted:{locked.pk}", now)
        if notify:
            _notify_unit(
                locked.submission,
                "信息报送：已采用",
                f"《{locked.submission.title}》已被{issue.journal.name}采用",
                f"submissions:adopted:{locked.pk}",
            )
        record(
            "submissions.adopted",
            actor=actor,
            obj=locked.submission,
            detail={
                "office_id": office_id,
                "issue_id": issue.pk,
                "points": entry.points,
                "rule_id": entry.rule_id,
            },
        )
    return locked


def merge(submission_id: int, actor: User, *, office_id: int, into_submission_id: int) -> Delivery:
    """综合采用: the item is merged into another unit's adopted item at the same
    office (same issue); its unit is credited with the ``merged`` rule."""
    delivery = _delivery_for_decision(actor, submission_id, office_id, "submissions.merge")
    target = Delivery.objects.filter(submission_id=into_submission_id, office_id=office_id).first()
    if target is None:
        raise _deny("submissions.merge", actor, status=404, into=into_submission_id)
    if target.pk == delivery.pk:
        raise ApiError(
            "validation_error",
            fields={"into": [t("不能合并到自身。", "Cannot merge into itself.")]},
        )
    now = timezone.now()
    with transaction.atomic():
        into = Delivery.objects.select_for_update().get(pk=target.pk)
        if into.state != DeliveryState.ADOPTED or into.issue_id is None:
            raise Conflict(
                "merge_target_not_adopted",
                t("合并目标须为已采用的信息。", "Merge into an adopted item."),
            )
        locked = _lock_pending(delivery.pk)
        locked.state = DeliveryState.MERGED
        locked.merged_into = into
        locked.issue_id = into.issue_id
        locked.position = into.position
        locked.decided_by = actor
        locked.decided_at = now
        locked.save(
            update_fields=["state", "merged_into", "issue", "position", "decided_by", "decided_at"]
        )
        entry = _score(locked, ScoreEvent.MERGED, f"merged:{locked.pk}", now)
        _notify_unit(
            locked.submission,
            "信息报送：综合采用",
            f"《{locked.submission.title}》已综合采用",
            f"submissions:merged:{locked.pk}",
        )
        record(
            "submissions.merged",
            actor=actor,
            obj=locked.submission,
            detail={
                "office_id": office_id,
                "into_submission_id": into_submission_id,
                "points": entry.points,
                "rule_id": entry.rule_id,
            },
        )
    return locked


def return_item(submission_id: int, actor: User, *, office_id: int, reason: str) -> Delivery:
    """退回 with a reason (required); no points; the unit is notified."""
    reason = (reason or "").strip()
    if not reason:
        raise ApiError(
            "validation_error", fields={"reason": [t("请填写退回理由。", "Give a reason.")]}
        )
    delivery = _delivery_for_decision(actor, submission_id, office_id, "submissions.return")
    with transaction.atomic():
        locked = _lock_pending(delivery.pk)
        locked.state = DeliveryState.RETURNED
        locked.reason = reason[:500]
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["state", "reason", "decided_by", "decided_at"])
        _notify_unit(
            locked.submission,
            "信息报送：已退回",
            f"《{locked.submission.title}》退回：{reason[:100]}",
            f"submissions:returned:{locked.pk}",
        )
        record(
            "submissions.returned",
            actor=actor,
            obj=locked.submission,
            detail={"office_id": office_id, "reason": reason[:200]},
        )
    return locked


# --- leaders' instructions (批示) ----------------------------------------------------------


def instruct(submission_id: int, actor: User, *, office_id: int, text: str) -> Instruction:
    """A leader of the office writes an instruction on an adopted (or merged) item;
    the submitting unit scores the ``instruction`` rule and is notified."""
    text = (text or "").strip()
    if not text:
        raise ApiError(
            "validation_error", fields={"text": [t("请填写批示内容。", "Write the instruction.")]}
        )
    submission = _submission_or_404(actor, submission_id, "submissions.instruct")
    delivery = Delivery.objects.filter(submission=submission, office_id=office_id).first()
    if delivery is None:
        raise _deny("submissions.instruct", actor, status=404, obj=submission, office_id=office_id)
    if not selectors.is_office_leader(actor, office_id):
        raise _deny("submissions.instruct", actor, status=403, obj=submission, reason="not_leader")
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("submission__author")
            .get(pk=delivery.pk)
        )
        if locked.state not in (DeliveryState.ADOPTED, DeliveryState.MERGED):
            raise Conflict(
                "item_not_adopted",
                t("只能对已采用的信息批示。", "Only adopted items take instructions."),
            )
        instruction = Instruction.objects.create(
            delivery=locked, leader=actor, text=text[:4000], created_at=now
        )
        entry = _score(
            locked, ScoreEvent.INSTRUCTION, f"instruction:{instruction.pk}", now, instruction
        )
        _notify_unit(
            locked.submission,
            "信息报送：领导批示",
            f"{actor.display_name}批示《{locked.submission.title}》：{text[:100]}",
            f"submissions:instruction:{instruction.pk}",
        )
        record(
            "submissions.instructed",
            actor=actor,
            obj=locked.submission,
            detail={
                "office_id": office_id,
                "instruction_id": instruction.pk,
                "points": entry.points,
                "rule_id": entry.rule_id,
            },
        )
    return instruction


# --- journals and issues ------------------------------------------------------------------


def create_issue(actor: User, journal_id: int) -> JournalIssue:
    journal = Journal.objects.filter(pk=journal_id).first()
    if journal is None:
        raise _deny("submissions.issue_create", actor, status=404, journal_id=journal_id)
    _require_editor(actor, journal.office_id, "submissions.issue_create", obj=journal)
    with transaction.atomic():
        issue = JournalIssue.objects.create(journal=journal, created_by=actor)
        record(
            "submissions.issue_created", actor=actor, obj=issue, detail={"journal_id": journal.pk}
        )
    return issue


def _issue_or_404(actor: User, issue_id: int, action: str) -> JournalIssue:
    issue = selectors.visible_issues(actor).select_related("journal").filter(pk=issue_id).first()
    if issue is None:
        raise _deny(action, actor, status=404, issue_id=issue_id)
    return issue


def approve_issue(issue_id: int, actor: User) -> JournalIssue:
    """An office leader approves a compiled issue (it must have items)."""
    issue = _issue_or_404(actor, issue_id, "submissions.issue_approve")
    if not selectors.is_office_leader(actor, issue.journal.office_id):
        raise _deny("submissions.issue_approve", actor, status=403, obj=issue, reason="not_leader")
    with transaction.atomic():
        locked = JournalIssue.objects.select_for_update().get(pk=issue.pk)
        if locked.state != IssueState.COMPILING:
            raise Conflict(
                "issue_not_compiling", t("该期已审核。", "The issue was already approved.")
            )
        if not Delivery.objects.filter(issue=locked, state=DeliveryState.ADOPTED).exists():
            raise Conflict(
                "issue_empty", t("该期没有采用的信息。", "The issue has no adopted items.")
            )
        locked.state = IssueState.APPROVED
        locked.approved_by = actor
        locked.approved_at = timezone.now()
        locked.save(update_fields=["state", "approved_by", "approved_at"])
        record("submissions.issue_approved", actor=actor, obj=locked)
    return locked


def issue_items(issue: JournalIssue) -> list[dict[str, Any]]:
    """The adopted items in order, each with the units credited (merged ones too)."""
    adopted = list(
        Delivery.objects.filter(issue=issue, state=DeliveryState.ADOPTED)
        .select_related("submission__unit")
        .order_by("position", "id")
    )
    merged: dict[int, list[Delivery]] = {}
    for row in (
        Delivery.objects.filter(issue=issue, state=DeliveryState.MERGED)
        .select_related("submission__unit")
        .order_by("id")
    ):
        merged.setdefault(row.merged_into_id or 0, []).append(row)
    items = []
    for delivery in adopted:
        extra = merged.get(delivery.pk, [])
        items.append(
            {
                "submission_id": delivery.submission_id,
                "title": delivery.submission.title,
                "body": delivery.submission.body,
                "units": [delivery.submission.unit.name] + [m.submission.unit.name for m in extra],
                "unit_ids": [delivery.submission.unit_id] + [m.submission.unit_id for m in extra],
                "merged_submission_ids": [m.submission_id for m in extra],
            }
        )
    return items


def _store(relative: str, data: bytes) -> None:
    target = Path(settings.GOVDESK_RENDER_DIR) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _next_number(journal_id: int, year: int) -> int:
    """Lock the journal's counter row for the year (created once) and take the next
    number: publishes of one journal queue here, so numbers are gap-free."""
    JournalCounter.objects.get_or_create(journal_id=journal_id, year=year)
    counter = JournalCounter.objects.select_for_update().get(journal_id=journal_id, year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def publish_issue(issue_id: int, actor: User, *, notify: bool = True) -> JournalIssue:
    """An editor publishes an approved issue: the next number of the journal in the
    year, the PDF in the journal layout, the readers notified — all in one
    transaction, so a failed rendering leaves no number used. ``notify=False``
    (demo seeding: history, not news) leaves the readers alone."""
    from api.submissions.render import JournalItem, JournalLayout, render_issue

    issue = _issue_or_404(actor, issue_id, "submissions.issue_publish")
    _require_editor(actor, issue.journal.office_id, "submissions.issue_publish", obj=issue)
    try:
        with transaction.atomic():
            locked = (
                JournalIssue.objects.select_for_update(of=("self",))
                .select_related("journal__office")
                .get(pk=issue.pk)
            )
            if locked.state != IssueState.APPROVED:
                raise Conflict(
                    "issue_not_approved",
                    t("须经领导审核后发布。", "The issue must be approved first."),
                    extra={"state": locked.state},
                )
            now = timezone.now()
            year = timezone.localtime(now).year
            number = _next_number(locked.journal_id, year)
            items = issue_items(locked)
            pdf, pages = render_issue(
                JournalLayout(
                    journal=locked.journal.name,
                    year=year,
                    number=number,
                    editor=locked.journal.office.name + "编",
                    date=f"{timezone.localtime(now):%Y年%m月%d日}".replace("年0", "年").replace(
                        "月0", "月"
                    ),
                    items=[JournalItem(i["title"], i["body"], i["units"]) for i in items],
                    distribution=locked.journal.distribution or {},
                )
            )
            digest = hashlib.sha256(pdf).hexdigest()
            relative = f"journals/{locked.journal_id}/{year}-{number}-{digest[:16]}.pdf"
            _store(relative, pdf)
            locked.state = IssueState.PUBLISHED
            locked.year = year
            locked.number = number
            locked.published_by = actor
            locked.published_at = now
            locked.pdf_path = relative
            locked.pdf_sha256 = digest
            locked.pages = pages
            locked.save()
            if notify:
                _notify_readers(locked)
            record(
                "submissions.issue_published",
                actor=actor,
                obj=locked,
                detail={
                    "journal_id": locked.journal_id,
                    "year": year,
                    "number": number,
                    "sha256": digest,
                },
            )
    except IntegrityError:
        raise Conflict("issue_number_taken") from None
    return locked


def _notify_readers(issue: JournalIssue) -> None:
    from api.notify.actions import notify

    for leader in issue.journal.office.leaders.all():
        notify(
            recipient=leader,
            kind="system",
            title=f"《{issue.journal.name}》{issue.year}年第{issue.number}期已发布",
            dedup_key=f"submissions:issue:{issue.pk}:{leader.pk}",
        )


def issue_pdf_path(issue: JournalIssue) -> Path | None:
    if not issue.pdf_path:
        return None
    return Path(settings.GOVDESK_RENDER_DIR) / issue.pdf_path


# --- calls for items (约稿) -----------------------------------------------------------------


def create_call(
    actor: User,
    *,
    office_id: int,
    topic: str,
    deadline: datetime,
    unit_ids: list[int],
    description: str = "",
    notify: bool = True,
) -> Call:
    _office_or_404(actor, office_id, "submissions.call_create")
    _require_editor(actor, office_id, "submissions.call_create")
    wanted = list(dict.fromkeys(unit_ids))
    if not wanted or len(wanted) > MAX_UNITS:
        raise ApiError("validation_error", fields={"units": [between(1, MAX_UNITS)]})
    found = set(Unit.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    missing = [u for u in wanted if u not in found]
    if missing:
        raise ApiError("unit_not_found", fields={"units": [not_found_ids(missing)]})
    with transaction.atomic():
        call = Call.objects.create(
            office_id=office_id,
            topic=topic,
            description=description,
            deadline=deadline,
            created_by=actor,
        )
        call.units.set(wanted)
        record(
            "submissions.call_created",
            actor=actor,
            obj=call,
            detail={"units": wanted[:500], "deadline": client_datetime(deadline)},
        )
        for _unit_id, clerks in _clerks(wanted).items() if notify else ():
            for clerk in clerks:
                _notify_call(
                    clerk, call, f"submissions:call:{call.pk}:{clerk.pk}", "normal", "约稿"
                )
    return call


def _clerks(unit_ids: list[int]) -> dict[int, list[User]]:
    rows = (
        RoleAssignment.objects.filter(
            unit_id__in=unit_ids, role__in=(Role.CLERK, Role.UNIT_ADMIN), user__is_active=True
        )
        .select_related("user")
        .order_by("unit_id", "user_id")
    )
    out: dict[int, list[User]] = {}
    for row in rows:
        if row.user not in out.setdefault(row.unit_id, []):
            out[row.unit_id].append(row.user)
    return out


def _notify_call(user: User, call: Call, key: str, urgency: str, label: str) -> None:
    from api.notify.actions import notify

    notify(
        recipient=user,
        kind="urge" if urgency == "high" else "system",
        title=f"信息报送{label}：{call.topic}",
        body=f"截止 {timezone.localtime(call.deadline):%Y-%m-%d %H:%M}",
        urgency=urgency,
        dedup_key=key,
    )


def urge_call(call_id: int, actor: User) -> list[int]:
    """Urge (催报) every asked unit that has not answered: its clerks get an urgent
    notification, which climbs the notify ladder (push, then SMS) while unread. Once
    per unit per day. Returns the units urged."""
    call = selectors.visible_calls(actor).filter(pk=call_id).first()
    if call is None:
        raise _deny("submissions.call_urge", actor, status=404, call_id=call_id)
    _require_editor(actor, call.office_id, "submissions.call_urge", obj=call)
    now = timezone.now()
    missing = [
        r["unit_id"] for r in selectors.call_status(call, now) if r["state"].startswith("missing")
    ]
    day = timezone.localtime(now).date().isoformat()
    with transaction.atomic():
        Call.objects.select_for_update().get(pk=call.pk)
        for _unit_id, clerks in _clerks(missing).items():
            for clerk in clerks:
                _notify_call(
                    clerk, call, f"submissions:urge:{call.pk}:{clerk.pk}:{day}", "high", "催报"
                )
        record("submissions.call_urged", actor=actor, obj=call, detail={"unit_ids": missing[:500]})
    return missing
