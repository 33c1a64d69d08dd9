"""The demo supervised items: created once, one green and one red (docs/supervision.md)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from api.supervision.demo import seed_supervised_items
from api.supervision.models import SupervisedItem

pytestmark = pytest.mark.django_db


def test_demo_items_are_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    SupervisedItem.objects.all().delete()  # whatever seed_demo already did
    assert seed_supervised_items() == 2
    assert seed_supervised_items() == 0
    lights = dict(SupervisedItem.objects.values_list("title", "light"))
    assert lights == {"重点项目“智慧园区”年度投资计划落实": "green", "营商环境问题清单整改": "red"}
