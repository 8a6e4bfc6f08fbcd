"""An invoice or credit note as a one-page PDF (fpdf2), in the buyer's language.

Written in DejaVu Sans (api/pdf/fonts.py), so every name comes out as she wrote it.

fpdf2 (with Pillow and fontTools, some MiB) is imported on first use: a worker starts without
it, as most never make a PDF (tests/test_startup.py).
"""

from typing import Any

from sqlmodel import Session

from api import i18n
from api.i18n import format_day, format_price
from api.i18n import gettext as _
from api.invoices.models import Invoice
from api.invoices.service import credited, vat_lines
from api.kit.ids import id_of
from api.mail import attachments
from api.mail.service import Attachment
from api.pdf.fonts import use_unicode_font


def _document() -> Any:
    """A new A4 page with Kern's margins and two helpers: `line_of` and `row`."""
    from fpdf import FPDF  # noqa: PLC0415 (see the note at the top)

    class Document(FPDF):
        family = ""

        def line_of(
            self, text: str, *, size: float = 10, bold: bool = False, height: float = 5
        ) -> None:
            self.set_font(self.family, "B" if bold else "", size)
            self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

        def row(self, label: str, value: str, *, bold: bool = False) -> None:
            self.set_font(self.family, "B" if bold else "", 10)
            self.cell(110, 6, label)
            self.cell(0, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")

    pdf = Document(format="A4")
    pdf.family = use_unicode_font(pdf)
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    return pdf


def _rate(rate: str) -> str:
    return f"{rate.replace('.', i18n.decimal_symbol())}%"


def render_pdf(
    document: Invoice, *, credited_number: str | None, language: str, partly: bool = False
) -> bytes:
    """The document as PDF bytes, in `language` (nl, en or nb); `partly`: a credit note for part
    of the invoice it names."""
    token = i18n.current_locale.set(language)
    try:
        return _render(document, credited_number=credited_number, partly=partly)
    finally:
        i18n.current_locale.reset(token)


def _render(document: Invoice, *, credited_number: str | None, partly: bool) -> bytes:
    pdf = _document()
    pdf.set_title(document.number)
    pdf.add_page()
    seller = document.seller
    title = _("Credit note") if document.is_credit_note else _("Invoice")
    pdf.line_of(title, size=18, bold=True, height=9)
    pdf.ln(2)
    # The seller, as the practice's details stood on the day.
    pdf.line_of(seller.get("trading_name", ""), bold=True)
    for text in (
        seller.get("street_address", ""),
        f"{seller.get('postcode', '')} {seller.get('city', '')}".strip(),
        seller.get("country", ""),
        seller.get("email", ""),
        seller.get("phone", ""),
    ):
        if text:
            pdf.line_of(text)
    if seller.get("kvk_number"):
        pdf.line_of(_("KvK number: %(number)s", number=seller["kvk_number"]))
    if seller.get("vat_number"):
        pdf.line_of(_("VAT number: %(number)s", number=seller["vat_number"]))
    pdf.ln(5)
    pdf.line_of(_("For"), bold=True)
    for text in (document.buyer_name, document.buyer_email):
        if text:
            pdf.line_of(text)
    pdf.ln(5)
    pdf.row(_("Invoice number") if not document.is_credit_note else _("Credit note number"),
            document.number)  # fmt: skip
    pdf.row(_("Date"), format_day(document.issued_at))
    if credited_number:
        # A partial refund credits part of the invoice; the last credit note what is left.
        label = _("Cancels invoice") if not partly else _("Partly credits invoice")
        pdf.row(label, credited_number)
    if document.payment_method:
        pdf.row(_("Paid with"), document.payment_method)
    pdf.ln(5)
    pdf.row(_("Online course: %(title)s", title=document.description), "", bold=True)
    currency = document.currency.upper()
    pdf.row(_("Price excluding VAT"), format_price(document.net_cents, currency))
    for line in vat_lines(document):
        label = (
            _("VAT %(rate)s (%(country)s)", rate=_rate(line.rate), country=line.country)
            if line.rate
            else _("VAT (%(country)s)", country=line.country)
        )
        pdf.row(label, format_price(line.vat_cents, currency))
    pdf.row(_("Total including VAT"), format_price(document.total_cents, currency), bold=True)
    pdf.ln(6)
    if document.is_credit_note:
        pdf.line_of(_("The amount of this credit note has been refunded to you."), size=9)
    elif document.vat_source == "stripe":
        pdf.line_of(_("VAT of your country, as calculated at payment."), size=9)
    return bytes(pdf.output())


def file_name(document: Invoice) -> str:
    """`factuur-2026-000123.pdf`, `creditnota-…` (in Dutch: the bookkeeper's word)."""
    prefix = "creditnota" if document.is_credit_note else "factuur"
    return f"{prefix}-{document.number}.pdf"


def pdf_of(session: Session, document: Invoice, *, language: str) -> bytes:
    """The PDF of a stored document (reads the credited invoice's number for a credit note)."""
    original = credited(session, document)
    return render_pdf(
        document,
        credited_number=original.number if original else None,
        language=language,
        partly=original is not None and document.total_cents != -original.total_cents,
    )


def attachment(document: Invoice | None, *, language: str) -> Attachment | None:
    """The document as a mail attachment, made when the mail is sent (api/mail/attachments.py
    says why); None without one."""
    if document is None:
        return None
    ref = attachments.reference(ATTACHMENT_KIND, f"{id_of(document)}:{language}")
    return Attachment(file_name(document), ref=ref)


def _made_for_mail(session: Session, rest: str) -> bytes | None:
    """The PDF an attachment reference ("42:nl") names; None when there is no such document."""
    number, _, language = rest.partition(":")
    document = session.get(Invoice, int(number)) if number.isdigit() else None
    if document is None:
        return None
    return pdf_of(session, document, language=language or "nl")


ATTACHMENT_KIND = "invoice"
attachments.register(ATTACHMENT_KIND, _made_for_mail)
