"""Enqueue a Celery task once the current transaction commits: the one way to do it.

Docs: docs/architecture.md#background-work.

Actions name the task (``"api.exchange.tasks.fan_out_dispatch"``) instead of importing
another module's ``tasks.py``, so no app's actions depend on its own or anyone's task
modules (that is what made the actions↔tasks import loops). The task is looked up in
the Celery app's registry by name, importing its module on first use, and sent with
``delay`` so eager mode (tests) behaves exactly as a worker would.

A broker failure after commit is logged, never raised: the action has committed and its
answer must be the truth (docs/architecture.md#after-commit). Every task sent this way
is safe to run twice and has a sweep that finds work a lost message left behind.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def _task(name: str) -> Any:
    registry = current_app.tasks
    if name not in registry:
        importlib.import_module(name.rsplit(".", 1)[0])
    return registry[name]


def send_now(name: str, *args: Any, **kwargs: Any) -> bool:
    """Send ``name`` at once (outside a transaction, or from a task); True when sent."""
    try:
        _task(name).delay(*args, **kwargs)
    except Exception:  # broker down, unknown task: logged, the sweep catches up
        logger.exception("could not enqueue %s", name)
        return False
    return True


def enqueue_after_commit(name: str, *args: Any, **kwargs: Any) -> None:
    """Send task ``name`` with JSON ``args``/``kwargs`` after the surrounding commit.

    Outside an atomic block Django runs the callback at once. A rollback sends nothing.
    """
    transaction.on_commit(lambda: send_now(name, *args, **kwargs))
