"""Idempotency keys for state-changing requests from phones (docs/api.md#idempotency).

A phone that sends ``Idempotency-Key: <uuid>`` on a POST may repeat the request
(double tap, offline replay, lost response) and get the first answer again, marked
``Idempotent-Replayed: true``, without the change happening twice. The record is
keyed by user, method, path and key and remembers a fingerprint of the body: the
same key with a different body is 422 ``idempotency_key_reused``; a repeat while the
first is still running is 409 ``conflict``. Records live in the shared cache
(Redis, or a database table in the demo) for GOVDESK_IDEMPOTENCY_TTL_SECONDS.
Server errors are not remembered, so a retry after a 5xx runs again. The domain
actions stay idempotent on their own; this layer makes the *response* repeatable.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.errors import ApiError, Conflict

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,128}$")
IN_PROGRESS = "in-progress"


def _cache_key(request: Request, key: str) -> str:
    raw = f"{request.user.pk}|{request.method}|{request.path}|{key}"
    return "idem:" + hashlib.sha256(raw.encode()).hexdigest()


def _fingerprint(request: Request) -> str:
    """What "the same request" means. JSON: the raw body. Multipart: the form fields and
    each file's name and content, read in chunks — an upload may be larger than
    DATA_UPLOAD_MAX_MEMORY_SIZE and cannot be read as ``request.body``."""
    if not (request.content_type or "").startswith("multipart/"):
        return hashlib.sha256(request.body or b"").hexdigest()
    digest = hashlib.sha256()
    for name in sorted(request.POST):
        digest.update(f"{name}={request.POST.getlist(name)}\x00".encode())
    for field in sorted(request.FILES):
        for upload in request.FILES.getlist(field):
            digest.update(f"{field}:{upload.name}\x00".encode("utf-8", "replace"))
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()


def idempotent(view_method: Callable) -> Callable:
    """Decorate an APIView's ``post``/``patch``/``delete``."""

    @functools.wraps(view_method)
    def wrapper(self, request: Request, *args, **kwargs):
        key = request.META.get(HEADER)
        if not key or not request.user.is_authenticated:
            return view_method(self, request, *args, **kwargs)
        if not KEY_PATTERN.match(key):
            raise ApiError("invalid_idempotency_key")
        cache_key = _cache_key(request, key)
        fingerprint = _fingerprint(request)
        ttl = settings.GOVDESK_IDEMPOTENCY_TTL_SECONDS
        if not cache.add(cache_key, {"state": IN_PROGRESS, "fp": fingerprint}, ttl):
            stored = cache.get(cache_key)
            if stored is None:  # expired between add and get: treat as new
                return view_method(self, request, *args, **kwargs)
            if stored["fp"] != fingerprint:
                raise ApiError("idempotency_key_reused", status_code=422)
            if stored["state"] == IN_PROGRESS:
                raise Conflict()
            response = Response(stored["data"], status=stored["status"])
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = view_method(self, request, *args, **kwargs)
        except ApiError as exc:
            if exc.status_code < 500:
                handled = self.handle_exception(exc)
                cache.set(
                    cache_key,
                    {
                        "state": "done",
                        "fp": fingerprint,
                        "status": handled.status_code,
                        "data": handled.data,
                    },
                    ttl,
                )
                return handled
            cache.delete(cache_key)
            raise
        except Exception:
            cache.delete(cache_key)
            raise
        if response.status_code >= 500:
            cache.delete(cache_key)
        else:
            cache.set(
                cache_key,
                {
                    "state": "done",
                    "fp": fingerprint,
                    "status": response.status_code,
                    "data": response.data,
                },
                ttl,
            )
        return response

    return wrapper
