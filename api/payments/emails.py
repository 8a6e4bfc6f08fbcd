"""The receipt and the refund confirmation, in the buyer's language, queued in the outbox."""

from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.i18n import N_
from api.invoices import pdf as invoice_pdf
from api.invoices import service as documents
from api.invoices.models import InvoiceKind
from api.mail.compose import queue
from api.mail.service import Attachment
from api.payments.models import Order

# Kern sells to consumers in the Netherlands; course prices include Dutch VAT at this rate.
VAT_PERCENT = 21


def vat_part(amount_cents: int) -> int:
    """The VAT inside an amount that includes it, rounded to the cent."""
    vat = Decimal(amount_cents) * VAT_PERCENT / (100 + VAT_PERCENT)
    return int(vat.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _queue(
    session: Session,
    settings: Settings,
    *,
    user: User,
    subject: str,
    template: str,
    order: Order,
    action: str,
    attachment: Attachment | None = None,
    **context: object,
) -> None:
    """Render `<template>.txt` (api/mail/templates) in the user's language and queue it with
    the order's change; the order's id keys it, so a receipt or refund mail is queued once per
    order."""
    queue(
        session,
        settings,
        user=user,
        subject=subject,
        template=template,
        subject_values={"title": order.course_title},
        context={"order": order, **context},
        action=action,
        key=f"{template}:{order.id}",
        attachment=attachment,
    )


def receipt(
    session: Session, settings: Settings, *, user: User, order: Order, course: Course | None
) -> None:
    """Confirm a purchase: what was bought, for how much, the VAT in it and her request for
    immediate access; the invoice goes along as a PDF."""
    invoice = documents.latest(session, order=order, kind=InvoiceKind.invoice)
    _queue(
        session,
        settings,
        user=user,
        subject=N_("Your purchase at Kern: %(title)s"),
        template="receipt",
        order=order,
        action=N_("Go to the course"),
        course=course,
        vat_cents=vat_part(order.amount_cents),
        vat_percent=VAT_PERCENT,
        invoice=invoice,
        vat_lines=documents.vat_lines(invoice) if invoice else [],
        attachment=invoice_pdf.attachment(invoice, language=user.language),
    )


def refund(session: Session, settings: Settings, *, user: User, order: Order) -> None:
    """Confirm a refund and that the access has ended; the credit note goes along."""
    credit_note = documents.latest(session, order=order, kind=InvoiceKind.credit_note)
    _queue(
        session,
        settings,
        user=user,
        subject=N_("Your payment for %(title)s has been refunded"),
        template="refund",
        order=order,
        action=N_("Open Kern"),
        credit_note=credit_note,
        # What the credit notes gave back (for a plan: its refunded instalments).
        refunded_cents=documents.refunded_cents(session, order=order) or order.amount_cents,
        attachment=invoice_pdf.attachment(credit_note, language=user.language),
    )
