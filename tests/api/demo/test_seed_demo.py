"""The demo city (docs/demo.md): ``manage.py seed_demo`` and ``--scale city``."""

from __future__ import annotations

import io
import time

import pyotp
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from api.accounts.models import Post, RoleAssignment, Unit, User
from api.accounts.passwords import password_expired
from api.audit.models import AuditEvent
from api.demo import city as demo_city

pytestmark = pytest.mark.django_db

REQUIRED = {
    # username: (unit code, roles held at their own unit or scope)
    "clerk": ("XC-OFF", {("clerk", "XC-OFF")}),
    "director": ("XC-OFF", {("leader", "XC-OFF")}),
    "leader1": ("XC", {("leader", "XC")}),
    "leader2": ("XC", {("leader", "XC")}),
    "leader3": ("XC", {("leader", "XC")}),
    "mayor": ("XC", {("leader", "XC")}),
    "deputy1": ("XC", {("leader", "XC")}),
    "b_clerk": ("XC-FGW", {("clerk", "XC-FGW")}),
    "b_leader": ("XC-FGW", {("leader", "XC-FGW")}),
    "custodian": ("XC-OFF", {("seal_custodian", "XC-OFF")}),
    "admin": ("XC-SJ", {("city_it_admin", "XC")}),
    "supervisor": ("XC-JW", {("supervisor", "XC")}),
}


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    return {
        "units": list(Unit.objects.order_by("code").values_list("code", "name", "path", "depth")),
        "users": list(User.objects.order_by("username").values()),
        "roles": sorted(RoleAssignment.objects.values_list("user__username", "role", "unit__code")),
        "posts": sorted(Post.objects.values_list("unit__code", "name", "holder_id", "backup_id")),
    }


def test_seed_twice_is_idempotent_and_complete(settings):
    first_output = seed()
    before = snapshot()
    second_output = seed()
    assert snapshot() == before
    assert "nothing to change" in second_output and "nothing to change" not in first_output
    assert len(AuditEvent.objects.filter(action="demo.seeded")) == 1

    assert Unit.objects.count() == len(demo_city.DEMO_UNITS)
    assert User.objects.count() == len(demo_city.DEMO_ACCOUNTS)
    for unit in Unit.objects.all():
        assert unit.path == unit.compute_path()
    city = Unit.objects.get(code="XC")
    assert city.parent_id is None and city.short_name == "市政府"
    assert Unit.objects.get(code="XC-OFF").doc_prefix == "新府办发"
    assert Unit.objects.get(code="XC-FGW").doc_prefix == "新发改发"
    assert Unit.objects.filter(parent=city, kind="bureau").count() >= 6
    districts = Unit.objects.filter(parent=city, kind="district")
    assert districts.count() == 2
    for district in districts:
        assert 2 <= Unit.objects.filter(parent=district, kind="township").count() <= 3

    for username, (unit_code, roles) in REQUIRED.items():
        user = authenticate(username=username, password=settings.GOVDESK_DEMO_PASSWORD)
        assert user is not None, username
        assert user.unit.code == unit_code
        held = set(RoleAssignment.objects.filter(user=user).values_list("role", "unit__code"))
        assert roles <= held, (username, held)
        assert not password_expired(user) and not user.must_change_password
    assert User.objects.get(username="clerk").title == "收发文员"
    assert {
        u.title for u in User.objects.filter(username__in=["leader1", "leader2", "leader3"])
    } == {"副市长"}
    assert User.objects.get(username="mayor").title == "市长"

    post = Post.objects.select_related("holder", "backup", "unit").get(name="副市长(一)")
    assert (post.unit.code, post.holder.username, post.backup.username) == (
        "XC",
        "leader1",
        "deputy1",
    )
    for post in Post.objects.select_related("holder__unit", "backup__unit", "unit"):
        assert post.holder_id != post.backup_id
        assert post.backup.unit.path.startswith(post.unit.path)

    for username in demo_city.TOTP_ACCOUNTS:
        user = User.objects.get(username=username)
        assert user.has_totp and user.totp_secret == demo_city.DEMO_TOTP_SECRET
    code = pyotp.TOTP(demo_city.DEMO_TOTP_SECRET).now()
    assert len(code) == 6 and demo_city.DEMO_TOTP_SECRET in first_output


def test_demo_logins_through_the_api(settings):
    from rest_framework.test import APIClient

    seed()
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": "leader1", "password": settings.GOVDESK_DEMO_PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    token = response.json()["access"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    office = Unit.objects.get(code="XC-OFF")
    assert client.get(f"/api/v1/units/{office.pk}/posts/").status_code == 404  # not a member
    city = Unit.objects.get(code="XC")
    names = [p["name"] for p in client.get(f"/api/v1/units/{city.pk}/posts/").json()["results"]]
    assert "副市长(一)" in names


def test_passwords_changed_by_users_survive_a_rerun(settings):
    seed()
    user = User.objects.get(username="leader1")
    user.set_password("Changed#Pass2026")
    user.save()
    seed()
    assert authenticate(username="leader1", password="Changed#Pass2026") is not None
    assert authenticate(username="leader1", password=settings.GOVDESK_DEMO_PASSWORD) is None
    seed("--reset-passwords")
    assert authenticate(username="leader1", password=settings.GOVDESK_DEMO_PASSWORD) is not None


def test_demo_password_setting_is_used(settings):
    settings.GOVDESK_DEMO_PASSWORD = "Another#Demo2026"
    seed()
    assert authenticate(username="clerk", password="Another#Demo2026") is not None


def test_rerun_restores_a_moved_demo_unit():
    seed()
    office = Unit.objects.get(code="XC-OFF")
    district = Unit.objects.get(code="XC-YC")
    from api.accounts.actions.org import move_subtree

    move_subtree(office, district)
    office.save()
    assert Unit.objects.get(code="XC-OFF-MS").depth == 3
    seed()
    for unit in Unit.objects.all():
        assert unit.path == unit.compute_path(), unit.code
    assert Unit.objects.get(code="XC-OFF").parent.code == "XC"
    assert Unit.objects.get(code="XC-OFF-MS").depth == 2


def test_refuses_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    assert not Unit.objects.exists()


def test_generated_units_are_well_formed():
    specs = demo_city.scale_units()
    everything = list(demo_city.DEMO_UNITS) + specs
    assert len(everything) == demo_city.SCALE_UNITS
    assert len({s.code for s in everything}) == len(everything)
    assert len({(s.parent, s.name) for s in everything}) == len(everything)
    seen: set[str] = set()
    for spec in everything:
        assert spec.parent is None or spec.parent in seen, spec
        seen.add(spec.code)
    assert specs == demo_city.scale_units()  # deterministic


def test_scale_city_exact_totals_fast_and_idempotent(settings):
    started = time.monotonic()
    output = seed("--scale", "city")
    elapsed = time.monotonic() - started
    assert Unit.objects.count() == demo_city.SCALE_UNITS == 375
    assert User.objects.count() == demo_city.SCALE_USERS == 8165
    assert f"{375} units, {8165} users" in output
    assert elapsed < 60, elapsed
    for unit in Unit.objects.only("id", "path", "parent_id").select_related("parent"):
        assert unit.path == unit.compute_path()
    # Everybody has a role; one leader per unit among the generated people.
    assert not User.objects.filter(role_assignments__isnull=True).exists()
    generated = User.objects.filter(username__startswith=demo_city.SCALE_USER_PREFIX)
    assert generated.count() == 8165 - len(demo_city.DEMO_ACCOUNTS)
    # The shared hash verifies with the demo password.
    last = f"{demo_city.SCALE_USER_PREFIX}{8165 - len(demo_city.DEMO_ACCOUNTS):05d}"
    assert authenticate(username=last, password=settings.GOVDESK_DEMO_PASSWORD) is not None
    assert authenticate(username="clerk", password=settings.GOVDESK_DEMO_PASSWORD) is not None

    output = seed("--scale", "city")
    assert "nothing to change" in output
    assert Unit.objects.count() == 375 and User.objects.count() == 8165
