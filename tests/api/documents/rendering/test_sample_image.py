"""The sample page shown in docs/rendering.md: a demo-like notice rendered and its
first page rasterised by pdftoppm into docs/images/sample-notice-page1.png."""

from __future__ import annotations

import subprocess
from pathlib import Path

from api.documents.rendering.render import render
from tests.api.documents.rendering.conftest import NEEDS_POPPLER
from tests.api.documents.rendering.samples import one_page_notice

SAMPLE = Path(__file__).resolve().parents[4] / "docs" / "images" / "sample-notice-page1.png"


@NEEDS_POPPLER
def test_sample_page_image(tmp_path):
    source = tmp_path / "sample.pdf"
    result = render(one_page_notice(copy_number="000123"))
    assert result.page_count == 1 and result.seal is not None and result.seal.page == 0
    source.write_bytes(result.pdf)
    prefix = tmp_path / "page"
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(source),
            str(prefix),
        ],
        check=True,
        timeout=30,
    )
    image = (tmp_path / "page.png").read_bytes()
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(image) < 300_000
    # A4 at 80 dpi: about 661 × 935 pixels (IHDR width/height)
    assert abs(int.from_bytes(image[16:20], "big") - 661) <= 1
    assert abs(int.from_bytes(image[20:24], "big") - 935) <= 1
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    if not SAMPLE.is_file() or SAMPLE.read_bytes() != image:
        SAMPLE.write_bytes(image)
