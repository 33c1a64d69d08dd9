"""Models of api.integrations.basedata. Docs: docs/integrations.md#base-data."""
