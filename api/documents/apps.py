"""Official documents (公文). Docs: docs/documents.md."""

from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "api.documents"
    label = "documents"
    verbose_name = "公文 Official documents"

    def ready(self) -> None:
        from api.documents import checks  # noqa: F401  (registers the system checks)
        from api.documents.orphans import ensure_upload_temp_dir
        from api.documents.rendering import checks as rendering_checks  # noqa: F401

        ensure_upload_temp_dir()  # FILE_UPLOAD_TEMP_DIR must exist before an upload spools

        from celery.signals import worker_ready

        from api.documents.orphans import sweep_at_start_up

        worker_ready.connect(
            lambda **kwargs: sweep_at_start_up(), weak=False, dispatch_uid="documents-orphans"
        )
