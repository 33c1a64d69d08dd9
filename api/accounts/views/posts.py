"""Posts (岗位) with A/B backups. Docs: docs/organisation.md#posts-and-ab-backups.

Seeing a unit's posts follows the members rule (404 for outsiders); creating,
changing and deleting them needs an admin of the unit's subtree (403 for people who
can see but not manage). Holder and backup must belong to the unit's subtree.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.accounts import selectors
from api.accounts.actions import org as actions
from api.accounts.serializers.org import (
    PostCreateSerializer,
    PostSerializer,
    PostUpdateSerializer,
)
from api.accounts.views.org_common import (
    ERR_400,
    ERR_403,
    ERR_404,
    NamePagination,
    errors,
    unit_or_404,
)
from api.common.auth import current_user
from api.common.errors import NotFound
from api.common.idempotency import idempotent


@extend_schema(tags=["organisation"])
class UnitPostsView(generics.ListAPIView):
    serializer_class = PostSerializer
    pagination_class = NamePagination

    def get_queryset(self):
        unit = unit_or_404(self.kwargs["pk"])
        actions.check_can_see_people(current_user(self.request), unit, "unit.posts")
        return selectors.posts(unit)

    @extend_schema(
        summary="Posts of a unit with their A (holder) and B (backup)",
        responses={200: PostSerializer(many=True), **errors(ERR_404)},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a post (admin of the unit's subtree)",
        request=PostCreateSerializer,
        responses={201: PostSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        unit = unit_or_404(pk)
        actions.check_can_see_people(current_user(request), unit, "post.create")
        data = PostCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = actions.create_post(current_user(request), unit, **data.validated_data)
        post = selectors.post_by_id(post.pk) or post
        return Response(PostSerializer(post).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["organisation"])
class PostDetailView(generics.GenericAPIView):
    serializer_class = PostSerializer

    def _post(self, request: Request, pk: int, action: str):
        post = selectors.post_by_id(pk)
        if post is None:
            raise NotFound()
        actions.check_can_see_post(current_user(request), post, action)
        return post

    @extend_schema(summary="One post", responses={200: PostSerializer, **errors(ERR_404)})
    def get(self, request: Request, pk: int) -> Response:
        return Response(PostSerializer(self._post(request, pk, "post.read")).data)

    @extend_schema(
        summary="Rename a post or change its holder (A) / backup (B); null clears",
        request=PostUpdateSerializer,
        responses={200: PostSerializer, **errors(ERR_400, ERR_403, ERR_404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        post = self._post(request, pk, "post.update")
        data = PostUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        post = actions.update_post(current_user(request), post, dict(data.validated_data))
        return Response(PostSerializer(post).data)

    @extend_schema(summary="Delete a post", responses={204: None, **errors(ERR_403, ERR_404)})
    def delete(self, request: Request, pk: int) -> Response:
        post = self._post(request, pk, "post.delete")
        actions.delete_post(current_user(request), post)
        return Response(status=status.HTTP_204_NO_CONTENT)
