"""FCM push channel via firebase-admin ``messaging.send_each`` (docs/notifications.md).

At most 500 messages per ``send_each`` call (FCM's limit); larger inputs are chunked.
Per-message errors from firebase-admin are classified:

* dead token, permanent -> disable the device: ``UNREGISTERED`` (app uninstalled / token
  expired), ``SENDER_ID_MISMATCH`` (token belongs to another project),
  ``INVALID_ARGUMENT`` (malformed token).
* transient: ``QUOTA_EXCEEDED`` / ``RESOURCE_EXHAUSTED``, ``UNAVAILABLE``, ``INTERNAL``,
  ``DEADLINE_EXCEEDED``, ``UNKNOWN`` (connection failures).
* anything else (``THIRD_PARTY_AUTH_ERROR``, ``UNAUTHENTICATED``, ``PERMISSION_DENIED``)
  is permanent for the channel configuration, not the token.

``fcm_url`` overrides the FCM v1 endpoint (tests and intranet relays); firebase-admin
has no public option for it, so it is set on the messaging service's ``_fcm_url``.
The OAuth token endpoint is the service account's ``token_uri``.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

from notifications.channels.base import Message, Result, Urgency, describe

MAX_BATCH = 500
DEAD_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH", "INVALID_ARGUMENT"})
TRANSIENT_CODES = frozenset(
    {"QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "DEADLINE_EXCEEDED",
     "UNKNOWN"}
)  # fmt: skip
_app_counter = itertools.count()


def error_code(exc: BaseException) -> str:
    """FCM-specific code when firebase-admin mapped one, else the canonical code."""

    if isinstance(exc, messaging.UnregisteredError):
        return "UNREGISTERED"
    if isinstance(exc, messaging.SenderIdMismatchError):
        return "SENDER_ID_MISMATCH"
    if isinstance(exc, messaging.QuotaExceededError):
        return "QUOTA_EXCEEDED"
    if isinstance(exc, messaging.ThirdPartyAuthError):
        return "THIRD_PARTY_AUTH_ERROR"
    if isinstance(exc, exceptions.FirebaseError):
        return str(exc.code)
    return "UNKNOWN"


@dataclass
class FcmChannel:
    """``service_account`` is the parsed service-account JSON (with ``token_uri``)."""

    service_account: Mapping[str, Any]
    fcm_url: str | None = None
    timeout: float = 10.0
    name: str = "fcm"
    _app: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        cred = credentials.Certificate(dict(self.service_account))
        self._app = firebase_admin.initialize_app(
            cred,
            {"projectId": self.service_account["project_id"], "httpTimeout": self.timeout},
            name=f"govdesk-fcm-{next(_app_counter)}",
        )
        if self.fcm_url:
            service = messaging._get_messaging_service(self._app)
            service._fcm_url = self.fcm_url.format(project_id=self.service_account["project_id"])

    def close(self) -> None:
        firebase_admin.delete_app(self._app)

    @staticmethod
    def to_fcm(message: Message) -> messaging.Message:
        high = message.urgency in (Urgency.HIGH, Urgency.VERY_URGENT)
        # firebase-admin 7.7 deprecates ``token`` in favour of ``fid`` (installation IDs);
        # devices register FCM registration tokens, which FCM v1 still addresses as
        # ``message.token``, so keep it and silence only this warning.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
            return FcmChannel._build(message, high)

    @staticmethod
    def _build(message: Message, high: bool) -> messaging.Message:
        return messaging.Message(
            token=message.recipient,
            notification=messaging.Notification(title=message.title, body=message.body),
            data={**message.data, "idempotency_key": message.idempotency_key},
            android=messaging.AndroidConfig(priority="high" if high else "normal"),
        )

    def send(self, messages: Sequence[Message]) -> list[Result]:
        out: list[Result] = []
        for start in range(0, len(messages), MAX_BATCH):
            out.extend(self._send_batch(list(messages[start : start + MAX_BATCH])))
        return out

    def _send_batch(self, batch: list[Message]) -> list[Result]:
        if not batch:
            return []
        try:
            response = messaging.send_each([self.to_fcm(m) for m in batch], app=self._app)
        except exceptions.FirebaseError as exc:  # e.g. OAuth token endpoint unreachable
            return [Result.transient_error(m, error_code(exc), describe(exc)) for m in batch]
        results: list[Result] = []
        for m, r in zip(batch, response.responses, strict=True):
            if r.success:
                results.append(Result.success(m, provider_message_id=r.message_id))
                continue
            code = error_code(r.exception)
            if code in TRANSIENT_CODES:
                results.append(Result.transient_error(m, code, describe(r.exception)))
            else:
                results.append(Result.permanent_error(m, code, describe(r.exception)))
        return results
