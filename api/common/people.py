"""One shape for a person inside any response: ``{"id", "display_name"}``.

Docs: docs/api.md#people. A response that embeds a person (an actor, a sender, a
holder, a requester) gives exactly these two fields, plus an extra field only where
it is the point of that response (a unit in mail and VPN lists, a title on a post).
The person directory (GET /api/v1/people/) and the organisation's member list are the
people themselves, not embedded references, and carry more.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


def person_ref(user: Any) -> dict[str, Any] | None:
    """``{"id", "display_name"}`` of a user (anything with ``pk`` and ``display_name``)."""
    if user is None:
        return None
    return {"id": user.pk, "display_name": user.display_name}


class PersonRefSerializer(serializers.Serializer):
    """The schema (and renderer) of ``person_ref``."""

    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)
