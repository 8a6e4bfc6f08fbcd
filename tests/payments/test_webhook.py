"""The webhook: only Stripe's signed events count, each is handled once (also when it arrives
twenty times at once), and what Kern does not know is recorded without effect."""

import json
import threading
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.payments.models import Order, OrderStatus, StripeEvent
from tests.factories import WAIVER, log_in, make_course, make_user, post_form
from tests.payments.conftest import (
    PRICE,
    WEBHOOK_SECRET,
    Shop,
    stripe_page_of,
    watch_stripe_calls,
    webhook_of,
)
from tests.stripe_server import StripeServer


def completed_event(shop: Shop) -> bytes:
    session_id = shop.start()
    [event] = shop.stripe.complete(session_id)
    return event.payload


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> int:
    status: int = client.post("/stripe/webhook", content=body, headers=headers).status_code
    return status


def test_a_bad_signature_is_refused_and_changes_nothing(shop: Shop) -> None:
    body = completed_event(shop)

    wrong_secret = post(shop.client, body, {"Stripe-Signature": shop.stripe.sign(body, "whsec_x")})
    tampered = post(
        shop.client,
        body.replace(b'"paid"', b'"PAID"'),
        {"Stripe-Signature": shop.stripe.sign(body, WEBHOOK_SECRET)},
    )
    old = post(
        shop.client,
        body,
        {"Stripe-Signature": shop.stripe.sign(body, WEBHOOK_SECRET, timestamp=1_000_000_000)},
    )
    garbage = post(shop.client, body, {"Stripe-Signature": "t=abc,v1="})

    assert [wrong_secret, tampered, old, garbage] == [400, 400, 400, 400]
    assert shop.recorded_events() == []
    assert shop.order().status == OrderStatus.pending
    assert shop.access() is None


def test_a_missing_signature_is_refused(shop: Shop) -> None:
    body = completed_event(shop)
    response = shop.client.post("/stripe/webhook", content=body)
    assert response.status_code == 400
    assert response.json()["error"] == "webhook_refused"
    assert shop.recorded_events() == []


def test_a_signed_body_that_is_not_an_event_is_refused(shop: Shop) -> None:
    for body in [b"not json", b"[]", json.dumps({"id": "evt_1"}).encode()]:
        headers = {"Stripe-Signature": shop.stripe.sign(body, WEBHOOK_SECRET)}
        assert post(shop.client, body, headers) == 400, body
    assert shop.recorded_events() == []


def test_without_a_webhook_secret_every_delivery_is_refused(
    shop: Shop, stripe_settings: Settings
) -> None:
    body = completed_event(shop)
    stripe_settings.stripe_webhook_secret = None

    for secret in [WEBHOOK_SECRET, ""]:
        signature = shop.stripe.sign(body, secret) if secret else "t=1,v1=00"
        assert post(shop.client, body, {"Stripe-Signature": signature}) == 400
    stripe_settings.stripe_webhook_secret = SecretStr("")
    assert post(shop.client, body, {"Stripe-Signature": shop.stripe.sign(body, "")}) == 400
    assert shop.recorded_events() == []
    assert shop.access() is None


def test_without_the_api_key_a_signed_event_is_answered_503_so_stripe_sends_it_again(
    shop: Shop, stripe_settings: Settings
) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    stripe_settings.stripe_secret_key = None

    [response] = shop.deliver(events)

    assert response.status_code == 503
    assert shop.recorded_events() == []
    stripe_settings.stripe_secret_key = SecretStr("sk_test_kern")
    [retried] = shop.deliver(events)
    assert retried.status_code == 200
    assert shop.access() == EnrolmentStatus.active


def test_the_same_event_twice_has_one_effect(shop: Shop) -> None:
    session_id = shop.start()
    responses = shop.deliver(shop.stripe.complete(session_id), times=2)

    assert [r.status_code for r in responses] == [200, 200]
    assert [r.json()["outcome"] for r in responses] == ["order paid", "duplicate"]
    assert len(shop.recorded_events()) == 1
    assert shop.access() == EnrolmentStatus.active


def test_an_event_for_a_session_kern_does_not_know_is_recorded_without_effect(
    shop: Shop,
) -> None:
    # A session made elsewhere on the same Stripe account: no Kern metadata, no order.
    api = shop.stripe.client("sk_test_kern")
    foreign = api.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": 1500,
                        "product_data": {"name": "Iets anders"},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": "https://example.nl/?s={CHECKOUT_SESSION_ID}",
        }
    )
    [response] = shop.deliver(shop.stripe.complete(foreign.id))

    assert response.status_code == 200
    assert response.json()["outcome"] == "no order"
    [record] = shop.recorded_events()
    assert (record.type, record.outcome) == ("checkout.session.completed", "no order")
    assert shop.session.exec(select(Order)).all() == []


def test_an_event_whose_session_stripe_does_not_know_is_recorded_without_effect(
    shop: Shop,
) -> None:
    session_id = shop.start()
    [event] = shop.stripe.complete(session_id)
    event["data"]["object"]["id"] = "cs_test_a1onbekend"

    [response] = shop.deliver([event])

    assert response.status_code == 200
    assert response.json()["outcome"] == "no order"
    assert shop.order().status == OrderStatus.pending


def test_other_event_types_are_recorded_as_ignored(shop: Shop) -> None:
    session_id = shop.start()
    [event] = shop.stripe.complete(session_id)
    event["type"] = "customer.created"

    [response] = shop.deliver([event])

    assert response.status_code == 200
    [record] = shop.recorded_events()
    assert (record.type, record.outcome) == ("customer.created", "ignored")
    assert shop.access() is None


def test_when_stripe_does_not_answer_the_event_is_not_recorded_so_its_retry_works(
    shop: Shop,
) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    shop.stripe.fail_next(2, 500)

    [failed] = shop.deliver(events)

    assert failed.status_code == 503
    assert shop.recorded_events() == []
    assert shop.access() is None

    [retried] = shop.deliver(events)

    assert retried.status_code == 200
    assert shop.access() == EnrolmentStatus.active


def test_the_webhook_needs_no_csrf_token_and_no_login(shop: Shop) -> None:
    session_id = shop.start()
    [event] = shop.stripe.complete(session_id)
    stranger = TestClient(shop.client.app)

    [response] = shop.stripe.deliver(event, to=webhook_of(stranger), secret=WEBHOOK_SECRET)

    assert response.status_code == 200
    assert shop.access() == EnrolmentStatus.active


# --- real concurrency --------------------------------------------------------------------------


def checkout_for(stripe_server: StripeServer, learner: User, course: Course) -> str:
    """A Checkout Session made as Kern makes it (without its order row); the session's id."""
    api = stripe_server.client("sk_test_kern")
    checkout = api.v1.checkout.sessions.create(
        {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "unit_amount": PRICE,
                        "product_data": {"name": course.title},
                    },
                    "quantity": 1,
                }
            ],
            "metadata": {"user_id": str(learner.id), "course_id": str(course.id)},
            "success_url": "http://testserver/checkout/success?session_id={CHECKOUT_SESSION_ID}",
        }
    )
    return checkout.id


def test_while_kern_asks_stripe_about_an_event_it_holds_no_database_connection_or_lock(
    committing_app: tuple[TestClient, Session],
    stripe_server: StripeServer,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, session = committing_app
    learner, bystander = make_user(session), make_user(session)
    course = make_course(session, price_cents=PRICE)
    session.commit()
    session_id = checkout_for(stripe_server, learner, course)
    events = stripe_server.complete(session_id)
    intent = stripe_server.get(str(stripe_server.get(session_id)["payment_intent"]))
    events += stripe_server.refund(str(intent["latest_charge"]))
    engine = cast(FastAPI, client.app).state.engine
    calls = watch_stripe_calls(monkeypatch, engine, database_url, bystander=bystander)

    for event in events:
        [response] = stripe_server.deliver(event, to=webhook_of(client), secret=WEBHOOK_SECRET)
        assert response.status_code == 200, response.text

    assert [what for what, _, _ in calls] == ["reading a checkout session"] + [
        "reading a charge"
    ] * (len(events) - 1)
    assert {(held, write) for _, held, write in calls} == {(0, "written")}
    session.rollback()
    [order] = session.exec(select(Order)).all()
    assert order.status == OrderStatus.refunded


def test_twenty_deliveries_of_one_event_at_once_have_one_effect_and_no_error(
    committing_app: tuple[TestClient, Session], stripe_server: StripeServer
) -> None:
    client, session = committing_app
    learner = make_user(session)
    course = make_course(session, price_cents=PRICE)
    session.commit()
    [event] = stripe_server.complete(checkout_for(stripe_server, learner, course))

    responses = stripe_server.deliver(
        event, to=webhook_of(client), secret=WEBHOOK_SECRET, times=20, concurrently=True
    )

    assert [r.status_code for r in responses] == [200] * 20, [r.text[:200] for r in responses]
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["duplicate"] * 19 + ["order paid"]
    session.rollback()  # a new transaction sees what the requests committed
    assert len(session.exec(select(StripeEvent)).all()) == 1
    [order] = session.exec(select(Order)).all()
    assert order.status == OrderStatus.paid
    [enrolment] = session.exec(select(Enrolment)).all()
    assert (enrolment.user_id, enrolment.status) == (learner.id, EnrolmentStatus.active)


def test_the_success_page_and_the_webhook_at_the_same_moment_give_one_order(
    committing_app: tuple[TestClient, Session], stripe_server: StripeServer
) -> None:
    client, session = committing_app
    learner = make_user(session)
    course = make_course(session, price_cents=PRICE)
    session.commit()
    log_in(client, learner)
    location = stripe_page_of(post_form(client, f"/courses/{course.slug}/checkout", WAIVER))
    session_id = location.rsplit("/", 1)[1]
    [event] = stripe_server.complete(session_id)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def success_page() -> None:
        barrier.wait()
        results["page"] = client.get(f"/checkout/success?session_id={session_id}").status_code

    def webhook() -> None:
        barrier.wait()
        [response] = stripe_server.deliver(event, to=webhook_of(client), secret=WEBHOOK_SECRET)
        results["webhook"] = response.status_code

    threads = [threading.Thread(target=success_page), threading.Thread(target=webhook)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {"page": 200, "webhook": 200}
    session.rollback()
    [order] = session.exec(select(Order)).all()
    assert order.status == OrderStatus.paid
    assert len(session.exec(select(Enrolment)).all()) == 1
