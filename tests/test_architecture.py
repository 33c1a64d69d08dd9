"""The import graph of the apps (docs/architecture.md#layers), read with grimp.

The layer order itself is import-linter's contract (`lint-imports`, pyproject.toml);
these tests add what a layers contract cannot say: no import loop between modules of
two apps, no app importing another app's views or serializers, and api/common
importing no app. Type-only imports (under TYPE_CHECKING) never run and do not count.
"""

from __future__ import annotations

import functools

import grimp
import pytest

PACKAGES = ("api", "notifications", "vpn_gateway", "cityfakes")


@functools.cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)


def app_of(module: str) -> str:
    """``api.workflow.actions.locking`` → ``api.workflow``; ``notifications.fakes`` → its root."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "api" and len(parts) > 1 else parts[0]


def cross_app_imports() -> list[tuple[str, str]]:
    g = graph()
    return sorted(
        (importer, imported)
        for importer in g.modules
        for imported in g.find_modules_directly_imported_by(importer)
        if app_of(importer) != app_of(imported)
    )


def is_api_surface(module: str) -> bool:
    """A module of an app's HTTP surface: views or serializers (packages or modules)."""
    return any(
        part in ("views", "serializers") or part.startswith(("views_", "serializers_"))
        for part in module.split(".")[2:]
    )


def test_the_graph_has_the_apps():
    apps = {app_of(m) for m in graph().modules}
    assert {"api.common", "api.accounts", "api.workflow", "api.demo", "notifications"} <= apps


def test_no_import_loop_between_modules_of_two_apps():
    g = graph()
    loops = [
        (importer, imported, g.find_shortest_chain(importer=imported, imported=importer))
        for importer, imported in cross_app_imports()
        if g.find_shortest_chain(importer=imported, imported=importer)
    ]
    assert loops == []


def test_no_app_imports_another_apps_views_or_serializers():
    crossing = [
        (importer, imported)
        for importer, imported in cross_app_imports()
        if is_api_surface(imported) and app_of(imported) != "api.common"
    ]
    assert crossing == []


def test_api_common_imports_no_app():
    """No Django app (a package with apps.py); the project's api.celery is not one."""
    upward = [
        (importer, imported)
        for importer, imported in cross_app_imports()
        if app_of(importer) == "api.common" and f"{app_of(imported)}.apps" in graph().modules
    ]
    assert upward == []


@pytest.mark.parametrize(
    "module", ["api.workflow.views.tasks", "api.accounts.serializers.org", "api.x.views_old"]
)
def test_an_api_surface_is_recognised(module):
    assert is_api_surface(module)
    assert not is_api_surface("api.workflow.task_results")
