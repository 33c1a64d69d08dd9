"""People picker GET /api/v1/users/?q= (docs/mobile-api.md#people-picker)."""

from __future__ import annotations

import pytest

from api.accounts.models import Post
from tests.personas import client_for, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/users/"


@pytest.fixture
def named(org, personas):
    zhang = make_user("zhangsan", org.bureau, display_name="张三")
    zhang.title = "科长"
    zhang.save(update_fields=["title"])
    wang = make_user("wangjg", org.office, display_name="王建国")
    Post.objects.create(unit=org.office, name="分管副市长", holder=wang)
    gone = make_user("zhangsi", org.bureau, display_name="张四")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return {"zhang": zhang, "wang": wang, "gone": gone}


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["display_name"] for p in response.json()]


def test_pinyin_initials_and_full_pinyin(personas, named):
    client = client_for(personas["charlie"])
    assert _names(client.get(URL, {"q": "zs"})) == ["张三"]  # inactive 张四 hidden
    assert _names(client.get(URL, {"q": "ZHANG"})) == ["张三"]
    assert _names(client.get(URL, {"q": "wjg"})) == ["王建国"]


def test_name_unit_post_title(personas, named, org):
    client = client_for(personas["charlie"])
    assert _names(client.get(URL, {"q": "建国"})) == ["王建国"]
    assert "王建国" in _names(client.get(URL, {"q": "分管"}))
    assert _names(client.get(URL, {"q": "科长"})) == ["张三"]
    in_bureau = _names(client.get(URL, {"q": "发展和改革"}))
    assert set(in_bureau) == {"charlie", "张三"}


def test_shape_has_no_private_fields(personas, named, org):
    body = client_for(personas["bob"]).get(URL, {"q": "wjg"}).json()
    assert body == [
        {
            "id": named["wang"].pk,
            "username": "wangjg",
            "display_name": "王建国",
            "initials": "wjg",
            "title": "",
            "unit": {"id": org.office.pk, "name": org.office.name},
            "posts": ["分管副市长"],
        }
    ]


def test_everyone_can_find_people_of_other_units_own_unit_first(personas, named, org):
    # charlie (bureau) finds the office's people too, after his own unit's.
    names = _names(client_for(personas["charlie"]).get(URL, {"q": "测试市"}))
    assert set(names[:2]) == {"charlie", "张三"}
    assert {"alice", "bob", "leo", "王建国", "ivy", "sam"} <= set(names[2:])


def test_no_query_lists_own_unit_and_unit_filter(personas, named, org):
    client = client_for(personas["bob"])
    assert set(_names(client.get(URL))) == {"alice", "bob", "leo", "王建国"}
    assert set(_names(client.get(URL, {"unit": org.bureau.pk}))) == {"charlie", "张三"}
    assert client.get(URL, {"unit": 999999}).status_code == 404


def test_at_most_20_and_bad_input(personas, org):
    for i in range(30):
        make_user(f"clerk{i:02d}", org.bureau, display_name=f"李{i:02d}")
    client = client_for(personas["bob"])
    assert len(_names(client.get(URL, {"q": "li"}))) == 20
    assert client.get(URL, {"q": "x" * 33}).status_code == 400
    assert client_for(None).get(URL, {"q": "li"}).status_code == 401


def test_query_count_does_not_grow_with_people(personas, org, django_assert_max_num_queries):
    client = client_for(personas["bob"])
    for i in range(3):
        make_user(f"few{i}", org.bureau, display_name=f"赵{i}")
    with django_assert_max_num_queries(8) as few:
        assert len(_names(client.get(URL, {"q": "zhao"}))) == 3
    for i in range(3, 40):
        user = make_user(f"few{i}", org.bureau, display_name=f"赵{i}")
        Post.objects.create(unit=org.bureau, name=f"岗位{i}", holder=user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_names(client.get(URL, {"q": "zhao"}))) == 20
