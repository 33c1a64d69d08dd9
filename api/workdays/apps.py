"""The workdays app: working-day calendar and deadlines. Docs: docs/workdays.md."""

from django.apps import AppConfig


class WorkdaysConfig(AppConfig):
    name = "api.workdays"
    label = "workdays"
    verbose_name = "工作日历 Working-day calendar"

    def ready(self) -> None:
        from api.common.health import register_warnings
        from api.workdays import arrangements, calendar

        calendar.connect_signals()
        register_warnings("calendar", arrangements.warnings)
