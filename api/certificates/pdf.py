"""A certificate as a one-page PDF (fpdf2), in the language of the page that asks for it."""

from api.certificates.models import Certificate
from api.certificates.service import hours_of
from api.i18n import format_day, format_number
from api.i18n import gettext as _
from api.pdf.fonts import use_unicode_font

GREEN = (31, 92, 74)
INK = (34, 34, 34)
SOFT = (90, 90, 90)


def render(certificate: Certificate, *, verify_url: str) -> bytes:
    """The certificate's PDF: course, her name, date, study time, instructor and where to check
    it."""
    # Imported here: only a learner fetching her certificate needs fpdf2 in memory.
    from fpdf import FPDF  # noqa: PLC0415
    from fpdf.enums import XPos, YPos  # noqa: PLC0415

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(_("Certificate of completion"))
    pdf.set_creator("Kern")
    pdf.set_auto_page_break(auto=False)
    family = use_unicode_font(pdf)
    pdf.add_page()
    pdf.set_draw_color(*GREEN)
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)
    width = pdf.w - 40

    def line(text: str, size: int, *, style: str = "", colour: tuple[int, int, int] = INK) -> None:
        pdf.set_font(family, style, size)
        pdf.set_text_color(*colour)
        pdf.set_x(20)
        pdf.multi_cell(width, size * 0.55, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_y(34)
    line(_("Certificate of completion"), 30, style="B", colour=GREEN)
    pdf.ln(10)
    line(certificate.name, 26, style="B")
    pdf.ln(6)
    line(_("has completed every lesson of the course"), 14, colour=SOFT)
    pdf.ln(4)
    line(certificate.course_title, 20, style="B")
    pdf.ln(8)
    hours = _("%(hours)s hours of study", hours=format_number(hours_of(certificate.minutes)))
    line(f"{format_day(certificate.issued_at)}  ·  {hours}", 13)
    pdf.ln(2)
    line(_("Instructor: %(name)s", name=certificate.instructor_name), 13)
    pdf.set_y(pdf.h - 40)
    line(_("Check this certificate at %(url)s", url=verify_url), 10, colour=SOFT)
    return bytes(pdf.output())
