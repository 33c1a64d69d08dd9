"""Models of api.integrations.emergency. Docs: docs/integrations.md#emergency."""
