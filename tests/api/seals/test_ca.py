"""The deployment CA and its commands (docs/seals.md#the-deployment-ca)."""

from __future__ import annotations

import io
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command

from api.audit.models import AuditEvent
from api.seals import ca
from api.seals.models import Seal, SealCertificate

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> str:
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_ca_init_writes_encrypted_key_and_refuses_to_overwrite(seal_dir):
    output = run("seal_ca_init")
    key_file, cert_file = ca.ca_key_path(), ca.ca_cert_path()
    assert "CA created" in output and "PRIVATE KEY" not in output
    raw = key_file.read_bytes()
    assert raw.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # encrypted: unreadable without the passphrase
        serialization.load_pem_private_key(raw, password=None)
    for path in (key_file, cert_file, ca.crl_path()):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(seal_dir.stat().st_mode) == 0o700
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    before = cert_file.read_bytes(), raw
    with pytest.raises(CommandError, match="seal_ca_exists"):
        run("seal_ca_init")
    assert (cert_file.read_bytes(), key_file.read_bytes()) == before
    assert AuditEvent.objects.filter(action="seal.ca_initialised").count() == 1


def test_issue_binds_certificate_to_unit_and_seal(org, ca_ready, caplog):
    caplog.set_level(logging.DEBUG)
    output = run("seal_issue_cert", "--unit", org.office.code)
    row = SealCertificate.objects.get(unit=org.office)
    cert = ca.certificate_of(row)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == org.office.name
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "GovDesk deployment"
    )
    assert cert.issuer == ca_ready.subject
    cert.verify_directly_issued_by(ca_ready)
    assert row.serial in output
    key_path = Path(ca.seal_dir()) / row.key_file
    assert key_path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    seal = Seal.objects.get(unit=org.office, is_active=True)
    assert seal.certificate == row and (Path(ca.seal_dir()) / seal.image).is_file()
    event = AuditEvent.objects.get(action="seal.certificate_issued")
    assert event.unit_id == org.office.pk and event.detail["serial"] == row.serial
    # No key material anywhere it could leak: output, logs, audit.
    key_der = ca.load_unit_private_key(row).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for text in (output, caplog.text, str(event.detail)):
        assert "PRIVATE KEY" not in text and key_der.hex()[:32] not in text
    with pytest.raises(CommandError, match="seal_certificate_exists"):
        run("seal_issue_cert", "--unit", org.office.code)
    with pytest.raises(CommandError, match="no unit"):
        run("seal_issue_cert", "--unit", "nope")


def test_issue_without_ca_is_refused(org):
    with pytest.raises(CommandError, match="seal_ca_missing"):
        run("seal_issue_cert", "--unit", org.office.code)
    assert not SealCertificate.objects.exists()


def test_revoke_records_time_and_writes_crl_then_reissue_rebinds(org, ca_ready):
    run("seal_issue_cert", "--unit", org.office.code)
    output = run("seal_revoke_cert", "--unit", org.office.code, "--reason", "key_compromise")
    row = SealCertificate.objects.get(unit=org.office)
    assert row.revoked_at is not None and row.revocation_reason == "key_compromise"
    assert row.serial in output
    crl = ca.load_crl()
    assert crl is not None
    entry = crl.get_revoked_certificate_by_serial_number(int(row.serial, 16))
    assert entry is not None
    assert entry.revocation_date_utc == row.revoked_at.replace(microsecond=0)
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    assert AuditEvent.objects.filter(action="seal.certificate_revoked").count() == 1
    with pytest.raises(CommandError, match="seal_certificate_missing"):
        run("seal_revoke_cert", "--unit", org.office.code, "--reason", "superseded")
    # A new certificate rebinds the same active seal.
    seal_before = Seal.objects.get(unit=org.office, is_active=True)
    run("seal_issue_cert", "--unit", org.office.code)
    seal_after = Seal.objects.get(unit=org.office, is_active=True)
    assert seal_after.pk == seal_before.pk and seal_after.certificate_id != row.pk


def test_forged_crl_is_ignored(org, ca_ready, seal_dir):
    ca.crl_path().write_bytes(ca.crl_path().read_bytes().replace(b"A", b"B", 1))
    assert ca.load_crl() is None


def test_wrong_passphrase_is_a_clear_error(org, ca_ready, settings):
    settings.GOVDESK_SEAL_KEY_PASSPHRASE = "not-the-passphrase"
    with pytest.raises(CommandError, match="seal_key_unreadable"):
        run("seal_issue_cert", "--unit", org.office.code)


def test_production_refuses_the_development_passphrase(tmp_path):
    env = {
        **os.environ,
        "GOVDESK_MODE": "production",
        "SECRET_KEY": "x" * 64,
        "GOVDESK_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "api.settings",
    }
    env.pop("GOVDESK_SEAL_KEY_PASSPHRASE", None)
    result = subprocess.run(
        [sys.executable, "-c", "import api.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.returncode != 0 and "GOVDESK_SEAL_KEY_PASSPHRASE" in result.stderr
    env["GOVDESK_SEAL_KEY_PASSPHRASE"] = "a-long-production-passphrase-1234"
    result = subprocess.run(
        [sys.executable, "-c", "import api.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert "GOVDESK_SEAL_KEY_PASSPHRASE" not in result.stderr


def test_system_check_refuses_seal_dir_under_the_web_root(settings):
    from api.seals.checks import seal_dir_outside_web_root

    assert seal_dir_outside_web_root() == []
    settings.GOVDESK_SEAL_DIR = settings.STATIC_ROOT / "seals"
    [error] = seal_dir_outside_web_root()
    assert error.id == "seals.E001"
