"""Conditional GET (ETag / If-None-Match → 304) and gzip for the API.

Docs: docs/mobile-api.md#etag-and-304 and docs/mobile-api.md#gzip.

ETag choice: a **weak ETag from a hash of the rendered body** (``W/"<sha256[:32]>"``),
computed after the view has rendered and before gzip. It is always right — any change
to anything the response shows (a task's state, an allowed action, a deadline crossing
into "overdue", a new opinion in the trail) changes the body and so the tag — and it
needs no per-model version markers to keep in step with the views. The price is that
a 304 saves the transfer (the slow mobile link), not the server's work: the view still
runs. Weak, because gzip and the random bytes it adds (BREACH mitigation) change the
bytes on the wire but not the meaning. Responses are per user, so they are marked
``Cache-Control: private, no-cache`` (a phone may keep them, must revalidate) and
``Vary: Authorization``.

Gzip: ``GZipMiddleware`` is Django's, minus the authentication endpoints. BREACH needs
a secret and attacker-chosen text compressed together in one response; the only API
responses carrying secrets are the token and second-factor endpoints (access/refresh
tokens, TOTP secrets), so those are sent uncompressed (``NO_GZIP_PREFIXES``). Every
other response is protected by bearer-token authentication (no cookies, so a
cross-site attacker cannot make the victim's browser send authenticated requests) and
carries no secrets to recover.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.utils.cache import get_conditional_response, patch_vary_headers

API_PREFIX = "/api/v1/"
# Responses that carry credentials or second-factor secrets are never compressed.
NO_GZIP_PREFIXES = ("/api/v1/auth/",)

Handler = Callable[[HttpRequest], HttpResponse]


def body_etag(content: bytes) -> str:
    """The weak ETag of a rendered body."""
    return 'W/"' + hashlib.sha256(content).hexdigest()[:32] + '"'


class ConditionalGetMiddleware:
    """Adds a weak ETag to successful GET/HEAD API responses and answers a matching
    ``If-None-Match`` with ``304 Not Modified`` (empty body, same ETag)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD")
            or response.status_code != 200
            or response.streaming
            or not request.path.startswith(API_PREFIX)
            or request.path.startswith(NO_GZIP_PREFIXES)
        ):
            return response
        if not response.has_header("ETag"):
            response.headers["ETag"] = body_etag(response.content)
        response.headers.setdefault("Cache-Control", "private, no-cache")
        patch_vary_headers(response, ("Authorization",))
        conditional = get_conditional_response(
            request, etag=response.headers["ETag"], response=response
        )
        return conditional if conditional is not None else response


class GZipMiddleware(DjangoGZipMiddleware):
    """Django's gzip, except for the credential-bearing endpoints (BREACH)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if request.path.startswith(NO_GZIP_PREFIXES):
            return response
        return super().process_response(request, response)
