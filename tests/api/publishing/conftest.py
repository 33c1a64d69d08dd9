"""Fixtures of the publishing tests (docs/publishing.md): a city-wide channel, an
editor and a publisher of the office, readers inside and outside an audience."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.accounts.models import Role, Unit, User
from api.publishing.actions.grants import grant_publisher
from api.publishing.models import Channel
from tests.personas import client_for, make_unit, make_user


@pytest.fixture(autouse=True)
def attachment_dir(settings, tmp_path):
    settings.GOVDESK_ATTACHMENT_DIR = tmp_path / "attachments"
    return settings.GOVDESK_ATTACHMENT_DIR


@dataclass
class World:
    channel: Channel
    editor: User  # staff of a department of the office (writes for the office)
    publisher: User  # named publisher of the office
    reader: User  # bureau staff
    bureau_dept_reader: User  # staff of a department of the bureau
    district_reader: User
    township_reader: User
    leader: User  # leader in the district
    department: Unit
    bureau_dept: Unit


@pytest.fixture
def world(org, personas) -> World:
    department = make_unit("文电科", "department", org.office, code="C-OFF-WD")
    bureau_dept = make_unit("办公室", "department", org.bureau, code="C-DRC-BGS")
    publisher = make_user("pat", org.office, Role.STAFF, display_name="发布员")
    grant_publisher(org.office, publisher, None)
    return World(
        channel=Channel.objects.create(name="通知公告", code="notices"),
        editor=make_user("eddie", department, Role.STAFF, display_name="编辑"),
        publisher=publisher,
        reader=make_user("rita", org.bureau, Role.STAFF),
        bureau_dept_reader=make_user("ben", bureau_dept, Role.STAFF),
        district_reader=make_user("dora", org.district, Role.STAFF),
        township_reader=make_user("tom", org.township, Role.STAFF),
        leader=make_user("lee", org.district, Role.LEADER),
        department=department,
        bureau_dept=bureau_dept,
    )


BODY = [
    {"level": 0, "text": "各单位：当前已进入主汛期，请做好防汛抗旱和安全生产工作。"},
    {"level": 1, "text": "一、压实责任。"},
]


def publish(
    world: World,
    audience: dict,
    *,
    must_read: bool = False,
    title: str = "关于防汛的通知",
    body: list | None = None,
    **extra,
) -> int:
    """Draft as the editor, publish as the publisher; returns the post id."""
    editor = client_for(world.editor)
    response = editor.post(
        "/api/v1/posts/",
        {
            "channel": world.channel.pk,
            "title": title,
            "body": body or BODY,
            "audience": audience,
            "must_read": must_read,
            **extra,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    post_id = response.json()["id"]
    response = client_for(world.publisher).post(
        f"/api/v1/posts/{post_id}/publish/", {}, format="json"
    )
    assert response.status_code == 200, response.content
    return post_id
