"""The portal tests reuse the publishing fixtures (docs/portal.md)."""

import pytest

from tests.api.publishing.conftest import attachment_dir, world  # noqa: F401


@pytest.fixture(autouse=True)
def no_dashboard_cache(settings):
    """Each test computes the dashboard afresh: the cache (Redis or the database table)
    outlives a test and ids repeat between runs. The caching test turns it back on."""
    settings.GOVDESK_PORTAL_DASHBOARD_SECONDS = 0
    settings.GOVDESK_PORTAL_NEWS_SECONDS = 0
