"""Views of api.publishing, by topic. Docs: docs/publishing.md#api."""
