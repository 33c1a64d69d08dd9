"""Every process that loads Django enqueues through the configured Celery app.

Docs: docs/architecture.md#background-work. A fresh interpreter (as a gunicorn worker
is) imports only Django and a task module, never ``api.celery`` by name: its
``@shared_task`` must still be bound to the ``govdesk`` app with the deployment's
broker settings, not to Celery's default app (which, with CELERY_BROKER_URL set to
``filesystem://``, would look for a relative ``data_in`` folder and fail to enqueue).
"""

from __future__ import annotations

import json
import subprocess

from tests.deploy.helpers import PYTHON, REPO, clean_env

PROBE = """
import json, django
django.setup()
from api.notify.tasks import deliver
from api.documents.tasks import render_document
app = deliver.app
print(json.dumps({
    "same_app": render_document.app is app,
    "main": app.main,
    "broker_url": app.conf.broker_url,
    "data_folder_in": app.conf.broker_transport_options.get("data_folder_in"),
}))
"""


def test_a_fresh_process_binds_shared_tasks_to_the_configured_app(tmp_path):
    env = clean_env(
        DJANGO_SETTINGS_MODULE="api.settings",
        GOVDESK_MODE="development",
        GOVDESK_VAR_DIR=str(tmp_path / "var"),
        CELERY_BROKER_URL="filesystem://",
    )
    done = subprocess.run(
        [str(PYTHON), "-c", PROBE], cwd=str(REPO), env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["same_app"] and seen["main"] == "govdesk", seen
    assert seen["broker_url"].startswith("filesystem://"), seen
    assert seen["data_folder_in"] == str(tmp_path / "var" / "broker" / "queue"), seen
