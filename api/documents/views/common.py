"""Shared pieces of the documents views: ETags, query parameters, error schemas.
Docs: docs/documents.md#versions-and-concurrency.
"""

from __future__ import annotations

import hashlib
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from api.accounts.models import User
from api.common import schema as common_schema
from api.common.errors import NotFound
from api.common.schema import error_response
from api.documents.models import Document
from api.documents.selectors import MAX_ID, permissions_for


def etag_for(document: Document, user: User) -> str:
    """Strong ETag from the document's id and version (plus what the caller may do,
    which the detail shows): it changes exactly when the detail response would."""
    flags = permissions_for(user, document)
    marks = f"{int(flags['edit'])}{int(flags['void_number'])}"
    # The overall time limit shows in the detail and turns overdue with time alone,
    # without a new version (docs/workflow.md#document-time-limits).
    marks += f":{document.due_at.timestamp() if document.due_at else ''}:{int(document.is_overdue)}"
    raw = f"document:{document.pk}:{document.version}:{marks}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def if_match_tags(request: Request) -> list[str] | None:
    """The tags of If-Match (weak prefixes dropped: the tags are version markers),
    ['*'] for any, None when the header is absent."""
    raw = request.META.get("HTTP_IF_MATCH")
    if raw is None or not raw.strip():
        return None
    tags = []
    for part in raw.split(","):
        tag = part.strip()
        tags.append(tag[2:] if tag.startswith("W/") else tag)
    return tags


def path_id(value: Any) -> int:
    """A path id within bigint range (routes already restrict it to digits)."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise NotFound()
    return number


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="8–128 of A-Z a-z 0-9 -_:. ; a repeat returns the first response",
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="the document's ETag; a stale one is 409 version_conflict",
)

ERR_400 = common_schema.ERR_400
ERR_403 = common_schema.ERR_403
ERR_404 = common_schema.ERR_404
ERR_409 = {409: error_response("version_conflict / document_not_editable / not_numbered")}
ERR_413 = {413: error_response("payload_too_large / attachment_too_large")}
ERR_415 = {415: error_response("attachment_type_refused / unsupported_media_type")}
ERR_422 = {422: error_response("classified_refused")}
errors = common_schema.errors
