"""The meetings API: the people's API (``meetings``) and Janus's event endpoint
(``events``). Docs: docs/meetings.md#api."""
