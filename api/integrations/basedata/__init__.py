"""The base data catalogue (基础数据库). Docs: docs/integrations.md#base-data."""
