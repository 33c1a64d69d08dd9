"""What the documents app asks of the workflow above it, without importing it.

Docs: docs/architecture.md#layers. The documents app is below the workflow, yet a
document's visibility, a 批示's task and a rendering's 签发人 depend on its tasks. The
workflow fills these answers in its AppConfig.ready() (api/workflow/document_facts.py);
before that — or in a deployment without the workflow — a document has no tasks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def _no_task(user: Any, document_id: int) -> bool:
    return False


def _no_user_task(document: Any, user: Any, task_id: int | None) -> Any:
    return None


def _no_signer(document: Any) -> str:
    return ""


@dataclass
class WorkflowFacts:
    # The user has or had a task on the document (themselves or held for them).
    has_task: Callable[[Any, int], bool] = _no_task
    # The user's open or done task on the document: the one named, or the latest;
    # a named task that is not theirs raises a 422 ApiError.
    user_task: Callable[[Any, Any, int | None], Any] = _no_user_task
    # The display name of whoever signed off the document last (签发人), or "".
    signer: Callable[[Any], str] = _no_signer


workflow = WorkflowFacts()
