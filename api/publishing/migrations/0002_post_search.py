"""Full-text search over posts: a jieba tsvector + GIN on PostgreSQL, FTS5 on SQLite.

Docs: docs/publishing.md#search (api/common/search.py installs both).
"""

from django.db import migrations

from api.common.search import installer, uninstaller


class Migration(migrations.Migration):
    dependencies = [("publishing", "0001_initial")]

    operations = [
        migrations.RunPython(installer("publishing_post"), uninstaller("publishing_post")),
    ]
