"""The publishing fixtures (a small city with channels and readers) for the government
website connector's tests. Docs: docs/integrations.md#government-website."""

from tests.api.publishing.conftest import world  # noqa: F401 (fixture)
