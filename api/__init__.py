"""GovDesk API (the Django project). Docs: docs/architecture.md."""
