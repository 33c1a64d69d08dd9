"""Settings for the test suite: the environment is pinned here, not inherited.

DATABASE_URL and CELERY_BROKER_URL come from the caller (.ci/run sets PostgreSQL
and Redis); unset, the suite runs on SQLite with an in-memory broker.
"""

import os
import tempfile

os.environ["GOVDESK_MODE"] = "test"
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("GOVDESK_VAR_DIR", tempfile.mkdtemp(prefix="govdesk-test-"))
os.environ.pop("DEBUG", None)
os.environ.pop("GOVDESK_ALLOWED_NETWORKS", None)
os.environ.pop("GOVDESK_TRUSTED_PROXIES", None)

from api.settings import *  # noqa: F403

STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Fast hashing in tests; tests/api/accounts/test_hashers.py checks the real profile.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"login": "10000/min"}}  # noqa: F405
