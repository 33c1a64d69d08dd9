"""The seal step (用印) of the workflow: POST /api/v1/tasks/{id}/seal/.

Docs: docs/seals.md#the-seal-step. The custodian's TOTP code seals the latest
rendering; the sealed PDF, the SealUse, ``seal.applied`` and the closed task commit
together — and on every refusal nothing is written.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from api.accounts.models import Role, RoleAssignment
from api.audit.models import AuditEvent
from api.documents.models import Document, RenderedPdf
from api.seals import ca
from api.seals.demo import seed_demo_seal
from api.seals.models import Seal, SealUse
from api.workflow.models import Task, TaskState
from tests.api.seals.flow import open_task, otp, to_seal_step, user
from tests.personas import client_for


@pytest.fixture
def demo(db, seal_dir):
    call_command("seed_demo", stdout=io.StringIO())


def seal(task_id: int, code: str | None, as_: str = "custodian"):
    body = {} if code is None else {"otp": code}
    return client_for(user(as_)).post(f"/api/v1/tasks/{task_id}/seal/", body, format="json")


def snapshot(document: Document) -> tuple:
    task = Task.objects.get(document=document, step_kind="seal")
    return (
        RenderedPdf.objects.filter(document=document, meta__sealed=True).count(),
        SealUse.objects.count(),
        AuditEvent.objects.filter(action="seal.applied").count(),
        task.state,
        task.opinion,
        user("custodian").totp_last_counter,
    )


def test_seed_demo_seeds_the_ca_and_the_office_seal_once(demo, seal_dir):
    # 市政府办公室 and 市发改委: the demo units whose outgoing flow ends in 分发
    active = Seal.objects.select_related("unit", "certificate").filter(is_active=True)
    assert sorted(s.unit.code for s in active) == ["XC-FGW", "XC-OFF"]
    seal_row = active.get(unit__code="XC-OFF")
    assert not seal_row.certificate.is_revoked
    assert ca.ca_exists()
    assert seed_demo_seal() == {}  # idempotent
    assert Seal.objects.count() == 2
    ca.revoke_unit_certificate(seal_row.unit)
    assert seed_demo_seal() == {"seals_issued": 1}  # a revoked certificate is replaced
    seal_row.refresh_from_db()
    assert not seal_row.certificate.is_revoked


def test_custodian_seals_and_the_step_completes(demo):
    document, task = to_seal_step()
    assert not RenderedPdf.objects.filter(document=document).exists()  # rendered on demand
    response = seal(task.pk, otp())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "done" and body["opinion"] == "已用印"
    renderings = list(RenderedPdf.objects.filter(document=document).order_by("version"))
    assert [r.meta.get("sealed", False) for r in renderings] == [False, True]
    sealed = renderings[1]
    assert sealed.meta["kind"] == "sealed" and sealed.meta["sealed_from"] == 1
    use = SealUse.objects.get(document=document)
    assert use.signed_sha256 == sealed.sha256 and use.document_sha256_before == renderings[0].sha256
    assert AuditEvent.objects.filter(action="seal.applied", object_id=str(document.pk)).count() == 1
    # the flow moved on to distribution
    assert open_task("clerk", document).step_kind == "distribute"
    # the same code again is a replay, and the task is closed anyway
    again = seal(task.pk, otp())
    assert again.status_code == 409 and again.json()["error"]["code"] == "task_not_open"


def test_plain_approve_is_refused_and_allowed_actions_say_seal(demo):
    _, task = to_seal_step()
    client = client_for(user("custodian"))
    detail = client.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["allowed_actions"]["approve"]["code"] == "seal_required"
    assert detail["allowed_actions"]["batch_approve"]["code"] == "seal_required"
    assert detail["allowed_actions"]["seal"] == {"allowed": True}
    response = client.post(f"/api/v1/tasks/{task.pk}/approve/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "seal_required"
    task.refresh_from_db()
    assert task.state == TaskState.OPEN


def test_seal_on_another_step_is_422_not_seal_step(demo):
    document, _ = to_seal_step()
    clerk = user("clerk")
    distribute_free = Task.objects.filter(document=document, step_kind="review").get()
    assert distribute_free.state == TaskState.DONE
    from api.documents.actions import create_draft
    from api.workflow import actions
    from api.workflow.models import WorkflowTemplate

    other = create_draft(
        clerk,
        direction="outgoing",
        title="关于值班的通知",
        doc_type="notice",
        body=[{"level": 0, "text": "各单位："}],
        main_recipients="各区县人民政府",
    )
    template = WorkflowTemplate.objects.get(name="市政府办公室发文", is_active=True)
    actions.submit(other.pk, clerk, template.pk, {"sign_off_by": user("mayor").pk})
    review = open_task("director", other)
    response = seal(review.pk, otp(), as_="director")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "not_seal_step"
    detail = client_for(user("director")).get(f"/api/v1/tasks/{review.pk}/").json()
    assert detail["allowed_actions"]["seal"]["code"] == "not_seal_step"
    assert detail["allowed_actions"]["approve"] == {"allowed": True}


def test_someone_else_gets_404(demo):
    document, task = to_seal_step()
    before = snapshot(document)
    response = seal(task.pk, otp(), as_="leader1")
    assert response.status_code == 404
    assert snapshot(document) == before
    assert AuditEvent.objects.filter(action="task.seal", result="denied").exists()


def test_non_custodian_is_403_audited_and_nothing_written(demo):
    document, task = to_seal_step()
    RoleAssignment.objects.filter(user=user("custodian"), role=Role.SEAL_CUSTODIAN).delete()
    before = snapshot(document)
    response = seal(task.pk, otp())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_seal_custodian"
    assert snapshot(document) == before
    denied = AuditEvent.objects.get(action="seal.denied")
    assert denied.result == "denied" and denied.detail["code"] == "not_seal_custodian"


@pytest.mark.parametrize(
    ("code", "expected"), [(None, "otp_required"), ("000000", "otp_invalid"), ("x", "otp_invalid")]
)
def test_missing_or_wrong_otp_is_400_and_nothing_written(demo, code, expected):
    document, task = to_seal_step()
    right = otp(ahead=0)
    if code == "000000" and right == "000000":  # pragma: no cover - one in a million
        code = "000001"
    before = snapshot(document)
    response = seal(task.pk, code)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == expected
    assert snapshot(document) == before
    assert AuditEvent.objects.filter(action="seal.denied", result="denied").count() == 1


def test_unnumbered_document_is_refused(demo):
    document, task = to_seal_step()
    Document.objects.filter(pk=document.pk).update(doc_number="")
    before = snapshot(document)
    response = seal(task.pk, otp())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_numbered"
    assert snapshot(document) == before


def test_revoked_certificate_is_refused_and_nothing_written(demo):
    document, task = to_seal_step()
    ca.revoke_unit_certificate(document.unit)
    before = snapshot(document)
    response = seal(task.pk, otp())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "seal_certificate_revoked"
    assert snapshot(document) == before  # the TOTP counter too: the code is not spent
    failed = AuditEvent.objects.get(action="seal.apply_failed")
    assert failed.detail["code"] == "seal_certificate_revoked"


def test_no_rendering_is_409_not_rendered(demo, monkeypatch):
    document, task = to_seal_step()
    monkeypatch.setattr("api.documents.rendering.actions.store_rendering", lambda document_id: None)
    before = snapshot(document)
    response = seal(task.pk, otp())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_rendered"
    assert snapshot(document) == before


def test_a_thousand_wrong_codes_are_cut_off_and_audited(demo, settings):
    """Brute force of the seal code: the same counter and lockout as login (5 by
    default): after the configured failures every further try is 429 account_locked
    without the code being looked at — even the right code — and each try is audited."""
    settings.GOVDESK_LOGIN_MAX_FAILURES = 5
    _document, task = to_seal_step()
    right = otp(ahead=0)
    client = client_for(user("custodian"))
    statuses = []
    for n in range(1000):
        wrong = f"{(int(right) + 1 + n) % 1_000_000:06d}"
        response = client.post(f"/api/v1/tasks/{task.pk}/seal/", {"otp": wrong}, format="json")
        statuses.append((response.status_code, response.json()["error"]["code"]))
    assert statuses[:4] == [(400, "otp_invalid")] * 4
    assert statuses[4] == (429, "account_locked")
    assert set(statuses[5:]) == {(429, "account_locked")}
    assert seal(task.pk, right).status_code == 429  # the right code does not get through
    counted = AuditEvent.objects.filter(action="auth.step_up_failed", result="failed")
    assert counted.count() == 5
    assert AuditEvent.objects.filter(action="auth.locked").count() == 1
    refused = AuditEvent.objects.filter(action="auth.step_up_failed", result="denied")
    assert refused.count() == 995 + 1  # every refused try after the lock is recorded
    assert Task.objects.get(pk=task.pk).state == TaskState.OPEN
