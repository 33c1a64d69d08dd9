"""CSV, XLSX and PDF renderers of the statistics API. Docs: docs/supervision.md#exports.

The views hand the tabular renderers ``{"columns": [(key, header)], "rows": [dict]}``;
errors are always answered in JSON (``JsonErrorsMixin``), whatever format was asked.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response

from api.common.datetimes import ClientJSONRenderer


def _table(data: Any) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    return list(data["columns"]), list(data["rows"])


# A text cell starting with one of these is a formula to Excel and LibreOffice (and
# openpyxl stores a string starting with "=" as a formula outright). Unit and person
# names are typed by unit admins, and the exports are opened by supervisors: such a
# cell is prefixed with an apostrophe so that it stays text (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _is_table(data: Any) -> bool:
    return isinstance(data, dict) and "columns" in data and "rows" in data


class CSVRenderer(BaseRenderer):
    handles = staticmethod(_is_table)
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        columns, rows = _table(data)
        buffer = io.StringIO()
        # A byte-order mark so that Excel on Windows reads the Chinese headers as UTF-8.
        buffer.write("\ufeff")
        writer = csv.writer(buffer)
        writer.writerow([header for _, header in columns])
        for row in rows:
            writer.writerow([_cell(row.get(key)) for key, _ in columns])
        return buffer.getvalue().encode("utf-8")


class XLSXRenderer(BaseRenderer):
    handles = staticmethod(_is_table)
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        columns, rows = _table(data)
        book = Workbook()
        sheet = book.active
        sheet.title = str(data.get("sheet", "统计"))[:31]
        sheet.append([header for _, header in columns])
        for row in rows:
            sheet.append([_cell(row.get(key)) for key, _ in columns])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()


class PDFRenderer(BaseRenderer):
    handles = staticmethod(lambda data: isinstance(data, bytes))
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return data


class JsonErrorsMixin:
    """Anything that is not the export itself — an error envelope (docs/api.md#errors),
    OPTIONS metadata — is answered in JSON, whatever format was asked for."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        renderer = getattr(request, "accepted_renderer", None)
        handles = getattr(renderer, "handles", None)
        if isinstance(response, Response) and (
            renderer is None or (handles is not None and not handles(response.data))
        ):
            request.accepted_renderer = ClientJSONRenderer()
            request.accepted_media_type = ClientJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


class FirstRenderer(BaseContentNegotiation):
    """Always the view's first renderer (the PDF report), whatever Accept says."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type
