"""GovDesk API (the Django project). Docs: docs/architecture.md.

The Celery app is imported here so that every process that loads Django (gunicorn
workers included) binds ``@shared_task`` to it: otherwise a web process that had not
yet imported ``api.celery`` would enqueue through Celery's unconfigured default app
(docs/architecture.md#background-work).
"""

from api.celery import app as celery_app

__all__ = ("celery_app",)
