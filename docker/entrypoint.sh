#!/bin/sh
# GovDesk container entrypoint. Docs: docs/operations.md#deployment-with-compose
#
#   setup        manage.py check --deploy (warnings fail), migrate, collectstatic,
#                publish_pwa (the app into the static volume for nginx):
#                the one-shot `setup` service of docker/compose.yaml runs it before
#                web, worker and beat start, and after every upgrade.
#   manage ARGS  manage.py ARGS (e.g. `manage verify_audit`, `manage createsuperuser`)
#   anything else is run as given: compose names gunicorn and celery explicitly.
set -eu
cd "${GOVDESK_APP_DIR:-/app}"

case "${1:-}" in
  setup)
    python manage.py check --deploy --fail-level WARNING
    python manage.py migrate --noinput
    python manage.py collectstatic --noinput --verbosity 0
    # The PWA into the static volume, where nginx serves it (docs/pwa.md).
    python manage.py publish_pwa --if-built
    echo "govdesk setup: checks passed, database migrated, static files collected"
    ;;
  manage)
    shift
    exec python manage.py "$@"
    ;;
  "")
    echo "usage: govdesk-entrypoint setup | manage ARGS | COMMAND [ARGS]" >&2
    exit 64
    ;;
  *)
    exec "$@"
    ;;
esac
