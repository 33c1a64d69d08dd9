"""The deployment CA (部署根证书): create it, issue and revoke unit signing
certificates, publish the CRL. Docs: docs/seals.md#the-deployment-ca.

Everything is built with ``cryptography`` (ECDSA P-256, SHA-256). Layout under
GOVDESK_SEAL_DIR (created 0700, files 0600, never under the web root):

    ca/ca.key.pem           the CA key, PKCS#8 encrypted with GOVDESK_SEAL_KEY_PASSPHRASE
    ca/ca.crt.pem           the CA certificate (the only trust root of verification)
    ca/crl.pem              the CRL, rewritten on every revocation
    units/<serial>.key.pem  a unit's signing key, encrypted with the same passphrase
    images/<sha256>.png     processed seal images

Private keys are never logged, never put in an audit detail and never served; only
``load_unit_private_key`` (used by api/seals/signing.py) decrypts one, in memory.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from api.accounts.models import Unit
from api.audit.recorder import record
from api.common.datetimes import client_datetime
from api.common.errors import ApiError, Conflict
from api.common.i18n import one_of
from api.seals.models import RevocationReason, SealCertificate

ORGANISATION = "GovDesk deployment"
CA_COMMON_NAME = "GovDesk Deployment Seal CA"
CA_DAYS = 3650
UNIT_CERT_DAYS = 730
COMMAND_ACTOR = "system:manage.py"

_REASON_FLAGS = {
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.AFFILIATION_CHANGED: x509.ReasonFlags.affiliation_changed,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION_OF_OPERATION: x509.ReasonFlags.cessation_of_operation,
}


# --- Paths and files -----------------------------------------------------------------


def seal_dir() -> Path:
    return Path(settings.GOVDESK_SEAL_DIR)


def ca_key_path() -> Path:
    return seal_dir() / "ca" / "ca.key.pem"


def ca_cert_path() -> Path:
    return seal_dir() / "ca" / "ca.crt.pem"


def crl_path() -> Path:
    return seal_dir() / "ca" / "crl.pem"


def _passphrase() -> bytes:
    return str(settings.GOVDESK_SEAL_KEY_PASSPHRASE).encode()


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and GOVDESK_SEAL_DIR itself) readable by the owner only."""
    for directory in (seal_dir(), path):
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private(path: Path, data: bytes, *, exclusive: bool = True) -> None:
    """Write ``data`` readable by the owner only; ``exclusive`` refuses to overwrite."""
    ensure_dir(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _encrypted_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase()),
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=_passphrase())
    except FileNotFoundError as exc:
        raise Conflict("seal_key_missing") from exc
    except (ValueError, TypeError) as exc:  # wrong passphrase or damaged file
        raise ApiError("seal_key_unreadable", status_code=500) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - we only write EC
        raise ApiError("seal_key_unreadable", status_code=500)
    return key


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


# --- The CA --------------------------------------------------------------------------


def ca_exists() -> bool:
    return ca_cert_path().exists() or ca_key_path().exists()


def init_ca(*, common_name: str = CA_COMMON_NAME, days: int = CA_DAYS) -> x509.Certificate:
    """Create the deployment CA; refuses (409 ``seal_ca_exists``) when one exists."""
    if ca_exists():
        raise Conflict("seal_ca_exists")
    key = ec.generate_private_key(ec.SECP256R1())
    now = timezone.now()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(ca_key_path(), _encrypted_pem(key))
    write_private(ca_cert_path(), cert.public_bytes(serialization.Encoding.PEM))
    with transaction.atomic():
        write_crl(key=key, cert=cert)
        record(
            "seal.ca_initialised",
            actor_username=COMMAND_ACTOR,
            object_type="seal_ca",
            object_id=format(cert.serial_number, "x"),
            detail={"subject": common_name, "not_after": client_datetime(cert.not_valid_after_utc)},
        )
    return cert


def load_ca_certificate() -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(ca_cert_path().read_bytes())
    except FileNotFoundError as exc:
        raise Conflict("seal_ca_missing") from exc


def _load_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    cert = load_ca_certificate()
    return _load_key(ca_key_path()), cert


# --- Unit certificates -----------------------------------------------------------------


def issue_unit_certificate(unit: Unit, *, days: int = UNIT_CERT_DAYS) -> SealCertificate:
    """Issue a signing certificate for ``unit`` (CN = unit name, O = GovDesk deployment)
    with a fresh key written encrypted under GOVDESK_SEAL_DIR. Joins the caller's
    transaction (api/seals/actions.py ``issue_seal``); 409 ``seal_certificate_exists``
    while the unit holds an unrevoked certificate."""
    if SealCertificate.objects.filter(unit=unit, revoked_at__isnull=True).exists():
        raise Conflict("seal_certificate_exists")
    ca_key, ca_cert = _load_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    now = timezone.now()
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(unit.name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    serial_hex = format(serial, "x")
    key_file = Path("units") / f"{serial_hex}.key.pem"
    write_private(seal_dir() / key_file, _encrypted_pem(key))
    try:
        return SealCertificate.objects.create(
            unit=unit,
            serial=serial_hex,
            subject=cert.subject.rfc4514_string(),
            certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
            key_file=str(key_file),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            issued_at=now,
        )
    except BaseException:
        (seal_dir() / key_file).unlink(missing_ok=True)
        raise


def certificate_of(row: SealCertificate) -> x509.Certificate:
    return x509.load_pem_x509_certificate(row.certificate_pem.encode())


def load_unit_private_key(row: SealCertificate) -> ec.EllipticCurvePrivateKey:
    """The unit's signing key, decrypted in memory for one signature."""
    return _load_key(seal_dir() / row.key_file)


def revoke_unit_certificate(
    unit: Unit, *, reason: str = RevocationReason.UNSPECIFIED
) -> SealCertificate:
    """Revoke the unit's current certificate now, rewrite the CRL and audit
    ``seal.certificate_revoked``; 409 ``seal_certificate_missing`` when the unit has
    no unrevoked certificate. The unit's seal stays bound to the revoked certificate
    (sealing is refused with ``seal_certificate_revoked``) until ``issue_seal`` binds
    a new one."""
    if reason not in _REASON_FLAGS:
        raise ApiError("validation_error", fields={"reason": [one_of(sorted(_REASON_FLAGS))]})
    with transaction.atomic():
        row = (
            SealCertificate.objects.select_for_update()
            .filter(unit=unit, revoked_at__isnull=True)
            .first()
        )
        if row is None:
            raise Conflict("seal_certificate_missing")
        row.revoked_at = timezone.now()
        row.revocation_reason = reason
        row.save(update_fields=["revoked_at", "revocation_reason"])
        write_crl()
        record(
            "seal.certificate_revoked",
            actor_username=COMMAND_ACTOR,
            obj=row,
            detail={"serial": row.serial, "reason": reason, "revoked_at": row.revoked_at},
        )
    return row


# --- CRL -------------------------------------------------------------------------------


def write_crl(
    *, key: ec.EllipticCurvePrivateKey | None = None, cert: x509.Certificate | None = None
) -> x509.CertificateRevocationList:
    """Sign a CRL listing every revoked unit certificate (from the database, inside the
    caller's transaction) and write it to ca/crl.pem."""
    if key is None or cert is None:
        key, cert = _load_ca()
    now = timezone.now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(cert.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=7))
    )
    for row in SealCertificate.objects.filter(revoked_at__isnull=False).order_by("revoked_at"):
        assert row.revoked_at is not None
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(int(row.serial, 16))
            .revocation_date(row.revoked_at)
            .add_extension(
                x509.CRLReason(_REASON_FLAGS[RevocationReason(row.revocation_reason)]),
                critical=False,
            )
            .build()
        )
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(key, hashes.SHA256())
    write_private(crl_path(), crl.public_bytes(serialization.Encoding.PEM), exclusive=False)
    return crl


def load_crl() -> x509.CertificateRevocationList | None:
    """The published CRL, verified against the CA key; None when absent or forged."""
    try:
        crl = x509.load_pem_x509_crl(crl_path().read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    public_key = load_ca_certificate().public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not crl.is_signature_valid(
        public_key
    ):
        return None
    return crl
