"""Errors a connector raises to say how a failure should be treated.

Docs: docs/integrations.md#retries-and-dead-letters. ``TransientError`` (the other side is
down or busy: timeouts, refused or reset connections, HTTP 429/502/503/504) is retried with
exponential backoff, a bounded number of times; ``PermanentError`` (the record can never be
applied as sent) goes straight to the dead-letter list. Any other exception a handler
raises counts as permanent: retrying a bug does not fix it.
"""

from __future__ import annotations


class IntegrationError(Exception):
    """Base of the connector layer's errors. The message is kept as the record's
    ``last_error``: never put a secret or a whole payload in it."""


class TransientError(IntegrationError):
    pass


class PermanentError(IntegrationError):
    pass


# HTTP statuses that mean "try again later".
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
