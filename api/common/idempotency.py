"""Idempotency keys for state-changing requests, crash-safe (docs/api.md#idempotency).

A client that sends ``Idempotency-Key: <key>`` on a POST may repeat the request (double
tap, offline replay, lost response, a crashed server) and get the first answer again,
marked ``Idempotent-Replayed: true``, without the change happening twice.

How it holds after a crash: the decorated view runs inside **one database transaction**
that first inserts the key's row (``IdempotencyRecord``, unique per user and key), then
runs the view (the action's own ``atomic`` becomes a savepoint), then stores the answer
in that row. The row, the state change and its audit event commit together or not at
all, so a retry after ``kill -9`` either finds the committed answer and replays it, or
finds nothing and performs the action once. There is no "in progress" marker that a
crash could leave behind.

* A concurrent duplicate's insert waits on the first request's uncommitted row
  (PostgreSQL's unique index; SQLite's write lock) for up to
  ``GOVDESK_IDEMPOTENCY_WAIT_SECONDS`` and then replays the committed answer; if the
  first is still running after that, it is 409 ``idempotency_in_progress`` with
  ``Retry-After`` — never the generic ``conflict``.
* The same key with another method, path or body is 422 ``idempotency_key_reused``.
* 4xx answers are stored and replayed; a 5xx rolls everything back (nothing
  remembered, a retry runs again).
* A deadlock or serialization failure (PostgreSQL 40P01/40001) rolls the whole
  transaction back and the view runs again, up to ``TRANSIENT_ATTEMPTS`` times, so it
  is never shown as a 500 (docs/workflow.md#lock-order).
* After commit the answer is the truth: a failing ``on_commit`` callback (broker,
  cache) is logged and the committed answer is returned.

``record_denied`` (api/audit/recorder.py) may be called inside the transaction this
decorator opens (``in_request_transaction()``): a refusal is a 4xx, which commits.
Records older than ``GOVDESK_IDEMPOTENCY_TTL_SECONDS`` are treated as absent and
removed by ``api.common.tasks.prune_idempotency_records``.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import Http404
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from api.common.datetimes import ClientJSONRenderer
from api.common.errors import ApiError

logger = logging.getLogger(__name__)

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_\-:.]{8,128}$")
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure
LOCK_NOT_AVAILABLE = "55P03"
TRANSIENT_ATTEMPTS = 4
RETRY_AFTER_SECONDS = 2

# The atomic block this decorator opened for the current request, if any.
_request_block: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "govdesk_request_transaction", default=None
)


def in_request_transaction() -> bool:
    """True when the only open atomic block is the one ``@idempotent`` opened."""
    block = _request_block.get()
    if block is None or not connection.in_atomic_block:
        return False
    blocks = [b for b in connection.atomic_blocks if not getattr(b, "_from_testcase", False)]
    return len(blocks) == 1 and blocks[0] is block


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a Django database error, if any."""
    cause = exc.__cause__ or exc.__context__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, DatabaseError) and sqlstate(exc) in TRANSIENT_SQLSTATES


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


def request_hash(request: Request) -> str:
    raw = f"{request.method}|{request.path}|{_fingerprint(request)}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record: Any) -> Response:
    response = Response(record.body, status=record.status)
    response["Idempotent-Replayed"] = "true"
    return response


def _in_progress() -> ApiError:
    return ApiError(
        "idempotency_in_progress", status_code=409, extra={"retry_after": RETRY_AFTER_SECONDS}
    )


def _insert(user: Any, key: str, digest: str) -> Any:
    """Insert the key's row in a savepoint; None when a committed row already exists."""
    from api.common.models import IdempotencyRecord

    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                user=user, key=key, request_hash=digest, created_at=timezone.now()
            )
    except IntegrityError:
        return None
    except DatabaseError as exc:
        if sqlstate(exc) == LOCK_NOT_AVAILABLE:
            raise _in_progress() from exc
        raise


def _claim(user: Any, key: str, digest: str) -> Any:
    """The new row to fill in, or the committed answer as a replay ``Response``."""
    from api.common.models import IdempotencyRecord

    wait_ms = int(settings.GOVDESK_IDEMPOTENCY_WAIT_SECONDS * 1000)
    postgres = connection.vendor == "postgresql"
    previous = None
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            previous = cursor.fetchone()[0]
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{wait_ms}ms"])
    try:
        for _ in range(3):
            record = _insert(user, key, digest)
            if record is not None:
                return record
            existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if existing is None:  # pruned in between: insert again
                continue
            cutoff = timezone.now() - timedelta(seconds=settings.GOVDESK_IDEMPOTENCY_TTL_SECONDS)
            if existing.created_at < cutoff:  # expired: the key is free again
                existing.delete()
                continue
            if existing.request_hash != digest:
                raise ApiError("idempotency_key_reused", status_code=422)
            return _replay(existing)
        raise _in_progress()
    finally:
        if postgres and previous is not None and not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _body(response: Any) -> Any:
    data = getattr(response, "data", None)
    if data is None:
        return None
    return json.loads(ClientJSONRenderer().render(data) or b"null")


def _raised_by_commit_hook(exc: BaseException) -> bool:
    """The exception came out of an ``on_commit`` callback, i.e. after the COMMIT
    succeeded (Django runs the callbacks in ``run_and_clear_commit_hooks``)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "run_and_clear_commit_hooks":
            return True
        tb = tb.tb_next
    return False


def _run_once(view: Any, view_method: Callable, request: Request, args, kwargs, key, digest):
    response: Any = None
    try:
        block = transaction.atomic()
        with block:
            token = _request_block.set(block)
            try:
                record = _claim(request.user, key, digest) if key else None
                if isinstance(record, Response):
                    return record
                try:
                    response = view_method(view, request, *args, **kwargs)
                except (APIException, Http404, DjangoPermissionDenied) as exc:
                    response = view.handle_exception(exc)
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                    return response
                if record is not None:
                    record.status = response.status_code
                    record.body = _body(response)
                    record.save(update_fields=["status", "body"])
            finally:
                _request_block.reset(token)
    except Exception as exc:
        if response is not None and _raised_by_commit_hook(exc):
            # The action committed; a failing after-commit callback (broker, cache) must
            # not turn it into a 5xx. The sweeps catch up on what was not sent.
            logger.exception("after-commit callback failed; answering with the committed result")
            return response
        raise
    return response


def idempotent(view_method: Callable) -> Callable:
    """Decorate an APIView's ``post``/``patch``/``delete``: one transaction per request,
    the Idempotency-Key's record inside it, transient database failures retried."""

    @functools.wraps(view_method)
    def wrapper(self, request: Request, *args, **kwargs):
        key = request.META.get(HEADER)
        # Given but empty is a malformed key too, not "no key" (docs/api.md#types-and-validation).
        if key is not None and not KEY_PATTERN.fullmatch(key):
            raise ApiError("invalid_idempotency_key")
        if not request.user or not request.user.is_authenticated:
            key = None
        digest = request_hash(request) if key else ""
        attempt = 1
        while True:
            try:
                return _run_once(self, view_method, request, args, kwargs, key, digest)
            except DatabaseError as exc:
                if (
                    not is_transient(exc)
                    or attempt >= TRANSIENT_ATTEMPTS
                    or connection.in_atomic_block  # a caller's transaction: cannot redo
                ):
                    raise
                logger.warning("transient database failure (%s), retry %d", sqlstate(exc), attempt)
                time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311 - jitter only
                attempt += 1

    return wrapper
