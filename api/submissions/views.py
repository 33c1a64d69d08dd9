"""The 信息报送 API: submissions (draft, approve, submit, adopt, merge, return,
instructions), calls for items, journals, journal issues (approve, publish, PDF) and
unit scores. Docs: docs/submissions.md#api.

Thin views over api/submissions/actions.py (every state change, atomic, audited) and
selectors.py (who sees what; anything else is a 404, recorded). Every POST accepts
``Idempotency-Key``; every list is cursor paginated.
"""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.models import User
from api.audit.recorder import record_denied
from api.common.errors import ApiError, NotFound
from api.common.i18n import between
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import choice_param
from api.common.schema import ERR_400, ERR_403, ERR_404, ERR_409, errors, page_parameters
from api.submissions import actions, selectors
from api.submissions.models import (
    DeliveryState,
    Instruction,
    Journal,
    ScoreEntry,
    SubmissionState,
)
from api.submissions.serializers import (
    AdoptSerializer,
    CallCreateSerializer,
    EmptySerializer,
    InstructionCreateSerializer,
    IssueCreateSerializer,
    MergeSerializer,
    ReturnSerializer,
    RuleSetSerializer,
    SubmissionCreateSerializer,
    SubmissionsPageSerializer,
    SubmitSerializer,
    call_item,
    instruction_item,
    issue_item,
    score_entry_item,
    submission_detail,
    submission_item,
)

TAGS = ["submissions"]
MAX_ID = 2**63 - 1
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first response.",
)
PAGE = page_parameters()
OBJ = OpenApiResponse(OpenApiTypes.OBJECT)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _data(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data if request.data else {})
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _id(value: Any) -> int:
    if not 0 < int(value) <= MAX_ID:
        raise NotFound()
    return int(value)


def _int_param(request: Request, name: str, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError("validation_error", fields={name: [between(low, high)]}) from None
    if not low <= value <= high:
        raise ApiError("validation_error", fields={name: [between(low, high)]})
    return value


def _page(view: APIView, request: Request, queryset, item) -> Response:
    paginator = CursorPagination()
    rows = paginator.paginate_queryset(queryset, request, view=view)
    return Response(
        {
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [item(r) for r in rows or []],
        }
    )


def _detail(user: User, submission_id: int) -> dict[str, Any]:
    submission = (
        selectors.visible_submissions(user)
        .select_related("unit", "author")
        .prefetch_related("deliveries__office")
        .get(pk=submission_id)
    )
    instructions = list(
        Instruction.objects.filter(delivery__submission=submission)
        .select_related("leader", "delivery")
        .order_by("id")
    )
    return submission_detail(submission, instructions)


class SubmissionListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="submissions_list",
        summary="Items the caller may see: its unit's, and those sent to its offices",
        parameters=[
            OpenApiParameter("unit", int),
            OpenApiParameter("category", str),
            OpenApiParameter("state", str, enum=SubmissionState.values),
            OpenApiParameter("office", int),
            OpenApiParameter("delivery_state", str, enum=DeliveryState.values),
            OpenApiParameter("q", str, description="words in the title or body"),
            *PAGE,
        ],
        responses={200: SubmissionsPageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        params = {
            "unit": _int_param(request, "unit", 1, MAX_ID),
            "office": _int_param(request, "office", 1, MAX_ID),
            "category": request.query_params.get("category", "")[:40],
            "state": choice_param(request, "state", list(SubmissionState.values)),
            "delivery_state": choice_param(request, "delivery_state", list(DeliveryState.values)),
            "q": request.query_params.get("q", "")[:100],
        }
        return _page(
            self,
            request,
            selectors.submissions_page_queryset(_user(request), params),
            submission_item,
        )

    @extend_schema(
        tags=TAGS,
        operation_id="submissions_create",
        summary="Draft an item (clerk of the unit)",
        parameters=[IDEMPOTENCY],
        request=SubmissionCreateSerializer,
        responses={201: OBJ, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _data(SubmissionCreateSerializer, request)
        user = _user(request)
        submission = actions.create_submission(
            user,
            title=data["title"],
            body=data["body"],
            category=data["category"],
            contact=data["contact"],
            call_id=data["call"],
            attachment_ids=data["attachments"],
        )
        return Response(_detail(user, submission.pk), status=status.HTTP_201_CREATED)


class SubmissionDetailView(APIView):
    @extend_schema(
        tags=TAGS, operation_id="submissions_read", responses={200: OBJ, **errors(ERR_404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        user = _user(request)
        if selectors.submission_or_none(user, _id(pk)) is None:
            record_denied("submissions.read", actor=user, detail={"submission_id": pk})
            raise NotFound()
        return Response(_detail(user, _id(pk)))


def _action_view(
    name: str,
    serializer: type,
    run,
    summary: str,
    codes: tuple = (ERR_400, ERR_403, ERR_404, ERR_409),
):
    class _View(APIView):
        @extend_schema(
            tags=TAGS,
            operation_id=f"submissions_{name}",
            summary=summary,
            parameters=[IDEMPOTENCY],
            request=serializer,
            responses={200: OBJ, **errors(*codes)},
        )
        @idempotent
        def post(self, request: Request, pk: int) -> Response:
            user = _user(request)
            data = _data(serializer, request)
            run(_id(pk), user, data)
            return Response(_detail(user, _id(pk)))

    _View.__name__ = f"Submission{name.title()}View"
    return _View


SubmissionApproveView = _action_view(
    "approve",
    EmptySerializer,
    lambda pk, u, d: actions.approve_submission(pk, u),
    "The unit's leader approves the item for sending",
)
SubmissionSubmitView = _action_view(
    "submit",
    SubmitSerializer,
    lambda pk, u, d: actions.submit_submission(pk, u, d["offices"]),
    "Send an approved item to editorial offices (409 duplicate_submission)",
)
SubmissionAdoptView = _action_view(
    "adopt",
    AdoptSerializer,
    lambda pk, u, d: actions.adopt(pk, u, office_id=d["office"], issue_id=d["issue"]),
    "An editor adopts (采用) the item into a compiling issue",
)
SubmissionMergeView = _action_view(
    "merge",
    MergeSerializer,
    lambda pk, u, d: actions.merge(pk, u, office_id=d["office"], into_submission_id=d["into"]),
    "An editor merges (综合采用) the item into another adopted item",
)
SubmissionReturnView = _action_view(
    "return",
    ReturnSerializer,
    lambda pk, u, d: actions.return_item(pk, u, office_id=d["office"], reason=d["reason"]),
    "An editor returns (退回) the item with a reason",
)
SubmissionInstructView = _action_view(
    "instruct",
    InstructionCreateSerializer,
    lambda pk, u, d: actions.instruct(pk, u, office_id=d["office"], text=d["text"]),
    "A leader of the office writes an instruction (批示) on an adopted item",
)


class JournalListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="journals_list",
        parameters=PAGE,
        responses={200: SubmissionsPageSerializer},
    )
    def get(self, request: Request) -> Response:
        def item(j: Journal) -> dict[str, Any]:
            return {
                "id": j.pk,
                "name": j.name,
                "level": j.level,
                "office": {"id": j.office_id, "name": j.office.name},
            }

        return _page(self, request, Journal.objects.select_related("office"), item)


class IssueListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="journal_issues_list",
        parameters=[OpenApiParameter("journal", int), *PAGE],
        responses={200: SubmissionsPageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        qs = selectors.visible_issues(_user(request)).select_related("journal")
        journal = _int_param(request, "journal", 1, MAX_ID)
        if journal:
            qs = qs.filter(journal_id=journal)
        return _page(self, request, qs, issue_item)

    @extend_schema(
        tags=TAGS,
        operation_id="journal_issues_create",
        summary="Start compiling an issue (editor)",
        parameters=[IDEMPOTENCY],
        request=IssueCreateSerializer,
        responses={201: OBJ, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        issue = actions.create_issue(
            _user(request), _data(IssueCreateSerializer, request)["journal"]
        )
        return Response(_issue_detail(_user(request), issue.pk), status=status.HTTP_201_CREATED)


def _issue_detail(user: User, issue_id: int) -> dict[str, Any]:
    issue = selectors.visible_issues(user).select_related("journal").filter(pk=issue_id).first()
    if issue is None:
        record_denied("submissions.issue_read", actor=user, detail={"issue_id": issue_id})
        raise NotFound()
    body = issue_item(issue)
    body["items"] = actions.issue_items(issue)
    body["instructions"] = [
        instruction_item(i)
        for i in Instruction.objects.filter(delivery__issue=issue)
        .select_related("leader", "delivery")
        .order_by("id")
    ]
    return body


class IssueDetailView(APIView):
    @extend_schema(
        tags=TAGS, operation_id="journal_issues_read", responses={200: OBJ, **errors(ERR_404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_issue_detail(_user(request), _id(pk)))


class IssueApproveView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="journal_issues_approve",
        summary="An office leader approves the issue",
        parameters=[IDEMPOTENCY],
        request=EmptySerializer,
        responses={200: OBJ, **errors(ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actions.approve_issue(_id(pk), _user(request))
        return Response(_issue_detail(_user(request), _id(pk)))


class IssuePublishView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="journal_issues_publish",
        summary="An editor publishes an approved issue: next number, PDF, readers notified",
        parameters=[IDEMPOTENCY],
        request=EmptySerializer,
        responses={200: OBJ, **errors(ERR_403, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        actions.publish_issue(_id(pk), _user(request))
        return Response(_issue_detail(_user(request), _id(pk)))


class IssuePdfView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="journal_issues_pdf",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        user = _user(request)
        issue = selectors.visible_issues(user).filter(pk=_id(pk)).first()
        path = actions.issue_pdf_path(issue) if issue else None
        if issue is None or path is None or not path.is_file():
            raise ApiError("not_found", status_code=404)
        return FileResponse(
            path.open("rb"), content_type="application/pdf", filename=f"issue-{issue.pk}.pdf"
        )


class CallListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calls_list",
        parameters=PAGE,
        responses={200: SubmissionsPageSerializer},
    )
    def get(self, request: Request) -> Response:
        return _page(self, request, selectors.visible_calls(_user(request)), call_item)

    @extend_schema(
        tags=TAGS,
        operation_id="calls_create",
        summary="An editor issues a call for items (约稿)",
        parameters=[IDEMPOTENCY],
        request=CallCreateSerializer,
        responses={201: OBJ, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = _data(CallCreateSerializer, request)
        call = actions.create_call(
            _user(request),
            office_id=data["office"],
            topic=data["topic"],
            deadline=data["deadline"],
            unit_ids=data["units"],
            description=data["description"],
        )
        return Response(_call_detail(_user(request), call.pk), status=status.HTTP_201_CREATED)


def _call_detail(user: User, call_id: int) -> dict[str, Any]:
    call = selectors.visible_calls(user).filter(pk=call_id).first()
    if call is None:
        record_denied("submissions.call_read", actor=user, detail={"call_id": call_id})
        raise NotFound()
    body = call_item(call)
    body["units"] = selectors.call_status(call, timezone.now())
    return body


class CallDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calls_read",
        summary="A call and, per unit, answered / late / missing",
        responses={200: OBJ, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(_call_detail(_user(request), _id(pk)))


class CallUrgeView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="calls_urge",
        summary="Urge the units that have not answered (催报)",
        parameters=[IDEMPOTENCY],
        request=EmptySerializer,
        responses={200: OBJ, **errors(ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        urged = actions.urge_call(_id(pk), _user(request))
        return Response({"urged_unit_ids": urged})


class ScoreView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="submission_scores",
        summary="Unit ranking by points for a year or month",
        parameters=[
            OpenApiParameter("year", int),
            OpenApiParameter("month", int),
            OpenApiParameter("office", int),
            OpenApiParameter("export", str, enum=["csv"]),
        ],
        responses={
            (200, "application/json"): OBJ,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="with export=csv"),
            **errors(ERR_400),
        },
    )
    def get(self, request: Request) -> Response | HttpResponse:
        year = _int_param(request, "year", 2000, 2100) or timezone.localtime().year
        month = _int_param(request, "month", 1, 12)
        office = _int_param(request, "office", 1, MAX_ID)
        rows = selectors.unit_scores(year, month, office)
        if choice_param(request, "export", ["csv"]) == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["rank", "unit_id", "unit", "points", "entries"])
            for row in rows:
                writer.writerow(
                    [row["rank"], row["unit_id"], row["unit"], row["points"], row["entries"]]
                )
            response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="scores-{year}.csv"'
            return response
        return Response({"year": year, "month": month, "results": rows})


class ScoreEntryListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="submission_score_entries",
        summary="Every score entry of a unit, each naming its rule and event",
        parameters=[OpenApiParameter("unit", int), OpenApiParameter("year", int), *PAGE],
        responses={200: SubmissionsPageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        qs = ScoreEntry.objects.select_related("rule", "delivery")
        unit = _int_param(request, "unit", 1, MAX_ID)
        year = _int_param(request, "year", 2000, 2100)
        if unit:
            qs = qs.filter(unit_id=unit)
        if year:
            qs = qs.filter(year=year)
        return _page(self, request, qs, score_entry_item)


class RuleView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="submission_rules_set",
        summary="An editor sets the points of an event for a year",
        parameters=[IDEMPOTENCY],
        request=RuleSetSerializer,
        responses={200: OBJ, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        d = _data(RuleSetSerializer, request)
        rule = actions.set_rule(
            _user(request), d["office"], d["year"], d["event"], d["points"], d["note"]
        )
        return Response(
            {
                "id": rule.pk,
                "office_id": rule.office_id,
                "year": rule.year,
                "event": rule.event,
                "points": rule.points,
            }
        )
