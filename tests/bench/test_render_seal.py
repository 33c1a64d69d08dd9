"""Cost of rendering and sealing an official document, against a plain PDF, in one run.

Docs: docs/performance.md#rendering-and-sealing. Run with ``make bench`` (never part of
``make test``). Times, as the median of GOVDESK_BENCH_ROUNDS runs (default 5) in this
process:

* rendering a three-page notice with the GovDesk GB/T 9704 renderer
  (``api.documents.rendering.render.render``) and, for context, a one-page notice;
* sealing the three-page PDF (``api.seals.signing.apply_seal``: PAdES B-B, visible seal,
  incremental update) with a throwaway deployment CA and unit certificate made in a
  temporary GOVDESK_SEAL_DIR;
* rasterising one page at 720 px for phones (``pdftoppm``, docs/reading-on-phones.md);
* the baseline: a one-page plain reportlab document (Helvetica, a heading and 40 lines).

It prints the times and their ratios to the baseline and writes var/bench/render_seal.json.
Nothing asserts on wall time; the test checks that every output is what it claims to be
(3 pages, a signature that verifies, a PNG of the right width).
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from api.documents.rendering import fonts
from api.documents.rendering.render import render
from api.seals import actions as seal_actions
from api.seals import ca
from api.seals.signing import apply_seal
from api.seals.verification import verify_pdf
from tests.api.documents.rendering.samples import long_body, notice, one_page_notice

ROUNDS = int(os.environ.get("GOVDESK_BENCH_ROUNDS", "5"))
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "bench" / "render_seal.json"

pytestmark = pytest.mark.django_db


def _median(call: Callable[[], object]) -> tuple[float, object]:
    result = call()  # warm-up (fonts, imports, caches)
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result


def _plain_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(72, 770, "Notice on winter work safety")
    page.setFont("Helvetica", 11)
    for line in range(40):
        page.drawString(72, 740 - 16 * line, f"Line {line + 1}: all units shall check the risks.")
    page.showPage()
    page.save()
    return buffer.getvalue()


def _rasterise(pdf: bytes, work: Path) -> bytes:
    source = work / "in.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm", "-f", "1", "-l", "1", "-singlefile", "-png",
            "-scale-to-x", "720", "-scale-to-y", "-1", str(source), str(work / "page"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return (work / "page.png").read_bytes()


def test_render_and_seal_cost(org, settings, tmp_path):
    missing = [message for _, message in fonts.problems()]
    if missing:
        pytest.skip("fonts missing (.ci/run installs them): " + "; ".join(missing))
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils is not installed (.ci/run installs it)")
    settings.GOVDESK_SEAL_DIR = tmp_path / "seals"
    ca.init_ca()
    seal = seal_actions.issue_seal(org.office)

    three = notice(body=long_body(12), attachments=[])
    render_3, result = _median(lambda: render(three))
    assert result.page_count == 3 and len(PdfReader(io.BytesIO(result.pdf)).pages) == 3
    assert result.seal is not None
    render_1, one = _median(lambda: render(one_page_notice()))
    assert one.page_count == 1

    box = (result.seal.page, *result.seal.box)
    seal_3, signed = _median(
        lambda: apply_seal(result.pdf, seal, box=box, reason="bench", signer_name="bench")
    )
    assert signed.startswith(result.pdf)  # incremental update
    report = verify_pdf(signed)
    assert report["signed"] and report["intact"] and report["certificate_trusted"], report

    baseline, plain = _median(_plain_pdf)
    assert len(PdfReader(io.BytesIO(plain)).pages) == 1

    with tempfile.TemporaryDirectory() as work:
        raster_720, png = _median(lambda: _rasterise(result.pdf, Path(work)))
    assert png.startswith(b"\x89PNG")

    times = {
        "baseline_reportlab_1_page": baseline,
        "govdesk_render_1_page": render_1,
        "govdesk_render_3_pages": render_3,
        "seal_3_page_pdf": seal_3,
        "render_and_seal_3_pages": render_3 + seal_3,
        "pdftoppm_page_720px": raster_720,
    }
    ratios = {name: value / baseline for name, value in times.items()}
    print()
    print(f"median of {ROUNDS} runs, one process, {platform.processor() or platform.machine()}")
    print(f"{'step':32} {'ms':>9} {'× baseline':>11}")
    for name, value in times.items():
        print(f"{name:32} {value * 1000:9.1f} {ratios[name]:11.1f}")
    print(f"seal / render (3 pages): {seal_3 / render_3:.2f}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "when": timezone.now().isoformat(timespec="seconds"),
                "rounds": ROUNDS,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "sizes_bytes": {
                    "baseline_pdf": len(plain),
                    "govdesk_3_pages_pdf": len(result.pdf),
                    "sealed_3_pages_pdf": len(signed),
                    "page_720px_png": len(png),
                },
                "seconds": {name: round(value, 5) for name, value in times.items()},
                "ratio_to_baseline": {name: round(value, 2) for name, value in ratios.items()},
                "seal_over_render_3_pages": round(seal_3 / render_3, 3),
            },
            indent=2,
        )
        + "\n"
    )
