"""Shared pieces of the organisation views: pagination, query parameters, lookups,
documented error responses. Docs: docs/organisation.md#endpoints.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework.exceptions import NotFound as DRFNotFound

from api.accounts import selectors
from api.accounts.models import Unit
from api.common import schema as common_schema
from api.common.errors import ApiError, NotFound
from api.common.i18n import t
from api.common.pagination import CursorPagination
from api.common.schema import error_response


class _ValidatedCursorPagination(CursorPagination):
    """Cursor pagination whose cursor positions are checked (api/common/pagination.py)
    plus, where given, a stricter pattern for the ordering field."""

    position_pattern = re.compile(r"^[^\x00]{0,400}$")

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        position = None if cursor is None else cursor.position
        if position is not None and not self.position_pattern.match(str(position)):
            raise DRFNotFound(self.invalid_cursor_message)
        return cursor


class TreeOrderPagination(_ValidatedCursorPagination):
    """Units in tree order (depth-first by materialised path)."""

    ordering = "path"
    position_pattern = re.compile(r"^[0-9.]{1,400}$")


class UsernamePagination(_ValidatedCursorPagination):
    ordering = "username"


class NamePagination(_ValidatedCursorPagination):
    """Posts of one unit: names are unique within a unit."""

    ordering = "name"


class NewestFirstPagination(_ValidatedCursorPagination):
    ordering = "-id"
    position_pattern = re.compile(r"^[0-9]{1,19}$")


def unit_or_404(unit_id: int) -> Unit:
    unit = selectors.unit_by_id(unit_id)
    if unit is None:
        raise NotFound()
    return unit


def unit_for_field(unit_id: int, field: str) -> Unit:
    """A unit named in a request body: a missing id is a field error, not a 404."""
    unit = selectors.unit_by_id(unit_id)
    if unit is None:
        raise ApiError("validation_error", fields={field: [t("单位不存在。", "No such unit.")]})
    return unit


def _error(description: str) -> OpenApiResponse:
    return error_response(description)


ERR_400 = common_schema.ERR_400
ERR_401 = common_schema.ERR_401
ERR_403 = common_schema.ERR_403
ERR_404 = common_schema.ERR_404
ERR_409 = {409: _error("conflict / appointment_pending")}
ERR_422 = {422: _error("filed_role / appointment_not_applicable / supervisor_own_unit")}


def errors(*groups: dict[int, Any]) -> dict[int, Any]:
    return common_schema.errors(*groups)
