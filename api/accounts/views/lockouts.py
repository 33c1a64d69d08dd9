"""An administrator's unlock of an account's failure counters (docs/identity.md#lockout)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.actions import identity
from api.accounts.views.auth import TAG, errors
from api.common.idempotency import idempotent
from api.common.serializers import StrictSerializer


class UnlockSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)


class UnlockResultSerializer(serializers.Serializer):
    username = serializers.CharField()
    cleared = serializers.IntegerField()


class UnlockView(APIView):
    """City IT admins only: forget every failure of the account from every address."""

    @extend_schema(
        tags=TAG,
        operation_id="auth_unlock",
        request=UnlockSerializer,
        responses={200: UnlockResultSerializer, **errors(400, 401, 403)},
    )
    @idempotent
    def post(self, request):
        body = UnlockSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        username = body.validated_data["username"]
        cleared = identity.admin_unlock(request.user, username)
        return Response({"username": username, "cleared": cleared})
