"""Full-text search over mail: the shared helper's jieba tsvector + GIN on PostgreSQL,
FTS5 on SQLite, and existing mail's ``search_text`` rewritten as a search document.

Docs: docs/mail.md#search (api/common/search.py installs both).
"""

from django.db import migrations

from api.common.search import installer, search_document, uninstaller


def rebuild_documents(apps, schema_editor):
    """Mail stored before this held lower-cased raw text; rewrite it as jieba tokens
    (subject, body, attachment names and text — as api.mail.actions does)."""
    Mail = apps.get_model("mail", "Mail")
    Attachment = apps.get_model("mail", "Attachment")
    for mail in Mail.objects.only("id", "subject", "body").iterator(chunk_size=500):
        files = [
            (a.file.name, a.file.text)
            for a in Attachment.objects.filter(mail_id=mail.pk).select_related("file")
        ]
        document = search_document(
            mail.subject, mail.body, *(name for name, _ in files), *(text for _, text in files)
        )
        Mail.objects.filter(pk=mail.pk).update(search_text=document)


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_mail_initial")]

    operations = [
        migrations.RunPython(rebuild_documents, migrations.RunPython.noop),
        migrations.RunPython(installer("mail_mail"), uninstaller("mail_mail")),
    ]
