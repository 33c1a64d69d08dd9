"""Chinese full-text search over submissions: the jieba search document, a tsvector +
GIN on PostgreSQL, FTS5 on SQLite. Docs: docs/submissions.md (api/common/search.py
installs both)."""

from django.db import migrations, models

from api.common.search import installer, uninstaller


class Migration(migrations.Migration):
    dependencies = [("submissions", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="search_text",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(
            installer("submissions_submission"), uninstaller("submissions_submission")
        ),
    ]
