"""Models of api.integrations.video. Docs: docs/integrations.md#video."""
