"""Task.confirmed_by (never written) becomes confirmed_with: "passkey" when an approval
was confirmed by a WebAuthn step-up (docs/workflow.md#step-up-with-a-passkey)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("workflow", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="task", old_name="confirmed_by", new_name="confirmed_with"
        ),
    ]
