"""The mail API under /api/v1/mail/ (docs/mail.md#api). Thin views over
api/mail/actions.py (every change, atomic, audited) and selectors.py (who sees what).

Ids in paths are *entry* ids: a person's own copy of a mail (``id`` in every list).
Another person's entry is 404. Every POST accepts ``Idempotency-Key``; a send
repeated with the same key never delivers twice (the key is also kept on the mail).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common.auth import current_user
from api.common.errors import ApiError, NotFound
from api.common.i18n import between, t
from api.common.idempotency import HEADER as IDEMPOTENCY_META
from api.common.idempotency import idempotent
from api.common.pagination import CursorPagination
from api.common.params import bool_param, int_param, str_param
from api.common.schema import (
    ERR_400,
    ERR_404,
    ERR_409,
    ERR_422,
    error_response,
    errors,
    page_parameters,
)
from api.common.serializers import validated_body
from api.documents import attachments as files
from api.mail import actions, selectors
from api.mail.models import Folder, Group
from api.mail.serializers import (
    MailComposeSerializer,
    MailEmptySerializer,
    MailEntryDetailSerializer,
    MailEntryPageSerializer,
    MailEntrySerializer,
    MailFileSerializer,
    MailFolderPageSerializer,
    MailFolderSerializer,
    MailGroupPageSerializer,
    MailGroupSerializer,
    MailGroupWriteSerializer,
    MailMoveSerializer,
    MailNameSerializer,
    MailQuotaSerializer,
    MailRecallResultSerializer,
    MailReceiptPageSerializer,
    MailSendSerializer,
    MailStarSerializer,
    entry_detail,
    entry_item,
    file_item,
    folder_item,
    group_item,
    receipt_item,
)

logger = logging.getLogger(__name__)

TAGS = ["mail"]
MAX_ID = 2**63 - 1
ERR_413 = {413: error_response("attachment_too_large / mail_quota_exceeded")}
ERR_415 = {415: error_response("attachment_type_refused")}
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 characters; a repeat returns the first answer and never sends twice.",
)
PAGE = page_parameters()


def _id(value: Any) -> int:
    if not 0 < int(value) <= MAX_ID:
        raise NotFound()
    return int(value)


def _compose(data: dict[str, Any]) -> actions.Compose:
    return actions.Compose(
        subject=data.get("subject", ""),
        body=data.get("body", ""),
        to=data.get("to", []),
        cc=data.get("cc", []),
        bcc=data.get("bcc", []),
        files=data.get("files", []),
        urgent=data.get("urgent", False),
        in_reply_to=data.get("in_reply_to"),
    )


class EntryPagination(CursorPagination):
    ordering = "-id"


SEARCH_PAGE_SIZE = 50
SEARCH_MAX_PAGES = 25


def _search_page(request: Request, queryset: Any) -> Response:
    """A page of search results in rank order (a cursor on ``-id`` would undo the
    ranking): ``page`` 1–25, same shape as the other lists."""
    page = int_param(request, "page") or 1
    if not 1 <= page <= SEARCH_MAX_PAGES:
        raise ApiError("validation_error", fields={"page": [between(1, SEARCH_MAX_PAGES)]})
    start = (page - 1) * SEARCH_PAGE_SIZE
    rows = list(queryset[start : start + SEARCH_PAGE_SIZE + 1])
    more = len(rows) > SEARCH_PAGE_SIZE and page < SEARCH_MAX_PAGES

    def link(number: int) -> str:
        query = request.query_params.copy()
        query["page"] = str(number)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return Response(
        {
            "next": link(page + 1) if more else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": [entry_item(row) for row in rows[:SEARCH_PAGE_SIZE]],
        }
    )


def _page(view: APIView, request: Request, queryset: Any, item: Any, **extra: Any) -> Response:
    paginator = EntryPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return Response(
        {
            **extra,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [item(row) for row in page or []],
        }
    )


class MessageListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_messages_list",
        summary="A folder of your mailbox, newest first; or a search",
        description=(
            "`folder`: inbox (default), sent, drafts, trash, starred or a custom folder id. "
            "`q` searches subject, body and attachments' names and text across your folders "
            "instead: words are cut by jieba (a two-character word such as 安全 is found "
            "inside longer words too), every word must match, results rank by relevance and "
            "date. A search pages by `page` (1–25, 50 per page; `next` links the next page) "
            "instead of `cursor`."
        ),
        parameters=[
            OpenApiParameter("folder", str),
            OpenApiParameter("q", str, description="≤ 100 characters"),
            OpenApiParameter("page", int, description="search only: 1–25"),
            *PAGE,
        ],
        responses={200: MailEntryPageSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request) -> Response:
        user = current_user(request)
        query = (str_param(request, "q", max_length=100) or "").strip()
        if query:
            return _search_page(request, selectors.search(user, query))
        int_param(request, "page")  # search only, but never a wrong type unnoticed
        queryset = selectors.mailbox(user, str_param(request, "folder", max_length=24) or "inbox")
        return _page(self, request, queryset, entry_item)

    @extend_schema(
        tags=TAGS,
        operation_id="mail_drafts_create",
        summary="Save a draft",
        parameters=[IDEMPOTENCY],
        request=MailComposeSerializer,
        responses={201: MailEntryDetailSerializer, **errors(ERR_400, ERR_422, ERR_413)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        entry = actions.save_draft(
            current_user(request), _compose(validated_body(MailComposeSerializer, request))
        )
        return Response(
            entry_detail(selectors.entry_or_404(current_user(request), entry.pk)),
            status=status.HTTP_201_CREATED,
        )


class MessageDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_messages_read_one",
        summary="One mail (your copy)",
        description="Does not mark it read: POST …/read/ does (the read receipt).",
        responses={200: MailEntryDetailSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(entry_detail(selectors.entry_or_404(current_user(request), _id(pk))))

    @extend_schema(
        tags=TAGS,
        operation_id="mail_drafts_update",
        summary="Update a draft",
        parameters=[IDEMPOTENCY],
        request=MailComposeSerializer,
        responses={200: MailEntryDetailSerializer, **errors(ERR_400, ERR_404, ERR_409, ERR_413)},
    )
    @idempotent
    def patch(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        selectors.entry_or_404(user, _id(pk))
        entry = actions.save_draft(
            user, _compose(validated_body(MailComposeSerializer, request)), draft_id=int(pk)
        )
        return Response(entry_detail(selectors.entry_or_404(user, entry.pk)))

    @extend_schema(
        tags=TAGS,
        operation_id="mail_messages_purge",
        summary="Delete for good (a draft, or a mail in the trash)",
        request=None,
        responses={204: None, **errors(ERR_404, ERR_409)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actions.purge(current_user(request), _id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SendView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_send",
        summary="Send a mail (new, or a draft) to people, units and saved groups",
        description=(
            "Addresses: `user:<id>`, `unit:<id>` (its clerks), `unit:<id>:all` (everyone; "
            "allowed to its members, those with a full view of it and leaders), `group:<id>`. "
            "400 `mail_recipient_unknown` names the addresses that do not exist; nothing is "
            "sent. One stored mail whatever the number of recipients; more than "
            "GOVDESK_MAIL_INLINE_FANOUT recipients are delivered by a task after commit."
        ),
        parameters=[IDEMPOTENCY],
        request=MailSendSerializer,
        responses={
            201: MailEntryDetailSerializer,
            **errors(ERR_400, ERR_404, ERR_409, ERR_413, ERR_422),
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        user = current_user(request)
        data = validated_body(MailSendSerializer, request)
        entry = actions.send(
            user,
            _compose(data),
            draft_id=data.get("draft"),
            idempotency_key=request.META.get(IDEMPOTENCY_META) or None,
        )
        return Response(
            entry_detail(selectors.entry_or_404(user, entry.pk)), status=status.HTTP_201_CREATED
        )


class ReadView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_read",
        summary="Mark read (the sender's read receipt)",
        parameters=[IDEMPOTENCY],
        request=MailEmptySerializer,
        responses={200: MailEntrySerializer, **errors(ERR_400, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(MailEmptySerializer, request)
        user = current_user(request)
        entry = actions.mark_read(user, _id(pk))
        return Response(entry_item(selectors.entry_or_404(user, entry.pk)))


class RecallView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_recall",
        summary="Recall (撤回) from every recipient who has not read it",
        description="Those who read it keep it; 409 `mail_nothing_to_recall` when all have.",
        parameters=[IDEMPOTENCY],
        request=MailEmptySerializer,
        responses={200: MailRecallResultSerializer, **errors(ERR_400, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        validated_body(MailEmptySerializer, request)
        return Response(actions.recall(current_user(request), _id(pk)))


class ReceiptsView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_receipts",
        summary="Who has read your mail, per recipient (sender only)",
        parameters=[
            OpenApiParameter("read", bool, description="only read (true) / unread (false)"),
            *PAGE,
        ],
        responses={200: MailReceiptPageSerializer, **errors(ERR_400, ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        entry = selectors.entry_or_404(current_user(request), _id(pk))
        receipts = selectors.receipts(entry)
        counts = receipts.aggregate(
            read=Count("pk", filter=Q(read_at__isnull=False)),
            unread=Count("pk", filter=Q(read_at__isnull=True, recalled_at__isnull=True)),
            recalled=Count("pk", filter=Q(recalled_at__isnull=False)),
        )
        flag = bool_param(request, "read")
        if flag is not None:
            receipts = receipts.filter(read_at__isnull=not flag)
        return _page(self, request, receipts, receipt_item, **counts)


class MoveView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_move",
        summary="File in inbox, trash or a custom folder",
        parameters=[IDEMPOTENCY],
        request=MailMoveSerializer,
        responses={200: MailEntrySerializer, **errors(ERR_400, ERR_404, ERR_409)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        entry = actions.move(user, _id(pk), validated_body(MailMoveSerializer, request)["folder"])
        return Response(entry_item(selectors.entry_or_404(user, entry.pk)))


class StarView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_star",
        summary="Star (flag) or unstar",
        parameters=[IDEMPOTENCY],
        request=MailStarSerializer,
        responses={200: MailEntrySerializer, **errors(ERR_400, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        user = current_user(request)
        entry = actions.star(user, _id(pk), validated_body(MailStarSerializer, request)["starred"])
        return Response(entry_item(selectors.entry_or_404(user, entry.pk)))


class ThreadView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_thread",
        summary="Your copies of a thread's mail",
        parameters=PAGE,
        responses={200: MailEntryPageSerializer, **errors(ERR_404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        queryset = selectors.thread(current_user(request), _id(pk))
        return _page(self, request, queryset, entry_item)


class FolderListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_folders_list",
        summary="Your custom folders",
        parameters=PAGE,
        responses={200: MailFolderPageSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        return _page(self, request, Folder.objects.filter(owner=current_user(request)), folder_item)

    @extend_schema(
        tags=TAGS,
        operation_id="mail_folders_create",
        summary="Create a folder",
        parameters=[IDEMPOTENCY],
        request=MailNameSerializer,
        responses={201: MailFolderSerializer, **errors(ERR_400, ERR_409)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        folder = actions.create_folder(
            current_user(request), validated_body(MailNameSerializer, request)["name"]
        )
        return Response(folder_item(folder), status=status.HTTP_201_CREATED)


class FolderDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_folders_delete",
        summary="Delete a folder (its mail goes back to the inbox)",
        request=None,
        responses={204: None, **errors(ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actions.delete_folder(current_user(request), _id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupListView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_groups_list",
        summary="Your saved address groups",
        parameters=PAGE,
        responses={200: MailGroupPageSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        return _page(self, request, Group.objects.filter(owner=current_user(request)), group_item)

    @extend_schema(
        tags=TAGS,
        operation_id="mail_groups_save",
        summary="Save a group (people and units; same name replaces it)",
        parameters=[IDEMPOTENCY],
        request=MailGroupWriteSerializer,
        responses={201: MailGroupSerializer, **errors(ERR_400)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        data = validated_body(MailGroupWriteSerializer, request)
        group = actions.save_group(current_user(request), data["name"], data["members"])
        return Response(group_item(group), status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_groups_delete",
        summary="Delete a saved group",
        request=None,
        responses={204: None, **errors(ERR_404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        actions.delete_group(current_user(request), _id(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MailUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class AttachmentUploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=TAGS,
        operation_id="mail_attachments_upload",
        summary="Upload an attachment (type decided from the content; counts in your quota)",
        parameters=[IDEMPOTENCY],
        request={"multipart/form-data": MailUploadSerializer},
        responses={201: MailFileSerializer, **errors(ERR_400, ERR_413, ERR_415)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError(
                "validation_error", fields={"file": [t("请选择文件。", "A file is required.")]}
            )
        return Response(
            file_item(actions.upload(current_user(request), upload)), status=status.HTTP_201_CREATED
        )


class AnyAccept(BaseContentNegotiation):
    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class AttachmentDownloadView(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        tags=TAGS,
        operation_id="mail_attachments_download",
        summary="Download an attachment of a mail you hold (or your upload)",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY),
            **errors(ERR_404),
        },
    )
    def get(self, request: Request, pk: int):
        mail_file = selectors.file_or_404(current_user(request), _id(pk))
        path = files.path_for(mail_file.storage_key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            logger.error("mail file %s: %s is missing", mail_file.pk, path)
            raise NotFound() from None
        response = FileResponse(
            handle, as_attachment=True, filename=mail_file.name, content_type=mail_file.content_type
        )
        response["Content-Length"] = str(mail_file.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


class QuotaView(APIView):
    @extend_schema(
        tags=TAGS,
        operation_id="mail_quota",
        summary="Your mailbox quota and use",
        responses={200: MailQuotaSerializer, **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "quota_bytes": settings.GOVDESK_MAIL_QUOTA_BYTES,
                "used_bytes": actions.quota_used(current_user(request)),
            }
        )
