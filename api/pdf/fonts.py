"""The font of Kern's PDFs: DejaVu Sans, a Unicode TrueType font (licence in fonts/LICENSE).

fpdf2's built-in fonts hold Latin-1 only, so a name such as "Łucja Zoë Ødegård" came out
mangled or not at all. DejaVu Sans holds the letters of every European language (Latin, Greek,
Cyrillic) and the euro sign; the copies here keep just those (see fonts/LICENSE), which makes a
PDF in some 50 ms rather than half a second, and fpdf2 embeds only the letters a document uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FOLDER = Path(__file__).with_name("fonts")
FAMILY = "DejaVuSans"
FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


def use_unicode_font(pdf: FPDF) -> str:
    """Register the font (regular and bold) with a new document; its family name, for
    `set_font`."""
    for style, name in FILES.items():
        pdf.add_font(FAMILY, style, str(FOLDER / name))
    return FAMILY
