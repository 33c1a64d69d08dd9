"""No models: the items become posts of api.publishing.

Docs: docs/integrations.md#government-website.
"""
