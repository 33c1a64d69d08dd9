"""Models of api.integrations.citymgmt. Docs: docs/integrations.md#city-management."""
