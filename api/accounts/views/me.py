"""``GET /api/v1/me/``: who am I, from the database (docs/identity.md#me)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.accounts.authentication import current_session
from api.accounts.passwords import password_expires_at
from api.accounts.roles import assignments_of
from api.accounts.serializers.identity import MeSerializer
from api.accounts.views.auth import TAG, errors


class MeView(APIView):
    """The signed-in user, their unit and roles (read from the database now, never
    from the token), their second factor and this device's session."""

    allow_mfa_pending = True

    @extend_schema(tags=TAG, operation_id="me", responses={200: MeSerializer, **errors(401)})
    def get(self, request):
        user = request.user
        session = current_session(request)
        payload = {
            "id": user.pk,
            "username": user.username,
            "display_name": user.display_name,
            "title": user.title,
            "unit": {"id": user.unit_id, "name": user.unit.name},
            "roles": [{"role": a.role, "unit_id": a.unit_id} for a in assignments_of(user)],
            "has_totp": user.has_totp,
            "password_expires_at": password_expires_at(user),
            "session_id": session.pk if session is not None else None,
            "mfa_setup_required": session is not None and not session.mfa_satisfied,
        }
        return Response(MeSerializer(payload).data)
