"""Signals of api.notify. Docs: docs/notifications.md#signals.

``notification_created(notification_id, recipient_id)`` is sent after the commit of
the transaction that wrote a Notification (never for a rolled-back one, never twice
for a de-duplicated one). The live channel (api/notify/live.py) listens to wake the
recipient's open streams; receivers must be cheap and must not raise.
"""

from django.dispatch import Signal

notification_created = Signal()
