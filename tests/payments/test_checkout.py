"""Starting a purchase: the buy button sends her to Stripe once, with the right order, or says
clearly why not."""

from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api import i18n
from api.accounts.models import Role
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource, EnrolmentStatus
from api.payments import stripe_client
from api.payments.models import Order, OrderStatus
from api.terms.waiver import WAIVER_VERSION
from tests.factories import WAIVER, enable_totp, log_in, make_course, make_user, post_form
from tests.payments.conftest import (
    PRICE,
    Shop,
    in_english,
    stripe_down,
    stripe_page_of,
    switch_to_production,
    watch_stripe_calls,
)
from tests.stripe_server import StripeServer


def session_requests(stripe_server: StripeServer) -> list[dict[str, object]]:
    return [
        request.params
        for request in stripe_server.requests
        if (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    ]


def test_the_buy_button_sends_her_to_stripe_with_the_course_and_her_details(shop: Shop) -> None:
    session_id = shop.start()

    [params] = session_requests(shop.stripe)
    assert params["mode"] == "payment"
    assert params["line_items"] == [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": str(PRICE),
                "product_data": {"name": shop.course.title},
            },
            "quantity": "1",
        }
    ]
    assert params["payment_method_types"] == ["ideal", "card", "bancontact"]
    assert params["customer_email"] == shop.learner.email
    assert params["client_reference_id"] == str(shop.learner.id)
    assert params["metadata"] == {
        "user_id": str(shop.learner.id),
        "course_id": str(shop.course.id),
        # What she agreed to: no terms written yet here, and the waiver's text version.
        "terms_version": "",
        "withdrawal_waiver": WAIVER_VERSION,
    }
    # Codes are typed on Kern's page, which checks them (tests/payments/test_discounts.py).
    assert "allow_promotion_codes" not in params
    assert params["locale"] == "nl"
    assert params["success_url"] == (
        "http://testserver/checkout/success?session_id={CHECKOUT_SESSION_ID}"
    )
    assert (
        params["cancel_url"] == f"http://testserver/courses/{shop.course.slug}?checkout=cancelled"
    )
    order = shop.order()
    assert order.status == OrderStatus.pending
    assert order.stripe_checkout_session_id == session_id
    assert (order.course_title, order.amount_cents, order.subtotal_cents) == (
        shop.course.title,
        PRICE,
        PRICE,
    )
    assert shop.access() is None


def test_kern_sends_its_own_idempotency_key(shop: Shop) -> None:
    shop.start()
    [request] = [r for r in shop.stripe.requests if r.path == "/v1/checkout/sessions"]
    assert request.idempotency_key is not None
    assert request.idempotency_key.startswith("kern-checkout-")


def test_a_double_click_gets_the_same_checkout_session_and_one_order(shop: Shop) -> None:
    first = shop.start()
    second = shop.start()

    assert first == second
    assert len(shop.stripe.sessions) == 1
    assert [r.replayed for r in shop.stripe.requests if r.path == "/v1/checkout/sessions"] == [
        False,
        True,
    ]
    assert len(shop.orders()) == 1


def test_after_a_failed_payment_a_new_attempt_gets_a_new_session(shop: Shop) -> None:
    first = shop.start()
    shop.deliver(shop.stripe.complete(first, payment="async"))
    shop.deliver(shop.stripe.async_fail(first))
    assert shop.order().status == OrderStatus.failed

    second = shop.start()

    assert second != first
    assert sorted(order.status for order in shop.orders()) == ["failed", "pending"]


def test_an_enrolled_learner_is_sent_to_the_course_without_a_new_session(shop: Shop) -> None:
    enrolment_service.grant(
        shop.session,
        user_id=shop.learner.id,
        course_id=shop.course.id,
        source=EnrolmentSource.manual,
    )

    response = shop.checkout()

    assert response.status_code == 303
    assert response.headers["location"] == f"/courses/{shop.course.slug}"
    assert shop.stripe.requests == []
    assert shop.orders() == []


def test_a_learner_whose_access_was_ended_by_the_instructor_cannot_buy_it_back(
    shop: Shop,
) -> None:
    enrolment = enrolment_service.grant(
        shop.session, user_id=shop.learner.id, course_id=shop.course.id,
        source=EnrolmentSource.manual,
    )  # fmt: skip
    enrolment_service.set_status(shop.session, enrolment=enrolment, status=EnrolmentStatus.revoked)

    response = shop.checkout()

    assert response.status_code == 409
    assert "Please contact your therapist" in response.text
    assert shop.stripe.requests == []


def test_after_a_refund_she_may_buy_the_course_again(shop: Shop) -> None:
    first = shop.start()
    shop.deliver(shop.stripe.complete(first))
    shop.deliver(shop.stripe.refund(shop.charge_id(first)))
    assert shop.access() == EnrolmentStatus.refunded

    second = shop.start()
    shop.deliver(shop.stripe.complete(second))

    assert second != first
    assert shop.access() == EnrolmentStatus.active
    assert sorted(order.status for order in shop.orders()) == ["paid", "refunded"]


def test_a_paid_learner_who_clicks_again_is_not_charged_twice(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))

    response = shop.checkout()

    assert response.headers["location"] == f"/courses/{shop.course.slug}"
    assert len(shop.stripe.sessions) == 1


def test_the_instructor_of_the_course_is_sent_to_it_instead_of_paying(
    client: TestClient, session: Session, stripe_settings: Settings, stripe_server: StripeServer
) -> None:
    instructor = make_user(session, role=Role.instructor)
    course = make_course(session, instructor=instructor, price_cents=PRICE)
    log_in(client, instructor, secret=enable_totp(session, instructor))

    response = post_form(client, f"/courses/{course.slug}/checkout", WAIVER)

    assert response.headers["location"] == f"/courses/{course.slug}"
    assert stripe_server.requests == []


def test_a_free_course_sent_to_checkout_is_refused(shop: Shop) -> None:
    free = make_course(shop.session, price_cents=0)

    response = post_form(shop.client, f"/courses/{free.slug}/checkout", WAIVER)

    assert response.status_code == 409
    assert "This course is free" in response.text
    assert shop.stripe.requests == []
    assert shop.session.exec(select(Order)).all() == []


def test_an_unknown_course_is_not_found(shop: Shop) -> None:
    response = post_form(shop.client, "/courses/bestaat-niet/checkout", WAIVER)
    assert response.status_code == 404
    assert shop.stripe.requests == []


def test_a_draft_course_cannot_be_bought(shop: Shop) -> None:
    draft = make_course(shop.session, price_cents=PRICE, status="draft")
    response = post_form(shop.client, f"/courses/{draft.slug}/checkout", WAIVER)
    assert response.status_code == 404
    assert shop.stripe.requests == []


def test_buying_needs_a_login(
    client: TestClient, session: Session, stripe_settings: Settings, stripe_server: StripeServer
) -> None:
    course = make_course(session, price_cents=PRICE)
    response = post_form(client, f"/courses/{course.slug}/checkout", WAIVER)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert stripe_server.requests == []


def test_when_stripe_fails_she_reads_a_clear_message_nothing_is_saved_and_a_retry_works(
    shop: Shop,
) -> None:
    # The SDK retries once, so both tries must fail.
    shop.stripe.fail_next(2, 500)

    response = shop.checkout()

    assert response.status_code == 503
    assert "could not reach our payment provider" in response.text
    assert "nothing was charged" in response.text
    assert shop.orders() == []

    session_id = shop.start()
    assert shop.order().stripe_checkout_session_id == session_id


def test_a_stripe_error_after_the_session_was_made_still_ends_in_one_session(shop: Shop) -> None:
    # Stripe made the session but the answer was lost; the SDK's retry carries Kern's key, so
    # Stripe hands back the same session instead of making a second.
    shop.stripe.fail_next(1, 500, after_processing=True)

    session_id = shop.start()

    assert len(shop.stripe.sessions) == 1
    assert shop.order().stripe_checkout_session_id == session_id


def test_when_stripe_is_slow_she_reads_a_clear_message_and_a_retry_works(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe_client, "TIMEOUT_SECONDS", 0.2)
    shop.stripe.delay_seconds = 2

    response = shop.checkout()

    assert response.status_code == 503
    assert "could not reach our payment provider" in response.text
    assert shop.orders() == []

    shop.stripe.delay_seconds = 0
    session_id = shop.start()
    assert shop.order().stripe_checkout_session_id == session_id


def test_when_stripe_is_down_she_reads_in_dutch_that_nothing_was_charged_and_a_retry_works(
    shop: Shop, stripe_settings: Settings
) -> None:
    shop.client.cookies.set(i18n.LOCALE_COOKIE, "nl")  # her account's language

    with stripe_down(stripe_settings):
        response = shop.checkout()

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "We konden onze betaalprovider niet bereiken" in response.text
    assert "er is niets afgeschreven" in response.text
    assert shop.stripe.requests == []
    assert shop.orders() == []

    session_id = shop.start()
    assert shop.order().stripe_checkout_session_id == session_id
    assert len(shop.stripe.sessions) == 1


def test_while_stripe_answers_the_buy_button_holds_no_database_connection_or_lock(
    committing_app: tuple[TestClient, Session],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A slow Stripe (up to two timeouts) must not hold up other learners: on SQLite the
    # request's write lock would make their writes wait, then fail.
    client, session = committing_app
    learner, bystander = make_user(session), make_user(session)
    course = make_course(session, price_cents=PRICE)
    session.commit()
    log_in(client, learner)
    engine = cast(FastAPI, client.app).state.engine
    calls = watch_stripe_calls(monkeypatch, engine, database_url, bystander=bystander)

    stripe_page_of(post_form(client, f"/courses/{course.slug}/checkout", WAIVER))

    assert calls == [("creating a checkout session", 0, "written")]
    session.rollback()  # a new transaction sees what the request committed
    [order] = session.exec(select(Order)).all()
    assert (order.user_id, order.status) == (learner.id, OrderStatus.pending)


def test_in_production_without_stripe_buying_is_switched_off(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session, price_cents=PRICE)
    log_in(client, make_user(session))
    in_english(client)
    switch_to_production(client, settings)

    response = post_form(client, f"/courses/{course.slug}/checkout", WAIVER)

    assert response.status_code == 503
    assert "Buying courses online is not possible at the moment" in response.text
    assert session.exec(select(Order)).all() == []
    assert not settings.payments_available
