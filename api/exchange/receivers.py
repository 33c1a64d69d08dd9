"""The exchange listens to the workflow: an incoming document returned to its sender
(初审 退回) and a reply (答复) reach the sending unit.
Docs: docs/exchange.md#results-of-the-incoming-flow.

Connected in ExchangeConfig.ready(); both run inside the workflow action's
transaction (api/workflow/signals.py), so the receipt and the task change together.
"""

from __future__ import annotations

from typing import Any

from api.exchange import actions


def on_returned_to_sender(sender: Any, *, task: Any, reason: str, actor: Any, now: Any, **_: Any):
    return actions.flow_returned_to_sender(task, actor, reason, now)


def on_reply_given(sender: Any, *, task: Any, text: str, actor: Any, now: Any, **_: Any):
    return actions.send_reply(task, actor, text, now)


def connect() -> None:
    from api.workflow.signals import reply_given, returned_to_sender

    returned_to_sender.connect(on_returned_to_sender, dispatch_uid="exchange.returned_to_sender")
    reply_given.connect(on_reply_given, dispatch_uid="exchange.reply_given")
