"""Models of api.integrations. Docs: docs/integrations.md."""
