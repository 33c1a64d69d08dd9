"""Urge records, and a partial index on the open tasks' due time for the deadline scan.

Docs: docs/urging.md#automatic-urges. The index lives on workflow_task but is created
here because only the urging scan needs it ("open tasks by due_at"); it is plain SQL
that SQLite and PostgreSQL both understand, so the workflow app's model state is
untouched.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0003_absence"),
        ("documents", "0003_handwritten_instruction"),
        ("workflow", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="UrgeRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("auto_yellow", "临期提醒"),
                            ("auto_red", "超期催办"),
                            ("manual", "人工催办"),
                        ],
                        max_length=12,
                    ),
                ),
                ("message", models.CharField(blank=True, max_length=200)),
                ("task_round", models.PositiveIntegerField(default=0)),
                ("work_day", models.DateField(blank=True, null=True)),
                (
                    "notification_id",
                    models.BigIntegerField(
                        blank=True,
                        help_text="api.notify Notification; null when de-duplicated",
                        null=True,
                    ),
                ),
                (
                    "elapsed_fraction",
                    models.FloatField(
                        blank=True,
                        help_text="working time used ÷ allowed when urged (1.0 = due)",
                        null=True,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        help_text="null for automatic urges",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="urges_sent",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="urges",
                        to="documents.document",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="urges",
                        to="workflow.task",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="accounts.unit",
                    ),
                ),
                (
                    "urged",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="urges_received",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["unit", "kind", "created_at"], name="urge_unit_kind_idx"),
                    models.Index(fields=["created_at", "kind"], name="urge_period_idx"),
                    models.Index(fields=["task", "kind", "created_at"], name="urge_task_idx"),
                    models.Index(fields=["by", "task", "created_at"], name="urge_by_task_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "auto_yellow")),
                        fields=("task",),
                        name="urge_yellow_once_per_task",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("kind", "auto_red")),
                        fields=("task", "work_day"),
                        name="urge_red_once_per_day",
                    ),
                ],
            },
        ),
    ]
