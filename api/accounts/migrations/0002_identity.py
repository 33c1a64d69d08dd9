"""Identity: the session remembers its one live refresh token (docs/identity.md#tokens)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="usersession",
            name="refresh_jti",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
