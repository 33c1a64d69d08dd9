"""GovDesk settings: one module, every value from the environment, typed.

Docs: docs/operations.md lists each variable. A bad value stops start-up with a
message naming it (api/env.py). ``GOVDESK_MODE`` is ``development`` (the demo, the
default), ``test`` (pinned by tests/conftest.py) or ``production``; production refuses
to start with the development secret key or with DEBUG on.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from api.env import Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("GOVDESK_VAR_DIR", str(BASE_DIR / "var")))

MODE = env.choice("GOVDESK_MODE", "development", ("development", "test", "production"))
PRODUCTION = MODE == "production"
DEV_SECRET_KEY = "govdesk-development-only-secret-key-never-use-in-production-0000"  # noqa: S105 (refused in production)

SECRET_KEY = env.secret("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", False)

if PRODUCTION:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random value of at least 50 characters in production"
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver", "[::1]"])

# --- Network zones (vpn_gateway/zones.py, docs/network-zones.md) -------------
GOVDESK_ALLOWED_NETWORKS = env.networks("GOVDESK_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
GOVDESK_TRUSTED_PROXIES = env.networks("GOVDESK_TRUSTED_PROXIES", [])

# --- VPN (vpn_gateway/, api/vpn, docs/vpn.md) --------------------------------
GOVDESK_VPN_POOL = env.str("GOVDESK_VPN_POOL", "10.99.0.0/16")
GOVDESK_VPN_GATEWAY_ADDRESS = env.str("GOVDESK_VPN_GATEWAY_ADDRESS", "")
GOVDESK_VPN_ENDPOINT = env.str("GOVDESK_VPN_ENDPOINT", "")
GOVDESK_VPN_SERVER_PUBLIC_KEY = env.str("GOVDESK_VPN_SERVER_PUBLIC_KEY", "")
GOVDESK_VPN_CLIENT_ROUTES = env.networks("GOVDESK_VPN_CLIENT_ROUTES", [GOVDESK_VPN_POOL])
GOVDESK_VPN_DNS = env.list("GOVDESK_VPN_DNS", [])
GOVDESK_VPN_MAX_DAYS = env.int("GOVDESK_VPN_MAX_DAYS", 365, minimum=1, maximum=3660)
GOVDESK_VPN_QUARANTINE_DAYS = env.int("GOVDESK_VPN_QUARANTINE_DAYS", 30, minimum=0)
GOVDESK_VPN_CONNECTED_SECONDS = env.int("GOVDESK_VPN_CONNECTED_SECONDS", 180, minimum=30)
GOVDESK_VPN_KEEPALIVE_SECONDS = env.int("GOVDESK_VPN_KEEPALIVE_SECONDS", 25, minimum=0)
GOVDESK_VPN_PEER_CACHE_SECONDS = env.int("GOVDESK_VPN_PEER_CACHE_SECONDS", 30, minimum=0)


INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api.common",
    "api.accounts",
    "api.audit",
    "api.documents",
    "api.workdays",
    "api.workflow",
    "api.seals",
    "api.notify",
    "api.urging",
    "api.vpn",
    "api.exchange",
    "api.submissions",
    "api.supervision",
    "api.stats",
    "api.meetings",
    "api.office",
    "api.mail",
    "api.publishing",
    "api.accountability",
    "api.integrations",
    "api.integrations.esupervision",
    "api.integrations.video",
    "api.integrations.citymgmt",
    "api.integrations.emergency",
    "api.integrations.basedata",
    "api.integrations.govsite",
    "api.portal",
    "api.demo",
]

MIDDLEWARE = [
    "django.middleware.locale.LocaleMiddleware",
    "api.common.middleware.RequestContextMiddleware",
    "api.vpn.middleware.NetworkZoneMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # gzip outside the ETag (docs/mobile-api.md#gzip): the tag hashes the plain body.
    "api.common.conditional.GZipMiddleware",
    "api.common.conditional.ConditionalGetMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "api.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The API authenticates with bearer tokens (DRF views are CSRF-exempt); the
    # middleware guards any cookie-based view and keeps `check --deploy` clean.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "api.urls"
WSGI_APPLICATION = "api.wsgi.application"
ASGI_APPLICATION = "api.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# --- Database ----------------------------------------------------------------------------
DATABASE_URL = env.url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'govdesk.sqlite3'}",
    ("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES: dict[str, dict] = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the web server, worker and beat of the demo share one file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DATABASE_IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: Redis when REDIS_URL is set, else a database table every process shares ----
# (idempotency records live here; lockout counters live in their own table).
REDIS_URL = env.url("REDIS_URL", "", ("redis", "rediss"))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "govdesk_cache",
        }
    )
}
# Idempotency records live in the database, in the transaction of the action they guard
# (docs/api.md#idempotency); a duplicate waits this long for the first request to finish.
GOVDESK_IDEMPOTENCY_TTL_SECONDS = env.int("GOVDESK_IDEMPOTENCY_TTL_SECONDS", 24 * 3600, minimum=60)
GOVDESK_IDEMPOTENCY_WAIT_SECONDS = env.int("GOVDESK_IDEMPOTENCY_WAIT_SECONDS", 5, minimum=1)

# --- Celery ------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.url(
    "CELERY_BROKER_URL", "filesystem://", ("filesystem", "redis", "rediss", "amqp", "memory")
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The folder is polled: every 0.2 s rather than kombu's 1 s, so that a demo
        # worker behind a backlog (the seed's connector records) still answers an
        # emergency webhook within seconds (docs/integrations.md#emergency).
        "polling_interval": 0.2,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
# Periodic work; each task is safe to run twice (docs/operations.md#background-work).
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "api.common.tasks.heartbeat", "schedule": 60.0},
    "sweep-orphans": {"task": "api.documents.tasks.sweep_orphans", "schedule": 900.0},
    "prune-idempotency": {
        "task": "api.common.tasks.prune_idempotency_records",
        "schedule": 3600.0,
    },
    "flush-expired-tokens": {
        "task": "api.accounts.tasks.flush_expired_tokens",
        "schedule": 6 * 3600.0,
    },
    "prune-audit": {"task": "api.audit.tasks.prune_audit_events", "schedule": 24 * 3600.0},
    # A/B delegation: absences starting/ending fire their signal (docs/delegation.md).
    "sweep-absences": {"task": "api.accounts.tasks.sweep_absences", "schedule": 60.0},
    # Notifications: outbox sweep (due rows, expired leases) and the reminder ladder.
    "notify-sweep": {"task": "api.notify.tasks.sweep", "schedule": 30.0},
    "notify-ladder": {"task": "api.notify.tasks.run_ladder", "schedule": 30.0},
    # Documents past their overall time limit, marked once each (docs/workflow.md).
    "workflow-mark-overdue-documents": {
        "task": "api.workflow.tasks.mark_overdue_documents",
        "schedule": 300.0,
    },
    # Supervision: traffic lights and capped escalation of red items (docs/supervision.md).
    "supervision-lights": {
        "task": "api.supervision.tasks.refresh_supervision_lights",
        "schedule": 300.0,
    },
    # Exchange: re-enqueue dispatches whose fan-out never finished (docs/exchange.md).
    "exchange-requeue-unsent": {"task": "api.exchange.tasks.requeue_unsent", "schedule": 600.0},
    # Meetings: reminders before the start; close ended rooms, drop expired Janus tokens.
    "meetings-remind": {"task": "api.meetings.tasks.remind_upcoming", "schedule": 60.0},
    "meetings-sweep-rooms": {"task": "api.meetings.tasks.sweep_rooms", "schedule": 120.0},
    # Publishing: the website feed import and the must-read reminder (docs/publishing.md).
    "publishing-remind-must-reads": {
        "task": "api.publishing.tasks.remind_must_reads",
        "schedule": 300.0,
    },
    # Integrations: pulls whose turn came; retries whose time came (docs/integrations.md).
    "integrations-pull-due": {"task": "api.integrations.tasks.pull_due", "schedule": 60.0},
    "integrations-sweep": {"task": "api.integrations.tasks.sweep", "schedule": 60.0},
    # Video: end camera views whose page went away without a stop (docs/integrations.md#video).
    "video-close-stale-views": {
        "task": "api.integrations.video.tasks.close_stale_views",
        "schedule": 60.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Save the schedule after every task sent, so a crashed beat does not re-send every job
# of the last 180 s (Celery's default) when it restarts (docs/operations.md).
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = "Asia/Shanghai"

# --- Auth, passwords, tokens (docs/security.md) -------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    # Argon2id tuned for the 08:30 login rush; see docs/identity.md#password-hashing.
    "api.accounts.hashers.GovDeskArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "api.accounts.passwords.CharacterClassValidator"},
]
GOVDESK_PASSWORD_MAX_AGE_DAYS = env.int("GOVDESK_PASSWORD_MAX_AGE_DAYS", 90, minimum=0)
GOVDESK_LOGIN_MAX_FAILURES = env.int("GOVDESK_LOGIN_MAX_FAILURES", 5, minimum=1)
GOVDESK_LOGIN_LOCKOUT_SECONDS = env.int("GOVDESK_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# Lockout without denial of service (docs/identity.md#lockout): the account's failures
# from all addresses slow it down above this ceiling (and alert the city IT admins)...
GOVDESK_LOGIN_ACCOUNT_CEILING = env.int("GOVDESK_LOGIN_ACCOUNT_CEILING", 50, minimum=2)
GOVDESK_LOGIN_SLOWDOWN_MAX_SECONDS = env.int(
    "GOVDESK_LOGIN_SLOWDOWN_MAX_SECONDS", 60, minimum=1, maximum=3600
)
# ...and one address (a NAT of hundreds of users) locks only after this many failures.
GOVDESK_LOGIN_ADDRESS_MAX_FAILURES = env.int("GOVDESK_LOGIN_ADDRESS_MAX_FAILURES", 200, minimum=2)
GOVDESK_TOTP_REQUIRED_ROLES = env.list(
    "GOVDESK_TOTP_REQUIRED_ROLES", ["seal_custodian", "city_it_admin"]
)
GOVDESK_TOTP_ISSUER = env.str("GOVDESK_TOTP_ISSUER", "GovDesk")
# Passkeys (WebAuthn), docs/identity.md#passkeys-webauthn. The RP ID must be a domain
# (browsers refuse an IP address); every origin's host must be it or a subdomain.
GOVDESK_WEBAUTHN_RP_ID = env.str("GOVDESK_WEBAUTHN_RP_ID", "localhost").lower()
GOVDESK_WEBAUTHN_RP_NAME = env.str("GOVDESK_WEBAUTHN_RP_NAME", "协同办公 GovDesk")
GOVDESK_WEBAUTHN_ORIGINS = env.origins("GOVDESK_WEBAUTHN_ORIGINS", ["http://localhost:8000"])
if GOVDESK_WEBAUTHN_RP_ID.replace(".", "").isdigit() or ":" in GOVDESK_WEBAUTHN_RP_ID:
    raise ImproperlyConfigured(
        f"GOVDESK_WEBAUTHN_RP_ID={GOVDESK_WEBAUTHN_RP_ID!r} is not valid: expected a domain"
        " name (browsers refuse an IP address as a WebAuthn RP ID)"
    )
for _origin in GOVDESK_WEBAUTHN_ORIGINS:
    _host = _origin.split("://", 1)[1].rsplit(":", 1)[0].lower()
    if _host != GOVDESK_WEBAUTHN_RP_ID and not _host.endswith("." + GOVDESK_WEBAUTHN_RP_ID):
        raise ImproperlyConfigured(
            f"GOVDESK_WEBAUTHN_ORIGINS: {_origin!r} is not on the RP ID"
            f" {GOVDESK_WEBAUTHN_RP_ID!r} or a subdomain of it"
        )
GOVDESK_DEMO_PASSWORD = env.secret("GOVDESK_DEMO_PASSWORD", "GovDesk@2026")

ACCESS_TOKEN_MINUTES = env.int("GOVDESK_ACCESS_TOKEN_MINUTES", 5, minimum=1, maximum=5)
REFRESH_TOKEN_HOURS = env.int("GOVDESK_REFRESH_TOKEN_HOURS", 12, minimum=1, maximum=24 * 30)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=REFRESH_TOKEN_HOURS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.secret("GOVDESK_JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "uid",
    "USER_ID_FIELD": "id",
    "LEEWAY": 5,
    # Validation refuses a token whose exp - iat exceeds the lifetime (docs/security.md#tokens).
    "AUTH_TOKEN_CLASSES": ("api.accounts.token_types.CappedAccessToken",),
}

# --- REST framework and the API conventions (docs/api.md) -------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.accounts.authentication.SessionJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.common.permissions.IsAuthenticatedAndVerified"],
    "DEFAULT_PARSER_CLASSES": ["api.common.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["api.common.datetimes.ClientJSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "api.common.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.common.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": env.str("GOVDESK_LOGIN_RATE", "1200/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GovDesk API",
    "DESCRIPTION": "协同办公平台 API · GovDesk collaborative office API. Docs: docs/api.md",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.common.schema.postprocess_refusals",
    ],
    "ENUM_NAME_OVERRIDES": {
        # Organisation enums share field names (kind, role, status): name them.
        "UnitKindEnum": "api.accounts.models.UnitKind",
        "AppointmentKindEnum": "api.accounts.models.AppointmentKind",
        "RoleEnum": "api.accounts.models.Role",
        "CameraTypeEnum": "api.integrations.video.models.CameraType",
        "AppointmentStatusEnum": "api.accounts.models.AppointmentStatus",
        "HealthStatusEnum": ["ok", "degraded"],
        "AuditResultEnum": "api.audit.models.AuditResult",
        "CalendarDayKindEnum": ["workday", "weekend", "holiday", "makeup"],
        "CalendarDaySourceEnum": ["rule", "official", "override"],
        "CalendarOverrideKindEnum": "api.workdays.models.OverrideKind",
        "DirectionEnum": "api.documents.models.Direction",
        "DocTypeEnum": "api.documents.models.DocType",
        "UrgencyEnum": "api.documents.models.Urgency",
        "DocumentStatusEnum": "api.documents.models.DocumentStatus",
        "StepKindEnum": "api.workflow.models.StepKind",
        "AssigneeKindEnum": "api.workflow.models.AssigneeKind",
        "CountersignModeEnum": "api.workflow.models.CountersignMode",
        "NotificationKindEnum": "api.notify.models.Kind",
        "NotificationUrgencyEnum": "api.notify.models.Urgency",
        "PushDeviceKindEnum": "api.notify.models.DeviceKind",
        "SupervisionSourceEnum": "api.supervision.models.Source",
        "ESupervisionStageEnum": "api.integrations.esupervision.models.Stage",
        "ESupervisionAlertLevelEnum": "api.integrations.esupervision.models.Level",
        "AccountabilitySourceKindEnum": "api.accountability.models.SourceKind",
        "AccountabilityCaseStatusEnum": "api.accountability.models.CaseStatus",
        "AccountabilityOutcomeKindEnum": "api.accountability.models.OutcomeKind",
        "MeetingStateEnum": "api.meetings.models.MeetingState",
        "MeetingParticipantRoleEnum": "api.meetings.models.ParticipantRole",
        "MeetingSigninMethodEnum": "api.meetings.models.SigninMethod",
        "CityCaseStateEnum": "api.integrations.citymgmt.models.CaseState",
        "EmergencyLevelEnum": "api.integrations.emergency.models.EventLevel",
        "EmergencyHandlingStateEnum": "api.integrations.emergency.models.HandlingState",
        "DutyShiftEnum": "api.integrations.emergency.models.Shift",
    },
}
GOVDESK_MAX_BODY_BYTES = env.int("GOVDESK_MAX_BODY_BYTES", 1_048_576, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = GOVDESK_MAX_BODY_BYTES
# JSON nested deeper than this (objects/arrays) is 400 malformed_json (docs/security.md).
GOVDESK_JSON_MAX_DEPTH = env.int("GOVDESK_JSON_MAX_DEPTH", 32, minimum=4, maximum=200)
# Attachments (docs/documents.md#attachments): their own size limit, stored outside the
# web root. GOVDESK_BODY_LIMITS gives paths (regex) their own body limit instead of
# GOVDESK_MAX_BODY_BYTES; the upload limit allows for the multipart envelope.
GOVDESK_ATTACHMENT_MAX_BYTES = env.int("GOVDESK_ATTACHMENT_MAX_BYTES", 20 * 1_048_576, minimum=1024)
GOVDESK_ATTACHMENT_DIR = Path(env.str("GOVDESK_ATTACHMENT_DIR", str(VAR_DIR / "attachments")))
# Uploads checked by what they become (docs/security.md#uploads, api/documents/intake.py).
GOVDESK_UPLOAD_ZIP_MAX_ENTRIES = env.int("GOVDESK_UPLOAD_ZIP_MAX_ENTRIES", 2000, minimum=10)
GOVDESK_UPLOAD_ZIP_MAX_INFLATED = env.int(
    "GOVDESK_UPLOAD_ZIP_MAX_INFLATED", 200 * 1_048_576, minimum=1_048_576
)
GOVDESK_UPLOAD_ZIP_MAX_RATIO = env.int("GOVDESK_UPLOAD_ZIP_MAX_RATIO", 100, minimum=2)
# Phone photos are 12-50 MP; a 20000x20000 (400 MP) "image" is a bomb.
GOVDESK_UPLOAD_MAX_PIXELS = env.int("GOVDESK_UPLOAD_MAX_PIXELS", 50_000_000, minimum=10_000)
# Uploads spool to a private directory (not /tmp) that the orphan sweep cleans after a
# crash; files older than GOVDESK_ORPHAN_MAX_AGE_SECONDS there are leftovers.
FILE_UPLOAD_TEMP_DIR = str(Path(env.str("GOVDESK_UPLOAD_TEMP_DIR", str(VAR_DIR / "upload-tmp"))))
GOVDESK_ORPHAN_MAX_AGE_SECONDS = env.int("GOVDESK_ORPHAN_MAX_AGE_SECONDS", 3600, minimum=0)
# --- Electronic seals (docs/seals.md#settings): CA and unit keys live under
# GOVDESK_SEAL_DIR (outside the web root), encrypted with GOVDESK_SEAL_KEY_PASSPHRASE.
DEV_SEAL_KEY_PASSPHRASE = "govdesk-development-only-seal-passphrase"  # noqa: S105 (refused in production)
GOVDESK_SEAL_DIR = Path(env.str("GOVDESK_SEAL_DIR", str(VAR_DIR / "seals")))
GOVDESK_SEAL_KEY_PASSPHRASE = env.secret("GOVDESK_SEAL_KEY_PASSPHRASE", DEV_SEAL_KEY_PASSPHRASE)
if PRODUCTION and (
    GOVDESK_SEAL_KEY_PASSPHRASE == DEV_SEAL_KEY_PASSPHRASE or len(GOVDESK_SEAL_KEY_PASSPHRASE) < 16
):
    raise ImproperlyConfigured(
        "GOVDESK_SEAL_KEY_PASSPHRASE must be set to a secret of at least 16 characters "
        "in production"
    )
GOVDESK_SEAL_IMAGE_MAX_BYTES = env.int("GOVDESK_SEAL_IMAGE_MAX_BYTES", 5 * 1_048_576, minimum=1024)
GOVDESK_SEAL_VERIFY_MAX_BYTES = env.int(
    "GOVDESK_SEAL_VERIFY_MAX_BYTES", 20 * 1_048_576, minimum=1024
)
# Handwritten instructions (docs/instructions.md#settings): PNG upload limit, pixel limit
# (checked from the header before decoding) and storage outside the web root.
GOVDESK_INSTRUCTION_MAX_BYTES = env.int(
    "GOVDESK_INSTRUCTION_MAX_BYTES", 2 * 1_048_576, minimum=1024
)
GOVDESK_INSTRUCTION_MAX_PIXELS = env.int(
    "GOVDESK_INSTRUCTION_MAX_PIXELS", 4_000_000, minimum=10_000
)
GOVDESK_INSTRUCTION_DIR = Path(env.str("GOVDESK_INSTRUCTION_DIR", str(VAR_DIR / "instructions")))
GOVDESK_BODY_LIMITS: list[tuple[str, int]] = [
    (r"^/api/v1/documents/[0-9]+/instructions/$", GOVDESK_INSTRUCTION_MAX_BYTES + 65_536),
    (r"^/api/v1/documents/[0-9]+/attachments/$", GOVDESK_ATTACHMENT_MAX_BYTES + 65_536),
    (r"^/api/v1/seals/verify/$", GOVDESK_SEAL_VERIFY_MAX_BYTES + 65_536),
    (r"^/api/v1/meetings/[0-9]+/materials/$", GOVDESK_ATTACHMENT_MAX_BYTES + 65_536),
    (r"^/api/v1/mail/attachments/$", GOVDESK_ATTACHMENT_MAX_BYTES + 65_536),
]

# --- Rendering GB/T 9704 PDFs (docs/rendering.md#settings): font files per role ("path" or
# "path.ttc#face"; empty → the free Debian font) and where rendered PDFs are stored.
GOVDESK_FONT_SONG = env.str("GOVDESK_FONT_SONG", "")
GOVDESK_FONT_FANGSONG = env.str("GOVDESK_FONT_FANGSONG", "")
GOVDESK_FONT_KAI = env.str("GOVDESK_FONT_KAI", "")
GOVDESK_FONT_HEI = env.str("GOVDESK_FONT_HEI", "")
GOVDESK_FONT_XIAOBIAOSONG = env.str("GOVDESK_FONT_XIAOBIAOSONG", "")
GOVDESK_RENDER_DIR = Path(env.str("GOVDESK_RENDER_DIR", str(VAR_DIR / "rendered")))
# Attachment previews (docs/reading-on-phones.md#attachment-previews): LibreOffice's
# command and the seconds one conversion may take before it is killed.
GOVDESK_SOFFICE = env.str("GOVDESK_SOFFICE", "soffice")
GOVDESK_PREVIEW_TIMEOUT = env.int("GOVDESK_PREVIEW_TIMEOUT", 60)

CORS_ALLOWED_ORIGINS = env.origins("CORS_ALLOWED_ORIGINS", [])
CORS_ALLOW_CREDENTIALS = False
CORS_EXPOSE_HEADERS = ["Idempotency-Key"]

# --- I18N ------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files (docker: publish_pwa also copies the PWA into STATIC_ROOT/app for nginx) -----
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if MODE == "test"
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The PWA (docs/pwa.md#build-serving-and-caching): `npm run build` in pwa/ writes
# GOVDESK_PWA_DIST, which WhiteNoise serves at / (index.html for /). Hashed files under
# /assets/ are cached forever; index.html, sw.js and the manifest must be revalidated,
# or a phone would keep an old app shell. No build yet: / is simply not served.
GOVDESK_PWA_DIST = Path(env.str("GOVDESK_PWA_DIST", str(BASE_DIR / "pwa" / "dist")))
WHITENOISE_ROOT = str(GOVDESK_PWA_DIST) if GOVDESK_PWA_DIST.is_dir() else None
WHITENOISE_INDEX_FILE = True
# WhiteNoise answers "Access-Control-Allow-Origin: *" by default; the PWA's files are
# same-origin, so no CORS header unless a deployment asks for it (docs/security.md).
WHITENOISE_ALLOW_ALL_ORIGINS = env.bool("GOVDESK_STATIC_ALLOW_ALL_ORIGINS", False)
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}
PWA_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' blob: data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)


def _pwa_headers(headers: dict[str, str], path: str, url: str) -> None:  # a wsgiref Headers
    if url.startswith(STATIC_URL):
        return
    if url.startswith("/assets/"):  # content-hashed by Vite: a new build, new names
        headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        headers["Cache-Control"] = "no-cache"
    if url.endswith((".html", "/")):
        headers["Content-Security-Policy"] = PWA_CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"


WHITENOISE_ADD_HEADERS_FUNCTION = _pwa_headers

# --- Audit (docs/audit.md) ----------------------------------------------------------
GOVDESK_AUDIT_RETENTION_DAYS = env.int("GOVDESK_AUDIT_RETENTION_DAYS", 184, minimum=184)

# --- Working days and deadlines (docs/workdays.md#settings) -------------------------------
GOVDESK_DEADLINE_ORDINARY_DAYS = env.int("GOVDESK_DEADLINE_ORDINARY_DAYS", 1, minimum=1, maximum=30)
GOVDESK_DEADLINE_COUNTERSIGN_DAYS = env.int(
    "GOVDESK_DEADLINE_COUNTERSIGN_DAYS", 3, minimum=1, maximum=30
)
GOVDESK_DEADLINE_URGENT_PERCENT = env.int(
    "GOVDESK_DEADLINE_URGENT_PERCENT", 50, minimum=5, maximum=100
)
GOVDESK_DEADLINE_VERY_URGENT_PERCENT = env.int(
    "GOVDESK_DEADLINE_VERY_URGENT_PERCENT", 25, minimum=5, maximum=100
)
GOVDESK_CALENDAR_RECHECK_SECONDS = env.int(
    "GOVDESK_CALENDAR_RECHECK_SECONDS", 5, minimum=0, maximum=3600
)
GOVDESK_ABSENCE_MAX_DAYS = env.int("GOVDESK_ABSENCE_MAX_DAYS", 90, minimum=1, maximum=366)

# --- Deadline urging 催办 (docs/urging.md#settings) ----------------------------------------
GOVDESK_URGE_YELLOW_PERCENT = env.int("GOVDESK_URGE_YELLOW_PERCENT", 75, minimum=50, maximum=99)
GOVDESK_URGE_RED_MAX = env.int("GOVDESK_URGE_RED_MAX", 3, minimum=1, maximum=30)
GOVDESK_URGE_DAY_START_HOUR = env.int("GOVDESK_URGE_DAY_START_HOUR", 9, minimum=0, maximum=23)
GOVDESK_URGE_DAY_END_HOUR = env.int("GOVDESK_URGE_DAY_END_HOUR", 18, minimum=1, maximum=24)
if GOVDESK_URGE_DAY_END_HOUR <= GOVDESK_URGE_DAY_START_HOUR:
    raise ImproperlyConfigured(
        "GOVDESK_URGE_DAY_END_HOUR must be later than GOVDESK_URGE_DAY_START_HOUR"
    )
GOVDESK_URGE_MANUAL_INTERVAL_MINUTES = env.int(
    "GOVDESK_URGE_MANUAL_INTERVAL_MINUTES", 30, minimum=1, maximum=24 * 60
)
# The cap per urged person and item, across every urger and both task and supervision
# urges (docs/urging.md#the-cap-per-person-and-item).
GOVDESK_URGE_CAP_WINDOW_MINUTES = env.int(
    "GOVDESK_URGE_CAP_WINDOW_MINUTES", 60, minimum=1, maximum=24 * 60
)
GOVDESK_URGE_CAP_PER_WINDOW = env.int("GOVDESK_URGE_CAP_PER_WINDOW", 3, minimum=1, maximum=100)
GOVDESK_URGE_SCAN_SECONDS = env.int("GOVDESK_URGE_SCAN_SECONDS", 300, minimum=30, maximum=3600)
CELERY_BEAT_SCHEDULE["scan-deadlines"] = {
    "task": "api.urging.tasks.scan_deadlines",
    "schedule": float(GOVDESK_URGE_SCAN_SECONDS),
}

# --- Supervision and statistics (docs/supervision.md#settings) --------------------------
GOVDESK_SUPERVISION_MAX_ESCALATIONS = env.int(
    "GOVDESK_SUPERVISION_MAX_ESCALATIONS", 3, minimum=0, maximum=20
)
GOVDESK_SUPERVISION_ESCALATION_INTERVAL_HOURS = env.int(
    "GOVDESK_SUPERVISION_ESCALATION_INTERVAL_HOURS", 24, minimum=1, maximum=720
)
# Efficiency score = 100 − Σ weight × rate (points; docs/supervision.md#the-score).
GOVDESK_STATS_WEIGHT_OVERDUE = env.int("GOVDESK_STATS_WEIGHT_OVERDUE", 60, minimum=0, maximum=100)
GOVDESK_STATS_WEIGHT_RETURN = env.int("GOVDESK_STATS_WEIGHT_RETURN", 20, minimum=0, maximum=100)
GOVDESK_STATS_WEIGHT_SLOW = env.int("GOVDESK_STATS_WEIGHT_SLOW", 20, minimum=0, maximum=100)
GOVDESK_STATS_SLOW_HOURS = env.int("GOVDESK_STATS_SLOW_HOURS", 12, minimum=1, maximum=24 * 30)
if GOVDESK_STATS_WEIGHT_OVERDUE + GOVDESK_STATS_WEIGHT_RETURN + GOVDESK_STATS_WEIGHT_SLOW > 100:
    raise ImproperlyConfigured(
        "GOVDESK_STATS_WEIGHT_OVERDUE + GOVDESK_STATS_WEIGHT_RETURN + GOVDESK_STATS_WEIGHT_SLOW "
        "must not exceed 100 (the score is 100 minus the weighted rates)"
    )

# --- Notifications: outbox, ladder, providers (docs/notifications.md#configuration) -------
from api.env import parse_minutes_by_urgency, parse_quiet_hours  # noqa: E402

GOVDESK_NOTIFY_SMS_AFTER_MINUTES = parse_minutes_by_urgency(
    "GOVDESK_NOTIFY_SMS_AFTER_MINUTES",
    env.str("GOVDESK_NOTIFY_SMS_AFTER_MINUTES", "very_urgent=5,high=15,normal=60,low=0"),
)
GOVDESK_NOTIFY_ESCALATE_BEFORE_MINUTES = env.int(
    "GOVDESK_NOTIFY_ESCALATE_BEFORE_MINUTES", 120, minimum=0, maximum=7 * 24 * 60
)
GOVDESK_NOTIFY_QUIET_HOURS = parse_quiet_hours(
    "GOVDESK_NOTIFY_QUIET_HOURS", env.str("GOVDESK_NOTIFY_QUIET_HOURS", "22:00-07:00")
)
GOVDESK_NOTIFY_LEASE_SECONDS = env.int("GOVDESK_NOTIFY_LEASE_SECONDS", 120, minimum=5, maximum=3600)
GOVDESK_NOTIFY_MAX_ATTEMPTS = env.int("GOVDESK_NOTIFY_MAX_ATTEMPTS", 8, minimum=1, maximum=50)
GOVDESK_NOTIFY_RETRY_MAX_SECONDS = env.int(
    "GOVDESK_NOTIFY_RETRY_MAX_SECONDS", 600, minimum=1, maximum=24 * 3600
)
GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE = env.str("GOVDESK_NOTIFY_FCM_SERVICE_ACCOUNT_FILE", "")
GOVDESK_NOTIFY_FCM_PROJECT_ID = env.str("GOVDESK_NOTIFY_FCM_PROJECT_ID", "")
GOVDESK_NOTIFY_FCM_URL = env.str("GOVDESK_NOTIFY_FCM_URL", "")
GOVDESK_NOTIFY_SMS_PROVIDER = env.choice(
    "GOVDESK_NOTIFY_SMS_PROVIDER", "none", ("none", "aliyun", "tencent", "smpp")
)
GOVDESK_NOTIFY_SMS_KEY_ID = env.str("GOVDESK_NOTIFY_SMS_KEY_ID", "")
GOVDESK_NOTIFY_SMS_KEY_SECRET = env.secret("GOVDESK_NOTIFY_SMS_KEY_SECRET", "")
GOVDESK_NOTIFY_SMS_SIGN_NAME = env.str("GOVDESK_NOTIFY_SMS_SIGN_NAME", "")
GOVDESK_NOTIFY_SMS_TEMPLATE = env.str("GOVDESK_NOTIFY_SMS_TEMPLATE", "")
GOVDESK_NOTIFY_SMS_TEMPLATE_PARAMS = env.list("GOVDESK_NOTIFY_SMS_TEMPLATE_PARAMS", ["title"])
GOVDESK_NOTIFY_SMS_APP_ID = env.str("GOVDESK_NOTIFY_SMS_APP_ID", "")
GOVDESK_NOTIFY_SMS_REGION = env.str("GOVDESK_NOTIFY_SMS_REGION", "")
GOVDESK_NOTIFY_SMS_ENDPOINT = env.str("GOVDESK_NOTIFY_SMS_ENDPOINT", "")
GOVDESK_NOTIFY_IM_WEBHOOK_URL = env.secret("GOVDESK_NOTIFY_IM_WEBHOOK_URL", "")
GOVDESK_NOTIFY_IM_FLAVOR = env.choice("GOVDESK_NOTIFY_IM_FLAVOR", "wecom", ("wecom", "dingtalk"))
GOVDESK_NOTIFY_IM_SECRET = env.secret("GOVDESK_NOTIFY_IM_SECRET", "")

# --- Web Push and the live channel (docs/notifications.md#web-push, #live-channel-sse) ----
GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY = env.secret(
    "GOVDESK_NOTIFY_WEBPUSH_VAPID_PRIVATE_KEY", ""
)
GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT = env.str("GOVDESK_NOTIFY_WEBPUSH_VAPID_SUBJECT", "")
# Both are checked at start-up by the notify app's system checks (api/notify/checks.py).


def _webpush_host_pattern(value: str) -> str:
    """A push service's fully-qualified host name, or ``*.`` + a domain (any host below
    it). Not an IP address: the endpoint's host is matched as a DNS name."""
    pattern = value.lower().rstrip(".")
    labels = pattern.removeprefix("*.").split(".")
    label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValueError(value)
    if not all(re.fullmatch(label, part) for part in labels):
        raise ValueError(value)
    return pattern


# Hosts a Web Push endpoint may be on (the worker POSTs to it): docs/notifications.md#web-push.
GOVDESK_NOTIFY_WEBPUSH_HOSTS = env.list(
    "GOVDESK_NOTIFY_WEBPUSH_HOSTS",
    [
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "*.notify.windows.com",
        "*.push.apple.com",
        "web.push.apple.com",
    ],
    item=_webpush_host_pattern,
    expected="comma-separated host names or *.domain patterns, e.g. fcm.googleapis.com,*.a.org",
)

# gunicorn threads per web worker (the demo launcher and docker/compose.yaml pass it as
# --threads); an open stream holds one, so at most STREAMS_PER_PROCESS are streams.
GOVDESK_WEB_THREADS = env.int("GOVDESK_WEB_THREADS", 16, minimum=2, maximum=1000)
GOVDESK_NOTIFY_STREAMS_PER_PROCESS = env.int(
    "GOVDESK_NOTIFY_STREAMS_PER_PROCESS",
    max(1, GOVDESK_WEB_THREADS - 4),
    minimum=0,
    maximum=GOVDESK_WEB_THREADS - 1,
)
GOVDESK_NOTIFY_STREAM_SECONDS = env.int("GOVDESK_NOTIFY_STREAM_SECONDS", 55, minimum=5, maximum=600)
GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS = env.int(
    "GOVDESK_NOTIFY_STREAM_HEARTBEAT_SECONDS", 15, minimum=1, maximum=120
)
GOVDESK_NOTIFY_STREAM_POLL_MS = env.int(
    "GOVDESK_NOTIFY_STREAM_POLL_MS", 500, minimum=50, maximum=10_000
)
GOVDESK_NOTIFY_STREAM_TICKET_SECONDS = env.int(
    "GOVDESK_NOTIFY_STREAM_TICKET_SECONDS", 60, minimum=5, maximum=300
)

# --- Zero-internet channels: SMS over SMPP to the carrier's SMSC, per-person IM over XMPP
# (docs/notifications.md#zero-internet-profile). SMPP is used when
# GOVDESK_NOTIFY_SMS_PROVIDER=smpp; the XMPP rung exists when GOVDESK_NOTIFY_XMPP_JID is set.
GOVDESK_NOTIFY_SMPP_HOST = env.str("GOVDESK_NOTIFY_SMPP_HOST", "")
GOVDESK_NOTIFY_SMPP_PORT = env.int("GOVDESK_NOTIFY_SMPP_PORT", 2775, minimum=1, maximum=65535)
GOVDESK_NOTIFY_SMPP_SYSTEM_ID = env.str("GOVDESK_NOTIFY_SMPP_SYSTEM_ID", "")
GOVDESK_NOTIFY_SMPP_PASSWORD = env.secret("GOVDESK_NOTIFY_SMPP_PASSWORD", "")
GOVDESK_NOTIFY_SMPP_SYSTEM_TYPE = env.str("GOVDESK_NOTIFY_SMPP_SYSTEM_TYPE", "")
GOVDESK_NOTIFY_SMPP_SOURCE_ADDR = env.str("GOVDESK_NOTIFY_SMPP_SOURCE_ADDR", "")
GOVDESK_NOTIFY_SMPP_SOURCE_TON = env.int("GOVDESK_NOTIFY_SMPP_SOURCE_TON", 0, minimum=0, maximum=6)
GOVDESK_NOTIFY_SMPP_SOURCE_NPI = env.int("GOVDESK_NOTIFY_SMPP_SOURCE_NPI", 0, minimum=0, maximum=18)
GOVDESK_NOTIFY_SMPP_DEST_TON = env.int("GOVDESK_NOTIFY_SMPP_DEST_TON", 0, minimum=0, maximum=6)
GOVDESK_NOTIFY_SMPP_DEST_NPI = env.int("GOVDESK_NOTIFY_SMPP_DEST_NPI", 1, minimum=0, maximum=18)
GOVDESK_NOTIFY_SMPP_BIND = env.choice(
    "GOVDESK_NOTIFY_SMPP_BIND", "transmitter", ("transmitter", "transceiver")
)
GOVDESK_NOTIFY_SMPP_RECEIPTS_BIND = env.choice(
    "GOVDESK_NOTIFY_SMPP_RECEIPTS_BIND", "receiver", ("receiver", "transceiver")
)
GOVDESK_NOTIFY_SMPP_WINDOW = env.int("GOVDESK_NOTIFY_SMPP_WINDOW", 10, minimum=1, maximum=100)
GOVDESK_NOTIFY_SMPP_RATE = env.int("GOVDESK_NOTIFY_SMPP_RATE", 20, minimum=0, maximum=10_000)
GOVDESK_NOTIFY_SMPP_ENQUIRE_LINK_SECONDS = env.int(
    "GOVDESK_NOTIFY_SMPP_ENQUIRE_LINK_SECONDS", 30, minimum=1, maximum=3600
)
GOVDESK_NOTIFY_SMPP_TIMEOUT_SECONDS = env.int(
    "GOVDESK_NOTIFY_SMPP_TIMEOUT_SECONDS", 10, minimum=1, maximum=120
)
GOVDESK_NOTIFY_SMPP_RECONNECT_ATTEMPTS = env.int(
    "GOVDESK_NOTIFY_SMPP_RECONNECT_ATTEMPTS", 5, minimum=0, maximum=50
)
# Set, the networks delivery channels may reach: a channel outside them is a start-up
# warning (api/notify/checks.py). Empty: not checked.
GOVDESK_NOTIFY_ALLOWED_NETWORKS = env.networks("GOVDESK_NOTIFY_ALLOWED_NETWORKS", [])
GOVDESK_NOTIFY_XMPP_JID = env.str("GOVDESK_NOTIFY_XMPP_JID", "")
GOVDESK_NOTIFY_XMPP_PASSWORD = env.secret("GOVDESK_NOTIFY_XMPP_PASSWORD", "")
GOVDESK_NOTIFY_XMPP_HOST = env.str("GOVDESK_NOTIFY_XMPP_HOST", "")
GOVDESK_NOTIFY_XMPP_PORT = env.int("GOVDESK_NOTIFY_XMPP_PORT", 5222, minimum=1, maximum=65535)
GOVDESK_NOTIFY_XMPP_TLS = env.choice(
    "GOVDESK_NOTIFY_XMPP_TLS", "starttls", ("starttls", "direct", "none")
)
GOVDESK_NOTIFY_XMPP_CA_FILE = env.str("GOVDESK_NOTIFY_XMPP_CA_FILE", "")
# How a user's JID is made: {username} and {domain} (the service account's domain).
GOVDESK_NOTIFY_XMPP_JID_PATTERN = env.str("GOVDESK_NOTIFY_XMPP_JID_PATTERN", "{username}@{domain}")
GOVDESK_NOTIFY_XMPP_AFTER_MINUTES = parse_minutes_by_urgency(
    "GOVDESK_NOTIFY_XMPP_AFTER_MINUTES",
    env.str("GOVDESK_NOTIFY_XMPP_AFTER_MINUTES", "very_urgent=1,high=3,normal=15,low=0"),
)
if len(GOVDESK_NOTIFY_SMPP_SYSTEM_ID) > 15 or len(GOVDESK_NOTIFY_SMPP_PASSWORD) > 8:
    # SMPP 3.4: system_id is a C-octet string of at most 16 octets, password of 9.
    raise ImproperlyConfigured(
        "GOVDESK_NOTIFY_SMPP_SYSTEM_ID may have at most 15 characters and "
        "GOVDESK_NOTIFY_SMPP_PASSWORD at most 8 (SMPP 3.4)"
    )
if GOVDESK_NOTIFY_XMPP_JID and "@" not in GOVDESK_NOTIFY_XMPP_JID:
    raise ImproperlyConfigured("GOVDESK_NOTIFY_XMPP_JID must be a JID (user@domain)")
if "{username}" not in GOVDESK_NOTIFY_XMPP_JID_PATTERN:
    raise ImproperlyConfigured("GOVDESK_NOTIFY_XMPP_JID_PATTERN must contain {username}")

# --- Security headers -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("GOVDESK_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Video meetings on Janus (docs/meetings.md#settings). Empty API URL: no video (the
# join endpoint answers 503 video_unavailable); scheduling, notices, sign-in and
# minutes work without it. The admin secret and room admin key stay on the server.
GOVDESK_JANUS_API_URL = env.str("GOVDESK_JANUS_API_URL", "")
GOVDESK_JANUS_ADMIN_URL = env.str("GOVDESK_JANUS_ADMIN_URL", "")
GOVDESK_JANUS_ADMIN_SECRET = env.secret("GOVDESK_JANUS_ADMIN_SECRET", "")
GOVDESK_JANUS_ROOM_ADMIN_KEY = env.secret("GOVDESK_JANUS_ROOM_ADMIN_KEY", "")
# What browsers connect to, in order of preference (ws:// or wss:// first, then the
# HTTP long-poll URL); janus.js tries them in turn.
GOVDESK_JANUS_CLIENT_URLS = env.list("GOVDESK_JANUS_CLIENT_URLS", [])
# STUN/TURN servers handed to browsers ("stun:10.1.2.3:3478", "turn:10.1.2.3:3478").
GOVDESK_JANUS_ICE_SERVERS = env.list("GOVDESK_JANUS_ICE_SERVERS", [])
GOVDESK_JANUS_TURN_USERNAME = env.str("GOVDESK_JANUS_TURN_USERNAME", "")
GOVDESK_JANUS_TURN_PASSWORD = env.secret("GOVDESK_JANUS_TURN_PASSWORD", "")
# Janus's event handler posts to /api/v1/meetings/janus-events/ with HTTP basic auth
# user "janus" and this password; empty refuses every post.
GOVDESK_JANUS_EVENT_PASSWORD = env.secret("GOVDESK_JANUS_EVENT_PASSWORD", "")
GOVDESK_MEETING_EARLY_MINUTES = env.int(
    "GOVDESK_MEETING_EARLY_MINUTES", 30, minimum=0, maximum=24 * 60
)
GOVDESK_MEETING_GRACE_MINUTES = env.int(
    "GOVDESK_MEETING_GRACE_MINUTES", 60, minimum=0, maximum=24 * 60
)
# The PWA connects to Janus (WebSocket / HTTP long poll): its origins join the CSP's
# connect-src. Behind nginx, proxy Janus under the same origin and this adds nothing.
_janus_origins = sorted(
    {
        f"{urlsplit(_url).scheme}://{urlsplit(_url).netloc}"
        for _url in GOVDESK_JANUS_CLIENT_URLS
        if urlsplit(_url).scheme in ("ws", "wss", "http", "https") and urlsplit(_url).netloc
    }
)
if _janus_origins:
    PWA_CONTENT_SECURITY_POLICY = PWA_CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self';", "connect-src 'self' " + " ".join(_janus_origins) + ";"
    )
# --- Video resources (docs/integrations.md#video) ------------------------------------
# Lifetime of the signed play URLs GovDesk asks the video platform for.
GOVDESK_VIDEO_PLAY_TTL_SECONDS = env.int(
    "GOVDESK_VIDEO_PLAY_TTL_SECONDS", 300, minimum=30, maximum=3600
)
# The PWA plays HLS with hls.js: it fetches playlists and segments from the platform's
# play origin (connect-src) into a MediaSource (media-src blob:). The origin is the
# connector URL's unless the platform streams from elsewhere (GOVDESK_VIDEO_PLAY_ORIGINS).
_video_origins = sorted(
    {
        f"{urlsplit(_url).scheme}://{urlsplit(_url).netloc}"
        for _url in env.list("GOVDESK_VIDEO_PLAY_ORIGINS", [])
        or [env.str("GOVDESK_INTEGRATION_VIDEO_URL", "")]
        if urlsplit(_url).scheme in ("http", "https") and urlsplit(_url).netloc
    }
)
if _video_origins:
    PWA_CONTENT_SECURITY_POLICY = PWA_CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self'", "connect-src 'self' " + " ".join(_video_origins), 1
    )
PWA_CONTENT_SECURITY_POLICY = PWA_CONTENT_SECURITY_POLICY.replace(
    "worker-src 'self';", "media-src 'self' blob:; worker-src 'self';", 1
)
# --- Personal office and internal mail (docs/personal-office.md, docs/mail.md) ----------
# Schedule sources: dotted paths of callables fn(user, start, end) -> list of entry dicts
# (source, source_id, title, start, end, place, url, busy) merged into a person's schedule.
GOVDESK_SCHEDULE_SOURCES = env.list(
    "GOVDESK_SCHEDULE_SOURCES",
    ["api.office.sources.document_deadlines", "api.meetings.selectors.schedule_entries"],
)
GOVDESK_MAIL_QUOTA_BYTES = env.int("GOVDESK_MAIL_QUOTA_BYTES", 1024 * 1_048_576, minimum=1_048_576)
GOVDESK_MAIL_ATTACHMENT_MAX_BYTES = min(
    env.int("GOVDESK_MAIL_ATTACHMENT_MAX_BYTES", GOVDESK_ATTACHMENT_MAX_BYTES, minimum=1024),
    GOVDESK_ATTACHMENT_MAX_BYTES,
)
# A send reaching more people than this is delivered by api.mail.tasks.deliver after commit.
GOVDESK_MAIL_INLINE_FANOUT = env.int("GOVDESK_MAIL_INLINE_FANOUT", 200, minimum=0, maximum=100_000)
# --- The portal (docs/portal.md#caching) ---------------------------------------------------
# How long a scope's dashboard figures (overdue by unit, this month's scores) are served
# from the cache; 0 computes them on every request. Invalidation is by time only.
GOVDESK_PORTAL_DASHBOARD_SECONDS = env.int(
    "GOVDESK_PORTAL_DASHBOARD_SECONDS", 60, minimum=0, maximum=3600
)
# The news block's posts per audience and channels, for at most this long; any post or
# channel save starts new entries at once (a post passing its end date leaves within it).
GOVDESK_PORTAL_NEWS_SECONDS = env.int("GOVDESK_PORTAL_NEWS_SECONDS", 30, minimum=0, maximum=3600)
# --- Emergency command (docs/integrations.md#emergency) -------------------------------------
# The code of the city's duty office (总值班室) whose roster receives emergency events;
# empty: the root unit of the organisation tree.
GOVDESK_EMERGENCY_DUTY_UNIT = env.str("GOVDESK_EMERGENCY_DUTY_UNIT", "")
CELERY_BEAT_SCHEDULE["mail-finish-pending"] = {
    "task": "api.mail.tasks.finish_pending",
    "schedule": 120.0,
}
CELERY_BEAT_SCHEDULE["office-reminders"] = {
    "task": "api.office.tasks.send_reminders",
    "schedule": 60.0,
}
# --- Integrations (docs/integrations.md#retries-and-dead-letters) ------------------------------
# A record whose handler raises TransientError is tried this many times in all, waiting
# base × 2^(n-1) seconds (at most the max) after the n-th failure, then it is a dead letter.
# Each connector's URL and secret: GOVDESK_INTEGRATION_<NAME>_URL / _SECRET / _SECRET_FILE.
GOVDESK_INTEGRATION_MAX_ATTEMPTS = env.int(
    "GOVDESK_INTEGRATION_MAX_ATTEMPTS", 6, minimum=1, maximum=50
)
GOVDESK_INTEGRATION_RETRY_BASE_SECONDS = env.int(
    "GOVDESK_INTEGRATION_RETRY_BASE_SECONDS", 30, minimum=1, maximum=3600
)
GOVDESK_INTEGRATION_RETRY_MAX_SECONDS = env.int(
    "GOVDESK_INTEGRATION_RETRY_MAX_SECONDS", 3600, minimum=1, maximum=7 * 24 * 3600
)

# E-supervision (电子监察, docs/integrations.md#e-supervision): alert thresholds against a
# service item's legal time limit in working days, the rectification deadline of the
# supervised item an alert opens, who opens it, and its weight in the efficiency score.
GOVDESK_ESUPERVISION_NOTICE_PERCENT = env.int(
    "GOVDESK_ESUPERVISION_NOTICE_PERCENT", 80, minimum=1, maximum=100
)
GOVDESK_ESUPERVISION_RED_DAYS = env.int("GOVDESK_ESUPERVISION_RED_DAYS", 3, minimum=0, maximum=60)
GOVDESK_ESUPERVISION_RECTIFY_DAYS = env.int(
    "GOVDESK_ESUPERVISION_RECTIFY_DAYS", 5, minimum=1, maximum=60
)
GOVDESK_ESUPERVISION_SUPERVISOR = env.str("GOVDESK_ESUPERVISION_SUPERVISOR", "")
GOVDESK_STATS_WEIGHT_ESUPERVISION = env.int(
    "GOVDESK_STATS_WEIGHT_ESUPERVISION", 10, minimum=0, maximum=100
)
CELERY_BEAT_SCHEDULE["esupervision-check-open-items"] = {
    "task": "api.integrations.esupervision.tasks.check_open_items",
    "schedule": 600.0,
}
