"""docker/: the compose file, the image and the reverse proxy, checked without a Docker
engine. Docs: docs/operations.md#deployment-with-compose.

`docker-compose config` (Debian's docker-compose, installed by .ci/run) must accept
docker/compose.yaml; the services must run the real modules (api.wsgi, the Celery app
``api``) and be wired as the deployment needs (health checks, start order, volumes,
trusted proxies = nginx's network). tests/deploy/test_native_stack.py runs the same
commands against PostgreSQL and Redis.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.helpers import PYTHON, REPO, clean_env

DOCKER = REPO / "docker"
COMPOSE = DOCKER / "compose.yaml"
APP_SERVICES = ("setup", "web", "worker", "beat", "smpp-receipts")
# Started only with their profile (docs/notifications.md#zero-internet-profile).
OPTIONAL_SERVICES = {"smpp-receipts": "smpp", "prosody": "xmpp"}


def _compose_cli() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _command(service: dict) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def test_docker_compose_config_accepts_the_file(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip(
            "docker-compose is not installed (apt-get install docker-compose; .ci/run does)"
        )
    result = subprocess.run(
        [*cli, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),  # the file's own directory is the project directory
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == set(APP_SERVICES) | {
        "postgres",
        "redis",
        "nginx",
        "prosody",
        "janus",
    }
    # The env file was found and merged into every application service.
    for name in APP_SERVICES:
        assert resolved["services"][name]["environment"]["GOVDESK_MODE"] == "production"


def test_the_services_of_the_distributed_deployment(services):
    assert set(services) - set(OPTIONAL_SERVICES) == {
        "postgres", "redis", "setup", "web", "worker", "beat", "nginx", "janus"
    }  # fmt: skip
    for name, profile in OPTIONAL_SERVICES.items():
        assert services[name]["profiles"] == [profile]
    assert _command(services["smpp-receipts"]) == ["manage", "notify_smpp_receipts"]


def test_commands_name_real_modules(services):
    web = _command(services["web"])
    assert web[0] == "gunicorn"
    assert "api.wsgi:application" in web
    assert any(arg.startswith("--bind=0.0.0.0:8000") for arg in web)
    assert _command(services["worker"])[:4] == ["celery", "-A", "api", "worker"]
    assert _command(services["beat"])[:4] == ["celery", "-A", "api", "beat"]
    assert _command(services["setup"]) == ["setup"]
    # Those names resolve: the WSGI module and the Celery app exist in the code.
    for module in ("api.wsgi", "api.celery"):
        assert importlib.util.find_spec(module) is not None, module
    assert "app = Celery(" in (REPO / "api" / "celery.py").read_text()
    # `setup` is the entrypoint's sub-command that checks, migrates and collects.
    entrypoint = (DOCKER / "entrypoint.sh").read_text()
    for step in (
        "manage.py check --deploy --fail-level WARNING",
        "manage.py migrate --noinput",
        "manage.py collectstatic --noinput",
    ):
        assert step in entrypoint


def test_janus_runs_from_the_image_with_its_media_ports(compose, services):
    janus = services["janus"]
    assert janus["image"].startswith("govdesk:") and janus["read_only"] is True
    assert _command(janus) == ["python", "-m", "api.meetings.janus", "serve"]
    assert importlib.util.find_spec("api.meetings.janus.__main__") is not None
    assert "20000-20199:20000-20199/udp" in janus["ports"]
    assert janus["environment"]["GOVDESK_JANUS_RTP_PORTS"] == "20000-20199"
    # GovDesk reaches it on the backend; nginx proxies browsers' WebSocket to it.
    assert set(janus["networks"]) == {"backend", "media"}
    assert "media" in services["nginx"]["networks"]
    conf = (DOCKER / "nginx.conf").read_text()
    assert "location = /janus-ws" in conf and "proxy_pass http://janus:8188/;" in conf
    assert "janus" in (DOCKER / "Dockerfile").read_text()
    env = _env_file(DOCKER / ".env.example")
    assert env["GOVDESK_JANUS_API_URL"] == "http://janus:8088/janus"


def test_every_service_has_a_health_check_and_waits_for_what_it_needs(services):
    for name, service in services.items():
        if name == "setup":
            continue  # a one-shot job: its success is the condition the others wait for
        assert "healthcheck" in service, name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["setup"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ("setup", "web", "worker"):
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    # The health checks call the script the image installs, with the right role.
    for name in ("web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"] == ["CMD", "govdesk-healthcheck", name]


def test_application_services_run_hardened_in_production_mode(services):
    env = _env_file(DOCKER / ".env.example")
    assert env["GOVDESK_MODE"] == "production"
    for name in APP_SERVICES:
        service = services[name]
        assert service["image"].startswith("govdesk:")
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name
        assert service["env_file"] == "${GOVDESK_ENV_FILE:-.env.example}", name
    assert services["setup"]["build"] == {"context": "..", "dockerfile": "docker/Dockerfile"}


def test_web_trusts_forwarded_for_only_from_the_nginx_network(compose, services):
    subnet = compose["networks"]["frontend"]["ipam"]["config"][0]["subnet"]
    trusted = services["web"]["environment"]["GOVDESK_TRUSTED_PROXIES"]
    assert trusted == subnet == "${GOVDESK_PROXY_SUBNET:-172.30.100.0/24}"
    ipaddress.ip_network(subnet.split(":-")[1].rstrip("}"))
    # Only nginx and web sit on that network; the databases have no way out.
    on_frontend = {n for n, s in services.items() if "frontend" in s.get("networks", [])}
    assert on_frontend == {"nginx", "web"}
    assert compose["networks"]["backend"]["internal"] is True
    for name in ("postgres", "redis"):
        assert services[name]["networks"] == ["backend"]
        assert "ports" not in services[name]


def test_volumes_are_named_and_shared_where_needed(compose, services):
    assert set(compose["volumes"]) == {
        "pgdata",
        "redisdata",
        "static",
        "beat",
        "attachments",
        "rendered",
        "seals",
        "instructions",
        "prosody",
    }
    for volume, spec in compose["volumes"].items():
        assert spec == {"name": f"govdesk_{volume}"}  # docs/operations.md names them
    for name in ("web", "worker"):  # web stores attachments, the worker reads them
        assert "attachments:/var/lib/govdesk/attachments" in services[name]["volumes"]
        # the worker renders and seals; web serves the results
        assert "rendered:/var/lib/govdesk/rendered" in services[name]["volumes"]
        assert "seals:/var/lib/govdesk/seals" in services[name]["volumes"]
    assert "static:/var/lib/govdesk/static" in services["setup"]["volumes"]
    assert "static:/var/lib/govdesk/static:ro" in services["web"]["volumes"]
    assert "static:/srv/static:ro" in services["nginx"]["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    schedule = next(a for a in _command(services["beat"]) if a.startswith("--schedule="))
    assert schedule.split("=", 1)[1].startswith("/var/lib/govdesk/beat/")
    assert "beat:/var/lib/govdesk/beat" in services["beat"]["volumes"]


def test_nginx_serves_static_and_forwards_the_client_address():
    conf = (DOCKER / "nginx.conf").read_text()
    assert "server web:8000;" in conf
    assert re.search(r"location /static/ \{\s*root /srv;", conf)
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "location = /nginx-health" in conf
    assert "server_tokens off;" in conf


def test_env_example_names_only_real_settings_and_cannot_go_live_unedited():
    env = _env_file(DOCKER / ".env.example")
    settings_text = (REPO / "api" / "settings.py").read_text()
    read_by_settings = set(re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', settings_text))
    read_elsewhere = {
        "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD",  # the postgres image
        "REDIS_PASSWORD",  # the redis service's command
        "WEB_CONCURRENCY",  # gunicorn
        "GOVDESK_ENV_FILE",  # compose.yaml
    }  # fmt: skip
    assert set(env) - read_by_settings - read_elsewhere == set()
    assert env["DATABASE_URL"].endswith("@postgres:5432/govdesk")
    assert env["POSTGRES_PASSWORD"] in env["DATABASE_URL"]
    assert env["REDIS_PASSWORD"] in env["CELERY_BROKER_URL"]
    # The placeholder secret is refused by production mode.
    result = subprocess.run(
        [PYTHON, "-c", "import api.settings"],
        cwd=str(REPO),
        env=clean_env(**{k: v for k, v in env.items() if v}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def _stages(dockerfile: str) -> dict[str, str]:
    parts = re.split(r"^FROM\s+", dockerfile, flags=re.MULTILINE)[1:]
    stages = {}
    for part in parts:
        header, _, body = part.partition("\n")
        name = header.split(" AS ")[-1].strip() if " AS " in header else header.strip()
        stages[name] = header + "\n" + body
    return stages


def test_dockerfile_is_multi_stage_non_root_and_health_checked():
    text = (DOCKER / "Dockerfile").read_text()
    stages = _stages(text)
    assert list(stages) == ["wheels", "pwa", "runtime"]
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "ARG NODE_IMAGE=node:20" in text
    runtime = stages["runtime"]
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime")
    assert "-c requirements.lock" in stages["wheels"]
    assert "build-essential" in stages["wheels"] and "build-essential" not in runtime
    assert "pip install" not in runtime
    # The runtime stage installs only what the running code calls — the CJK fonts the
    # renderer embeds, poppler (page images and text), LibreOffice without a GUI
    # (attachment previews), Janus (video meetings) — no build tools.
    runtime_packages = {
        word
        for line in runtime.splitlines()
        if "apt-get install" in line
        for word in line.split("--no-install-recommends", 1)[-1].replace("\\", " ").split()
        if not word.startswith("&")
    }
    assert runtime_packages <= {
        "fonts-arphic-uming", "fonts-arphic-ukai", "fonts-wqy-microhei", "janus", "poppler-utils",
        "libreoffice-core-nogui", "libreoffice-writer-nogui", "libreoffice-calc-nogui",
        "libreoffice-impress-nogui",
    }  # fmt: skip
    assert re.search(r"^USER govdesk", runtime, flags=re.MULTILINE)
    assert "HEALTHCHECK" in runtime and "govdesk-healthcheck" in runtime
    # Every file or folder the build copies from the context exists in the repository
    # (pwa* may match nothing while the PWA does not exist yet).
    for line in re.findall(r"^COPY (?!--from)(.+)$", text, flags=re.MULTILINE):
        sources = [s for s in line.split()[:-1] if not s.startswith("--")]
        for source in sources:
            if "*" not in source:
                assert (REPO / source).exists(), source


def test_entrypoint_and_healthcheck_are_executable():
    for name in ("entrypoint.sh", "healthcheck.py"):
        assert (DOCKER / name).stat().st_mode & 0o111, name
    result = subprocess.run(["sh", "-n", str(DOCKER / "entrypoint.sh")], capture_output=True)
    assert result.returncode == 0, result.stderr


def test_nginx_serves_every_file_of_the_pwa_build_as_django_would():
    """nginx serves the app from the static volume (manage.py publish_pwa copies it
    there): every top-level file of the build must match one of its PWA locations, with
    the caching and the Content-Security-Policy that WhiteNoise gives in the demo."""
    from django.conf import settings

    conf = (DOCKER / "nginx.conf").read_text()
    dist = REPO / "pwa" / "dist"
    assert (dist / "index.html").is_file(), "no PWA build: `make test` runs `make pwa` first"
    pattern = re.search(r'location ~ "(\^/\(sw[^"]+)"', conf)
    assert pattern, "the PWA's top-level files location"
    top_level = re.compile(pattern.group(1).replace("\\\\", "\\"))
    for path in dist.rglob("*"):
        name = path.relative_to(dist).as_posix()
        if path.is_dir() or name.endswith((".gz", ".br")) or name.startswith("assets/"):
            continue
        if name == "index.html":
            continue  # served by `location = /`
        assert top_level.match("/" + name), f"nginx would proxy /{name} instead of serving it"
    assert re.search(r"location /assets/ \{\s*root /srv/static/app;", conf)
    assert 'add_header Cache-Control "public, max-age=31536000, immutable";' in conf
    csp = re.search(r'add_header Content-Security-Policy "([^"]+)";', conf)
    assert csp and csp.group(1) == settings.PWA_CONTENT_SECURITY_POLICY
    entrypoint = (DOCKER / "entrypoint.sh").read_text()
    assert "python manage.py publish_pwa --if-built" in entrypoint
