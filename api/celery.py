"""Celery application. Docs: docs/architecture.md#background-work.

JSON payloads only; tasks are enqueued after commit and are safe to run twice.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")

app = Celery("govdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
