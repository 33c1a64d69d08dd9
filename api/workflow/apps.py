"""The workflow engine (公文流转): templates, instances, tasks. Docs: docs/workflow.md."""

from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "api.workflow"
    label = "workflow"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Delegation: move tasks when an absence starts or ends (docs/workflow.md#delegation).
        import api.workflow.receivers  # noqa: F401
        from api.workflow import document_facts

        # What the documents app (a lower layer) asks of tasks (api/documents/hooks.py).
        document_facts.install()
