import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api.settings")
application = get_wsgi_application()

# Leftovers of a crashed process (upload temp files, .part files): docs/documents.md#orphans.
from api.documents.orphans import sweep_at_start_up  # noqa: E402

sweep_at_start_up()
