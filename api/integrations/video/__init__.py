"""The video resources connector (天网, traffic, city cameras). Docs: docs/integrations.md#video."""
