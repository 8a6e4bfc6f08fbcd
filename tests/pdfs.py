"""Reading the text of a PDF in tests."""

import os
import shutil
import subprocess
from io import BytesIO

import pytest
from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (what a bookkeeper's tools see); where
    poppler-utils is not installed (CI installs it), as pypdf reads it, so the test still runs."""
    assert content.startswith(b"%PDF-")
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing (apt-get install poppler-utils)")
        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],  # noqa: S607 (Debian's poppler-utils, on PATH)
        input=content,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()
