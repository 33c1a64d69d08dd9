"""Delivery channels for GovDesk notifications (docs/notifications.md).

Plain Python: no Django import (enforced by notifications/ruff.toml).
"""

from notifications.channels.base import (
    Channel,
    Message,
    Outcome,
    PermanentFailure,
    Result,
    RetryPolicy,
    Urgency,
    send_with_retry,
)

__all__ = [
    "Channel",
    "Message",
    "Outcome",
    "PermanentFailure",
    "Result",
    "RetryPolicy",
    "Urgency",
    "send_with_retry",
]
