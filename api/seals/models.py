"""Unit signing certificates, seals and the record of every seal use. Docs: docs/seals.md.

The private keys are files under GOVDESK_SEAL_DIR, encrypted with
GOVDESK_SEAL_KEY_PASSPHRASE (api/seals/ca.py); the database holds only certificates
(public) and the key file's name relative to that directory.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RevocationReason(models.TextChoices):
    UNSPECIFIED = "unspecified", "未说明"
    KEY_COMPROMISE = "key_compromise", "密钥泄露"
    AFFILIATION_CHANGED = "affiliation_changed", "单位变更"
    SUPERSEDED = "superseded", "已被替换"
    CESSATION_OF_OPERATION = "cessation_of_operation", "停止使用"


class SealCertificate(models.Model):
    """A unit signing certificate issued by the deployment CA (subject CN = unit name)."""

    unit = models.ForeignKey(
        "accounts.Unit", on_delete=models.PROTECT, related_name="seal_certificates"
    )
    serial = models.CharField(max_length=64, unique=True, help_text="hex serial number")
    subject = models.CharField(max_length=300)
    certificate_pem = models.TextField()
    key_file = models.CharField(max_length=200, help_text="relative to GOVDESK_SEAL_DIR")
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(
        max_length=30, choices=RevocationReason.choices, blank=True, default=""
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(revoked_at__isnull=True),
                name="seal_cert_one_unrevoked_per_unit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} #{self.serial}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Seal(models.Model):
    """A unit's seal (印章): the processed image bound to the unit's certificate.
    Custodians are the users holding ``seal_custodian`` for the unit (RoleAssignment)."""

    unit = models.ForeignKey("accounts.Unit", on_delete=models.PROTECT, related_name="seals")
    image = models.CharField(max_length=200, help_text="PNG, relative to GOVDESK_SEAL_DIR")
    image_sha256 = models.CharField(max_length=64)
    certificate = models.ForeignKey(SealCertificate, on_delete=models.PROTECT, related_name="seals")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(is_active=True), name="seal_one_active_per_unit"
            )
        ]

    def __str__(self) -> str:
        return f"Seal {self.pk} of unit {self.unit_id}"


class SealUse(models.Model):
    """One application of a seal (用印记录): who, which document, when, the hashes."""

    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="uses")
    document = models.ForeignKey(
        "documents.Document", on_delete=models.PROTECT, related_name="seal_uses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="seal_uses"
    )
    applied_at = models.DateTimeField(default=timezone.now)
    document_sha256_before = models.CharField(max_length=64)
    signed_sha256 = models.CharField(max_length=64)
    reason = models.CharField(max_length=200, blank=True)
    certificate_serial = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["document", "-applied_at"], name="seal_use_document_idx")]

    def __str__(self) -> str:
        return f"SealUse {self.pk} ({self.seal_id} on document {self.document_id})"
