"""Stripe and the mail server misbehaving while a learner buys a course: she reads what is
going on, nothing is lost or done twice, and all of it completes once they are back.

The single faults have their own tests (tests/payments/test_checkout.py, test_webhook.py,
test_fulfilment.py; tests/mail/test_outbox.py); this is the story across them.
"""

import time
from datetime import timedelta
from email.message import EmailMessage

import pytest

from api.config import Settings
from api.db import utcnow
from api.enrolment.models import EnrolmentStatus
from api.mail import service
from api.mail.models import OutboxStatus
from api.mail.outbox import BACKOFF, Report
from api.payments.models import OrderStatus

# The payment tests' shop, as fixtures (see tests/notices/conftest.py for the same).
from tests.payments.conftest import (
    Shop,
    shop,  # noqa: F401 (a fixture)
    stripe_down,
    stripe_settings,  # noqa: F401 (a fixture)
)
from tests.smtp import Mailbox, SmtpServer

# Waits for timeouts of services that are down or slow.
pytestmark = pytest.mark.slow

HOURS_AGO = 5 * 60 * 60


def test_a_payment_heard_of_hours_late_with_stripe_then_mail_down_gives_access_and_one_receipt(
    shop: Shop,  # noqa: F811
    stripe_settings: Settings,  # noqa: F811
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_sends: list[str] = []
    send = service._deliver

    def counted(url: str, email: EmailMessage) -> None:
        smtp_sends.append(str(email["To"]))
        send(url, email)

    monkeypatch.setattr(service, "_deliver", counted)

    # She pays at Stripe, and Stripe's API goes down before Kern has heard of it.
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    with stripe_down(stripe_settings):
        # Back on Kern, the success page says it cannot confirm her payment yet; no access, no
        # order changed, nothing else claimed.
        page = shop.back_from_stripe(session_id)
        assert page.status_code == 503
        assert "We could not confirm your payment yet" in page.text
        assert (shop.order().status, shop.access()) == (OrderStatus.pending, None)

        # Stripe's deliveries meanwhile are answered 503 and not recorded, so its retries count.
        attempts = shop.deliver(events, times=2)
        assert [response.status_code for response in attempts] == [503] * 2
        assert shop.recorded_events() == []

    # Hours later Stripe is back and retries the event; now the mail server is down.
    [event] = events
    event["created"] = int(time.time()) - HOURS_AGO  # Stripe signs each retry anew
    with SmtpServer() as stopped:
        mailbox.settings.smtp_url = stopped.url  # nothing listens there once the block ends

    [late] = shop.deliver(events)

    assert (late.status_code, late.json()["outcome"]) == (200, "order paid")
    assert (shop.order().status, shop.access(), shop.enrolments()) == (
        OrderStatus.paid,
        EnrolmentStatus.active,
        1,
    )
    # The receipt is queued with the payment; the request did not try to send it.
    [receipt] = shop.mails("receipt")
    assert (receipt.status, receipt.attempts) == (OutboxStatus.pending, 0)
    assert smtp_sends == []

    # One more retry of the same event, and her reload of the success page, change nothing.
    [again] = shop.deliver(events)
    assert again.json()["outcome"] == "duplicate"
    assert "Payment successful" in shop.back_from_stripe(session_id).text

    # The worker finds the mail server down: the receipt waits, with its attempt and next try.
    now = utcnow()
    assert mailbox.deliver(now=now) == Report(retried=1)
    [receipt] = shop.mails("receipt")
    assert (receipt.status, receipt.attempts) == (OutboxStatus.pending, 1)
    assert receipt.available_at == now + BACKOFF[0]
    assert "could not send mail" in receipt.last_error

    # The mail server is back: the receipt goes out at its next try, once.
    mailbox.settings.smtp_url = mailbox.url
    assert mailbox.deliver(now=now + BACKOFF[0] - timedelta(seconds=1)) == Report()
    assert mailbox.deliver(now=now + BACKOFF[0]) == Report(sent=1)
    assert mailbox.deliver(now=now + timedelta(days=3)) == Report()
    [message] = mailbox.server.messages
    assert message["To"] == shop.learner.email
    assert shop.course.title in str(message["Subject"])
    assert smtp_sends == [shop.learner.email] * 2
    assert (shop.access(), shop.enrolments(), len(shop.mails("receipt"))) == (
        EnrolmentStatus.active,
        1,
        1,
    )
