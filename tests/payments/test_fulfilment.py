"""Paying gives access at once, once: from the success page and from the webhook, in either
order, with one receipt; delayed payments, failures and expiry end where they should."""

from datetime import timedelta
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.config import Settings
from api.db import utcnow
from api.enrolment.models import Enrolment, EnrolmentSource, EnrolmentStatus
from api.payments.models import Order, OrderStatus
from tests.factories import WAIVER, log_in, make_course, make_user, post_form
from tests.payments.billing import buy_with, make_code
from tests.payments.conftest import (
    PRICE,
    Shop,
    in_english,
    stripe_page_of,
    watch_stripe_calls,
)
from tests.smtp import Mailbox
from tests.stripe_server import StripeServer


def test_the_success_page_gives_access_before_the_webhook_arrives(shop: Shop) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)

    page = shop.back_from_stripe(session_id)

    assert page.status_code == 200
    assert "Payment successful — you now have access" in page.text
    assert f'href="/courses/{shop.course.slug}/lessons/les-1-1"' in page.text
    assert shop.access() == EnrolmentStatus.active
    enrolment = shop.enrolment()
    assert enrolment is not None
    assert enrolment.source == EnrolmentSource.purchase
    order = shop.order()
    assert order.status == OrderStatus.paid
    assert order.paid_at is not None
    assert order.stripe_payment_intent_id == shop.stripe.get(session_id)["payment_intent"]
    assert order.stripe_charge_id == shop.charge_id(session_id)

    [response] = shop.deliver(events)

    assert response.status_code == 200
    assert shop.order().status == OrderStatus.paid
    assert [e.outcome for e in shop.recorded_events()] == ["order paid"]


def test_the_success_page_fulfils_in_a_transaction_of_its_own_and_locks_nothing_meanwhile(
    committing_app: tuple[TestClient, Session],
    stripe_server: StripeServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Kern's own sessions, not the tests' one shared transaction: while Stripe answers, the
    # page holds no database connection nor a lock another learner's write would wait for,
    # and then it fulfils in a transaction of its own.
    client, session = committing_app
    learner, bystander = make_user(session), make_user(session)
    course = make_course(session, price_cents=PRICE)
    session.commit()
    log_in(client, learner)
    in_english(client)
    location = stripe_page_of(post_form(client, f"/courses/{course.slug}/checkout", WAIVER))
    session_id = location.rsplit("/", 1)[1]
    stripe_server.complete(session_id)
    engine = cast(FastAPI, client.app).state.engine
    calls = watch_stripe_calls(monkeypatch, engine, database_url, bystander=bystander)

    page = client.get(f"/checkout/success?session_id={session_id}")

    assert page.status_code == 200, page.text[:300]
    assert "Payment successful" in page.text
    assert calls == [("reading a checkout session", 0, "written")]
    session.rollback()  # a new transaction sees what the request committed
    [order] = session.exec(select(Order)).all()
    assert order.status == OrderStatus.paid
    [enrolment] = session.exec(select(Enrolment)).all()
    assert (enrolment.user_id, enrolment.status) == (learner.id, EnrolmentStatus.active)


def test_the_webhook_before_the_success_page_gives_the_same_result(shop: Shop) -> None:
    session_id = shop.start()
    [response] = shop.deliver(shop.stripe.complete(session_id))

    assert response.status_code == 200
    assert shop.access() == EnrolmentStatus.active
    paid_at = shop.order().paid_at

    page = shop.back_from_stripe(session_id)

    assert "Payment successful — you now have access" in page.text
    assert shop.order().paid_at == paid_at
    assert shop.access() == EnrolmentStatus.active


def test_after_paying_she_opens_a_lesson_that_is_not_a_free_preview(shop: Shop) -> None:
    lesson = f"/courses/{shop.course.slug}/lessons/les-1-2"
    assert shop.client.get(lesson).status_code == 403

    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))

    assert shop.client.get(lesson).status_code == 200


def test_a_promotion_code_discount_is_recorded_on_the_order(
    shop: Shop, stripe_settings: Settings
) -> None:
    session_id = buy_with(shop, make_code(shop, stripe_settings).code)
    shop.deliver(shop.stripe.complete(session_id))

    order = shop.order()
    assert (order.subtotal_cents, order.discount_cents, order.amount_cents) == (
        PRICE,
        1000,
        PRICE - 1000,
    )


def test_a_promotion_code_for_the_whole_price_still_gives_access(
    shop: Shop, stripe_settings: Settings
) -> None:
    code = make_code(shop, stripe_settings, kind="percent", value="100")
    session_id = buy_with(shop, code.code)
    shop.deliver(shop.stripe.complete(session_id))

    order = shop.order()
    assert (order.status, order.amount_cents, order.discount_cents) == ("paid", 0, PRICE)
    assert shop.access() == EnrolmentStatus.active


def test_the_receipt_arrives_once_with_amount_vat_and_order_number(
    shop: Shop, mailbox: Mailbox
) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    shop.back_from_stripe(session_id)
    shop.deliver(events, times=2)
    shop.back_from_stripe(session_id)

    [receipt] = mailbox.wait_for(1)
    assert receipt["To"] == shop.learner.email
    assert shop.course.title in str(receipt["Subject"])
    body = receipt.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\xa0", " ")  # prices keep a no-break space
    order = shop.order()
    assert order.number in text
    assert shop.course.title in text
    assert "€ 49,00" in text  # Dutch formatting: she reads Kern in Dutch
    assert "21%" in text
    assert "€ 8,50" in text  # the VAT inside € 49,00: 49 × 21 / 121
    assert f"/courses/{shop.course.slug}" in text
    assert order.receipt_sent_at is not None
    assert len(mailbox.messages) == 1


def test_the_receipt_shows_the_discount(
    shop: Shop, mailbox: Mailbox, stripe_settings: Settings
) -> None:
    session_id = buy_with(shop, make_code(shop, stripe_settings).code)
    shop.deliver(shop.stripe.complete(session_id))

    [receipt] = mailbox.wait_for(1)
    body = receipt.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\xa0", " ")
    assert "€ 49,00" in text
    assert "€ 10,00" in text
    assert "€ 39,00" in text


def test_a_receipt_the_mail_server_refused_goes_out_on_the_workers_next_attempt(
    shop: Shop, mailbox: Mailbox
) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    working = mailbox.url
    shop.deliver(events)
    assert shop.order().status == OrderStatus.paid
    assert shop.order().receipt_sent_at is not None  # queued with the payment

    mailbox.settings.smtp_url = "smtp://127.0.0.1:1"
    assert mailbox.deliver().retried == 1
    mailbox.settings.smtp_url = working
    assert mailbox.deliver().sent == 0  # not before its next attempt is due
    assert mailbox.deliver(now=utcnow() + timedelta(minutes=2)).sent == 1
    shop.back_from_stripe(session_id)  # a later fulfilment does not queue a second receipt

    assert len(mailbox.wait_for(1)) == 1
    assert len(mailbox.messages) == 1


def test_a_delayed_payment_waits_and_then_gives_access(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id, payment="async"))

    page = shop.back_from_stripe(session_id)

    assert "Your payment is still being processed" in page.text
    assert shop.order().status == OrderStatus.pending
    assert shop.access() is None

    shop.deliver(shop.stripe.async_succeed(session_id))

    assert shop.order().status == OrderStatus.paid
    assert shop.access() == EnrolmentStatus.active
    assert "Payment successful" in shop.back_from_stripe(session_id).text


def test_a_completed_event_that_arrives_after_the_payment_succeeded_changes_nothing(
    shop: Shop,
) -> None:
    session_id = shop.start()
    completed = shop.stripe.complete(session_id, payment="async")
    succeeded = shop.stripe.async_succeed(session_id)

    responses = shop.deliver(succeeded + completed)

    assert [r.json()["outcome"] for r in responses] == ["order paid", "order paid"]
    assert shop.order().status == OrderStatus.paid
    assert (shop.access(), shop.enrolments()) == (EnrolmentStatus.active, 1)
    assert len(shop.mails("receipt")) == 1


def test_a_delayed_payment_that_fails_gives_no_access(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id, payment="async"))
    shop.deliver(shop.stripe.async_fail(session_id))

    assert shop.order().status == OrderStatus.failed
    assert shop.access() is None
    page = shop.back_from_stripe(session_id)
    assert "Your payment did not go through" in page.text
    assert f'href="/courses/{shop.course.slug}"' in page.text


def test_a_failed_payment_found_by_the_success_page_before_the_webhook(shop: Shop) -> None:
    session_id = shop.start()
    shop.stripe.complete(session_id, payment="async")
    events = shop.stripe.async_fail(session_id)

    assert "did not go through" in shop.back_from_stripe(session_id).text
    shop.deliver(events)

    assert shop.order().status == OrderStatus.failed
    assert shop.access() is None


def test_an_expired_session_marks_the_order_expired(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.expire(session_id))

    assert shop.order().status == OrderStatus.expired
    assert shop.access() is None


def test_the_success_page_does_not_trust_the_address(shop: Shop) -> None:
    session_id = shop.start()  # open: not paid

    page = shop.back_from_stripe(session_id)

    assert page.status_code == 200
    assert "Payment successful" not in page.text
    assert shop.access() is None
    for made_up in ["cs_test_bestaatniet", "nonsense", "", "../../v1/charges"]:
        response = shop.back_from_stripe(made_up)
        assert response.status_code == 404, made_up
        assert "We could not find this payment" in response.text


def test_someone_elses_payment_is_not_shown(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    bob = make_user(shop.session)
    log_in(shop.client, bob)
    in_english(shop.client)

    page = shop.back_from_stripe(session_id)

    assert page.status_code == 404
    assert shop.order().number not in page.text


def test_the_success_page_says_so_when_stripe_does_not_answer(shop: Shop) -> None:
    session_id = shop.start()
    shop.stripe.complete(session_id)
    shop.stripe.fail_next(2, 503)

    page = shop.back_from_stripe(session_id)

    assert page.status_code == 503
    assert "We could not confirm your payment yet" in page.text
    assert shop.access() is None
    assert "Payment successful" in shop.back_from_stripe(session_id).text


def test_a_webhook_for_a_session_whose_order_was_never_stored_creates_it(shop: Shop) -> None:
    # Stripe made the session, then Kern's database failed before the order was stored: the
    # session's metadata names the buyer and the course.
    session_id = shop.start()
    shop.session.delete(shop.order())
    shop.session.flush()

    shop.deliver(shop.stripe.complete(session_id))

    order = shop.order()
    assert (order.status, order.stripe_checkout_session_id) == ("paid", session_id)
    assert order.course_title == shop.course.title
    assert shop.access() == EnrolmentStatus.active


def test_the_success_page_and_the_webhook_find_the_one_order(shop: Shop) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    shop.back_from_stripe(session_id)
    shop.deliver(events)
    shop.back_from_stripe(session_id)

    assert len(shop.session.exec(select(Order)).all()) == 1
