"""The demo's showcase notice (docs/demo.md#the-showcase-notice): drafted over the API
as the demo launcher does, its rendered PDF prints 主送 once — as the 主送 line, not
again as the first body paragraph."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from api.accounts.models import User
from api.demo import city as demo_city
from api.documents.models import Document
from api.documents.rendering import fonts
from api.documents.rendering.render import input_for, render
from tests.api.documents.rendering.conftest import NEEDS_POPPLER, pages_text
from tests.personas import client_for

pytestmark = pytest.mark.django_db
SEEDER = Path(__file__).resolve().parents[3] / "pwa" / "scripts" / "seed_demo_task.py"
MAIN_LINE = demo_city.SHOWCASE_MAIN_RECIPIENTS + "："


def test_the_body_does_not_repeat_the_main_recipients():
    notice = demo_city.showcase_notice()
    assert notice["main_recipients"] == demo_city.SHOWCASE_MAIN_RECIPIENTS
    texts = [p["text"].rstrip("：:") for p in notice["body"]]
    assert demo_city.SHOWCASE_MAIN_RECIPIENTS not in texts


def test_the_demo_launcher_seeds_this_notice():
    spec = importlib.util.spec_from_file_location("govdesk_seed_demo_task", SEEDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.showcase_notice is demo_city.showcase_notice
    assert module.SHOWCASE_TITLES == demo_city.SHOWCASE_TITLES


@NEEDS_POPPLER
def test_the_rendered_showcase_notice_prints_main_recipients_once(tmp_path, settings):
    missing = [message for _, message in fonts.problems()]
    if missing:
        pytest.skip("fonts missing (.ci/run installs them): " + "; ".join(missing))
    call_command("seed_demo", stdout=io.StringIO())
    clerk = client_for(User.objects.get(username="clerk"))
    response = clerk.post("/api/v1/documents/", demo_city.showcase_notice(), format="json")
    assert response.status_code == 201, response.content
    document = Document.objects.get(pk=response.json()["id"])
    text = "\n".join(pages_text(render(input_for(document)).pdf, tmp_path))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines.count(MAIN_LINE) == 1, lines
    assert sum(line.count(demo_city.SHOWCASE_MAIN_RECIPIENTS) for line in lines) == 1
