"""App config for api.mail (内部邮件). Docs: docs/mail.md."""

from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "api.mail"
    label = "mail"
    default_auto_field = "django.db.models.BigAutoField"
