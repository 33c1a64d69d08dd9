"""One datetime format in every response: ISO 8601 in Asia/Shanghai, offset ``+08:00``.

Docs: docs/api.md#datetimes. DRF's ``DateTimeField`` already renders model fields in
the server's zone; ``client_datetime`` gives the same string for the datetimes a view,
action or task puts into a response by hand, and ``ClientJSONEncoder`` catches any
datetime object left in a response body. Internal values (database columns, Celery
payloads, cache entries, cursors) stay as they are; an audit ``detail`` is stored in
this format because the audit API shows it as stored (rows already written keep their
text, as their hashes require). Dates (``YYYY-MM-DD``) stay dates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, overload

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from api.common.i18n import Msg


@overload
def client_datetime(value: datetime) -> str: ...
@overload
def client_datetime(value: None) -> None: ...
@overload
def client_datetime(value: datetime | None) -> str | None: ...
def client_datetime(value: datetime | None) -> str | None:
    """``value`` as the API shows it: ISO 8601 with the server zone's offset (+08:00).

    A naive datetime is taken to be in the server's zone already.
    """
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return timezone.localtime(value).isoformat()


class ClientJSONEncoder(JSONEncoder):
    """DRF's encoder, but a datetime is rendered as ``client_datetime`` (never ``Z``)
    and a bilingual ``Msg`` in the response's language."""

    def default(self, obj: Any) -> Any:
        if isinstance(obj, datetime):
            return client_datetime(obj)
        if isinstance(obj, Msg):
            return str(obj)
        return super().default(obj)


class ClientDjangoJSONEncoder(DjangoJSONEncoder):
    """The same for Django ``JsonResponse`` bodies (error envelopes from middleware)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return client_datetime(o)
        return super().default(o)


class ClientJSONRenderer(JSONRenderer):
    """The API's JSON renderer (settings REST_FRAMEWORK DEFAULT_RENDERER_CLASSES)."""

    encoder_class = ClientJSONEncoder
