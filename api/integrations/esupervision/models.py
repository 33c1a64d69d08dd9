"""Models of api.integrations.esupervision. Docs: docs/integrations.md#e-supervision."""
