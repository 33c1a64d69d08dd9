"""The demo city and its seeding (``manage.py seed_demo``). Docs: docs/demo.md.

The top layer (docs/architecture.md#layers): it may import every app, and no app
imports it. Each app keeps its own demo data function (``api/<app>/demo.py``), called
here with one line.
"""
