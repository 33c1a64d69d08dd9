"""Cursor pagination for every list endpoint (stable under inserts, O(1) per page).

Docs: docs/api.md#pagination. A cursor is client-supplied data: its position is
checked against the ordering field's type before it reaches the database, so a
forged cursor (a NUL byte, a word where a number belongs) is a 404 ``not_found``
("invalid cursor") and never a 500.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from api.common.params import page_size_param


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request):
        # DRF falls back to the default for page_size=null or abc; a bad size is a 400.
        return page_size_param(
            request, self.page_size_query_param, default=self.page_size, maximum=self.max_page_size
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        self._model = getattr(queryset, "model", None)
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        position = str(cursor.position)
        if "\x00" in position or len(position) > 400:
            raise NotFound(self.invalid_cursor_message)
        # paginate_queryset has already resolved self.ordering to a tuple.
        ordering = self.ordering
        field_name = ordering[0] if isinstance(ordering, list | tuple) else ordering
        model = getattr(self, "_model", None)
        if model is not None:
            try:
                field = model._meta.get_field(field_name.lstrip("-"))
                field.to_python(position)
            except FieldDoesNotExist:
                pass
            except (ValidationError, ValueError, TypeError):
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
