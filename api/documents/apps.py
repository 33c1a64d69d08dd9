"""Official documents (公文). Docs: docs/documents.md."""

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "api.documents"
    label = "documents"
    verbose_name = "公文 Official documents"

    def ready(self) -> None:
        from api.documents import checks  # noqa: F401  (registers the system checks)
        from api.documents.rendering import checks as rendering_checks  # noqa: F401
