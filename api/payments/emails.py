"""The receipt and the refund confirmation, in the buyer's language."""

import logging
from decimal import ROUND_HALF_UP, Decimal

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.i18n import N_
from api.mail.compose import compose
from api.mail.service import MailError, send
from api.payments.models import Order

log = logging.getLogger("kern.payments")

# Kern sells to consumers in the Netherlands; course prices include Dutch VAT at this rate.
VAT_PERCENT = 21


def vat_part(amount_cents: int) -> int:
    """The VAT inside an amount that includes it, rounded to the cent."""
    vat = Decimal(amount_cents) * VAT_PERCENT / (100 + VAT_PERCENT)
    return int(vat.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _send(
    settings: Settings, *, user: User, subject: str, template: str, order: Order, **context: object
) -> bool:
    """Render `mail/<template>.txt` in the user's language and send it; whether it went out."""
    # Unlike the account mails, the caller needs to know: an order remembers that its receipt
    # was sent, so a receipt that failed is tried again on the next fulfilment.
    message = compose(
        settings,
        user=user,
        subject=subject,
        template=template,
        subject_values={"title": order.course_title},
        context={"order": order, **context},
    )
    try:
        send(settings, message)
    except MailError:
        log.exception("could not send the %s mail to user %s", template, user.id)
        return False
    return True


def receipt(settings: Settings, *, user: User, order: Order, course: Course | None) -> bool:
    """Confirm a purchase: what was bought, for how much, and the VAT in it."""
    return _send(
        settings,
        user=user,
        subject=N_("Your purchase at Kern: %(title)s"),
        template="receipt",
        order=order,
        course=course,
        vat_cents=vat_part(order.amount_cents),
        vat_percent=VAT_PERCENT,
    )


def refund(settings: Settings, *, user: User, order: Order) -> bool:
    """Confirm a refund and that the access has ended."""
    return _send(
        settings,
        user=user,
        subject=N_("Your payment for %(title)s has been refunded"),
        template="refund",
        order=order,
    )
