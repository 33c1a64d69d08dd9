"""Search (全文检索) over posts the caller may see. Docs: docs/publishing.md#search."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.common import params
from api.common.datetimes import client_datetime
from api.common.errors import ApiError
from api.common.i18n import between, t
from api.common.schema import ERR_400, errors
from api.common.search import MAX_QUERY_CHARS, matching, query_terms
from api.publishing import selectors
from api.publishing.serializers import SearchPageSerializer, unit_ref
from api.publishing.views.common import actor

PAGE_SIZE = 20
MAX_PAGES = 25


class SearchView(APIView):
    @extend_schema(
        tags=["search"],
        operation_id="search",
        summary="Full-text search in Chinese over the posts the caller may see",
        description=(
            "Words are cut by jieba; every word must match (a two-character word such as "
            "安全 or 防汛 is found inside longer words too). Results rank by relevance and "
            "date, newest first on ties; posts past their end date are included. "
            "`page` 1–25, 20 per page."
        ),
        parameters=[
            OpenApiParameter("q", str, required=True),
            OpenApiParameter("page", int, default=1),
        ],
        responses={200: SearchPageSerializer, **errors(ERR_400)},
    )
    def get(self, request: Request) -> Response:
        user = actor(request)
        q = params.str_param(request, "q", max_length=MAX_QUERY_CHARS) or ""
        if not q.strip():
            raise ApiError("validation_error", fields={"q": [t("请输入关键词。", "Enter words.")]})
        page = params.int_param(request, "page") or 1
        if not 1 <= page <= MAX_PAGES:
            raise ApiError("validation_error", fields={"page": [between(1, MAX_PAGES)]})
        queryset = matching(
            selectors.published_for(user).select_related(*selectors.LIST_RELATED),
            q,
            date_field="published_at",
        )
        start = (page - 1) * PAGE_SIZE
        rows = list(queryset[start : start + PAGE_SIZE + 1])
        more = len(rows) > PAGE_SIZE
        return Response(
            {
                "q": q,
                "terms": query_terms(q),
                "next": f"/api/v1/search/?page={page + 1}" if more and page < MAX_PAGES else None,
                "results": [
                    {
                        "type": "post",
                        "id": post.pk,
                        "title": post.title,
                        "summary": post.summary,
                        "channel": {"id": post.channel_id, "name": post.channel.name},
                        "author_unit": unit_ref(post.author_unit),
                        "published_at": client_datetime(post.published_at),
                        "url": f"/api/v1/posts/{post.pk}/",
                    }
                    for post in rows[:PAGE_SIZE]
                ],
            }
        )
