"""Production mode, as a deployment starts it: real processes, real environment.

Docs: docs/operations.md#modes. `manage.py check --deploy` must be clean with a
production environment, and production must refuse to start with the development
secret key or with DEBUG on — whatever command starts it (web, worker, manage.py).
"""

from __future__ import annotations

import secrets
import subprocess

import pytest

from tests.deploy.helpers import PYTHON, REPO, clean_env


def production_env(tmp_path, **overrides: str) -> dict[str, str]:
    values = {
        "GOVDESK_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "GOVDESK_SEAL_KEY_PASSPHRASE": secrets.token_urlsafe(24),
        "GOVDESK_VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "oa.example.gov.cn",
        "GOVDESK_ALLOWED_NETWORKS": "10.0.0.0/8",
        "GOVDESK_TRUSTED_PROXIES": "172.30.100.0/24",
    }
    values.update(overrides)
    return clean_env(**{k: v for k, v in values.items() if v is not None})


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_the_development_secret_key(tmp_path):
    import api.settings

    env = production_env(tmp_path, SECRET_KEY=api.settings.DEV_SECRET_KEY)
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key(tmp_path):
    result = manage(production_env(tmp_path, SECRET_KEY="change-me"), "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("debug", ["true", "1", "on"])
def test_production_refuses_debug(tmp_path, debug):
    result = manage(production_env(tmp_path, DEBUG=debug), "check")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_the_worker_refuses_too(tmp_path):
    """The Celery worker loads the same settings and stops with the same message."""
    env = production_env(tmp_path, DEBUG="true", CELERY_BROKER_URL="memory://")
    result = subprocess.run(
        [PYTHON, "-m", "celery", "-A", "api", "worker", "--pool=solo", "--loglevel=INFO"],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr + result.stdout


def test_a_bad_value_stops_start_up_and_names_the_variable(tmp_path):
    result = manage(production_env(tmp_path, GOVDESK_ALLOWED_NETWORKS="10.0.0.0/33"), "check")
    assert result.returncode != 0
    assert "GOVDESK_ALLOWED_NETWORKS" in result.stderr


def test_plain_http_is_redirected_to_https_in_production(tmp_path):
    """SECURE_SSL_REDIRECT is on by default; nginx sets X-Forwarded-Proto."""
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(REMOTE_ADDR='10.1.2.3')\n"
        "r = c.get('/api/v1/health/', HTTP_HOST='oa.example.gov.cn')\n"
        "print(r.status_code, r.headers.get('Location'))\n"
    )
    env = production_env(tmp_path, DJANGO_SETTINGS_MODULE="api.settings")
    result = subprocess.run(
        [PYTHON, "-c", code], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["301", "https://oa.example.gov.cn/api/v1/health/"]
