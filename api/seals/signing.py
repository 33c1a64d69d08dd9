"""PAdES signing with the visible seal (pyHanko). Docs: docs/seals.md#signing.

``apply_seal`` appends a signature field on the given page and box, draws the seal
image as the field's appearance and signs with the unit's certificate as a PAdES
baseline (B-B) signature (``/ETSI.CAdES.detached``, SHA-256, the CA certificate
embedded in the CMS). pyHanko writes an incremental update, so the input bytes stay
an exact prefix of the output.
"""

from __future__ import annotations

import io
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils import images as pdf_images
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from api.common.errors import ApiError
from api.seals import ca
from api.seals.models import Seal

Box = tuple[int, float, float, float, float]
FIELD_PREFIX = "GovDeskSeal"


def _signer(seal: Seal) -> signers.SimpleSigner:
    row = seal.certificate
    key = ca.load_unit_private_key(row)
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ca_der = ca.load_ca_certificate().public_bytes(serialization.Encoding.DER)
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            ca.certificate_of(row).public_bytes(serialization.Encoding.DER)
        ),
        signing_key=load_private_key_from_pemder_data(key_der, None),
        cert_registry=SimpleCertificateStore.from_certs([asn1_x509.Certificate.load(ca_der)]),
    )


def _stamp(seal: Seal) -> StaticStampStyle:
    with Image.open(Path(ca.seal_dir()) / seal.image) as image:
        image.load()
        rgba = image.convert("RGBA")
    return StaticStampStyle(
        background=pdf_images.PdfImage(rgba), border_width=0, background_opacity=1.0
    )


def page_box(pdf_bytes: bytes, page_index: int) -> tuple[float, float, float, float]:
    """The MediaBox of page ``page_index`` (negative counts from the end)."""
    writer = _writer(pdf_bytes)
    pages = writer.root["/Pages"]
    count = int(pages["/Count"])
    index = page_index if page_index >= 0 else count + page_index
    if not 0 <= index < count:
        raise ApiError("seal_box_invalid", status_code=422)
    page = writer.find_page_for_modification(index)[0].get_object()
    x1, y1, x2, y2 = (float(v) for v in page["/MediaBox"])
    return x1, y1, x2, y2


def _writer(pdf_bytes: bytes) -> IncrementalPdfFileWriter:
    if not pdf_bytes.startswith(b"%PDF-"):
        raise ApiError("not_a_pdf", status_code=415)
    try:
        return IncrementalPdfFileWriter(io.BytesIO(pdf_bytes), strict=False)
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise ApiError("not_a_pdf", status_code=415) from exc


def apply_seal(pdf_bytes: bytes, seal: Seal, *, box: Box, reason: str, signer_name: str) -> bytes:
    """Sign ``pdf_bytes`` with ``seal``'s certificate and draw its image at ``box``
    = (page index, x1, y1, x2, y2) in PDF points; returns the signed file (the input
    plus one incremental update). Does not check who may seal: see
    api/seals/actions.py ``seal_document_pdf``."""
    page_index, x1, y1, x2, y2 = box
    if not (x2 > x1 and y2 > y1):
        raise ApiError("seal_box_invalid", status_code=422)
    mx1, my1, mx2, my2 = page_box(pdf_bytes, page_index)
    if x1 < mx1 or y1 < my1 or x2 > mx2 or y2 > my2:
        raise ApiError("seal_box_invalid", status_code=422)
    writer = _writer(pdf_bytes)
    existing = {f[0] for f in fields.enumerate_sig_fields(writer.prev)}
    number = len(existing) + 1
    while f"{FIELD_PREFIX}{number}" in existing:
        number += 1
    name = f"{FIELD_PREFIX}{number}"
    if page_index < 0:
        page_index += int(writer.root["/Pages"]["/Count"])
    rect = (round(x1), round(y1), round(x2), round(y2))  # whole points (1 pt ≈ 0.35 mm)
    fields.append_signature_field(writer, fields.SigFieldSpec(name, on_page=page_index, box=rect))
    meta = signers.PdfSignatureMetadata(
        field_name=name,
        reason=reason[:200] or None,
        name=signer_name[:100] or None,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    pdf_signer = signers.PdfSigner(meta, _signer(seal), stamp_style=_stamp(seal))
    out = pdf_signer.sign_pdf(writer)
    assert isinstance(out, io.BytesIO)
    return out.getvalue()
