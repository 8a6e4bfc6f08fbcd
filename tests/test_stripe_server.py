"""The Stripe test server, driven by the real `stripe` SDK over HTTP."""

# The fixtures are imported below until tests/conftest.py registers the plugin; test parameters
# named after them are what pytest injects, not redefinitions.
# ruff: noqa: F811

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import stripe

from tests.stripe_server import ControlError, Event, StripeServer
from tests.stripe_server.fixtures import fixture
from tests.stripe_server.forms import parse
from tests.stripe_server.plugin import stripe_server, stripe_server_session  # noqa: F401

SECRET = "whsec_test_secret"
SUCCESS_URL = "https://kern.test/betaald?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "https://kern.test/cursussen/bekkenbodem"


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 4900,
                    "product_data": {"name": "Bekkenbodem basis"},
                },
                "quantity": 1,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1250,
                    "product_data": {"name": "Werkboek"},
                },
                "quantity": 2,
            },
        ],
        "customer_email": "anna@example.com",
        "client_reference_id": "order-17",
        "metadata": {"user_id": "42", "order_id": "17"},
        "allow_promotion_codes": True,
        "payment_method_types": ["ideal", "card"],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "locale": "nl",
    }
    params.update(overrides)
    return params


@pytest.fixture
def client(stripe_server: StripeServer) -> stripe.StripeClient:
    return stripe_server.client(max_network_retries=0)


def create(
    client: stripe.StripeClient, *, idempotency_key: str | None = None, **overrides: Any
) -> stripe.checkout.Session:
    """Create a session with Kern-like parameters (a None override leaves a parameter out)."""
    params = {key: value for key, value in session_params(**overrides).items() if value is not None}
    options: stripe.RequestOptions = {}
    if idempotency_key is not None:
        options["idempotency_key"] = idempotency_key
    return client.v1.checkout.sessions.create(params=params, options=options)  # type: ignore[arg-type]


def paid_session(server: StripeServer, client: stripe.StripeClient) -> tuple[str, str, str]:
    """A paid session: its id, its payment intent's id and its charge's id."""
    session = create(client)
    server.complete(session.id)
    intent = client.v1.payment_intents.retrieve(str(server.get(session.id)["payment_intent"]))
    assert isinstance(intent.latest_charge, str)
    return session.id, intent.id, intent.latest_charge


class Receiver:
    """A webhook endpoint on loopback that records every POST and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


# -- Checkout Sessions ---------------------------------------------------------------------------


def test_a_created_session_has_stripes_shape_and_the_values_sent(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    session = create(client)

    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.url == f"{stripe_server.url}/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert (session.amount_subtotal, session.amount_total, session.currency) == (7400, 7400, "eur")
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"user_id": "42", "order_id": "17"}
    assert session.client_reference_id == "order-17"
    assert session.customer_email == "anna@example.com"
    assert session.customer_details is None
    assert session.payment_intent is None
    assert session.success_url == SUCCESS_URL  # the placeholder is kept as given
    assert session.cancel_url == CANCEL_URL
    assert session.allow_promotion_codes is True
    assert session.payment_method_types == ["ideal", "card"]
    assert session.locale == "nl"
    assert session.livemode is False
    assert session.expires_at > time.time() + 23 * 60 * 60
    assert set(session.to_dict()) >= set(fixture("checkout.session"))


def test_the_sdks_nested_form_encoding_is_parsed(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    create(client)

    (request,) = stripe_server.requests
    assert request.params["line_items"][1] == {
        "price_data": {
            "currency": "eur",
            "unit_amount": "1250",
            "product_data": {"name": "Werkboek"},
        },
        "quantity": "2",
    }
    assert request.params["metadata"] == {"user_id": "42", "order_id": "17"}
    assert request.params["payment_method_types"] == ["ideal", "card"]
    assert request.idempotency_key  # the SDK sends one with every POST
    assert parse("expand[]=a&expand[]=b&x[0][y]=1&x[1][y]=2") == {
        "expand": ["a", "b"],
        "x": [{"y": "1"}, {"y": "2"}],
    }


def test_without_payment_method_types_the_methods_are_dynamic(client: stripe.StripeClient) -> None:
    session = create(client, payment_method_types=None)

    assert "ideal" in session.payment_method_types
    assert session.payment_method_configuration_details is not None


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"line_items": None}, "line_items", "parameter_missing"),
        ({"success_url": "https://kern.test/betaald"}, "success_url", None),
        ({"success_url": "kern.test/{CHECKOUT_SESSION_ID}"}, "success_url", "url_invalid"),
        ({"locale": "xx"}, "locale", None),
        ({"client_reference_id": ""}, "client_reference_id", "parameter_invalid_empty"),
        ({"customer_email": "anna"}, "customer_email", "email_invalid"),
        ({"payment_method_types": ["ideal", "bitcoin"]}, "payment_method_types[1]", None),
        ({"colour": "red"}, "colour", "parameter_unknown"),
        ({"expires_at": int(time.time()) + 60}, "expires_at", None),
    ],
)
def test_invalid_parameters_are_refused_as_stripe_does(
    client: stripe.StripeClient, overrides: dict[str, Any], param: str, code: str | None
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        create(client, **overrides)

    assert raised.value.http_status == 400
    assert raised.value.param == param
    assert raised.value.code == code


def test_ideal_takes_euros_only(client: stripe.StripeClient) -> None:
    items = session_params()["line_items"]
    for item in items:
        item["price_data"]["currency"] = "usd"

    with pytest.raises(stripe.InvalidRequestError, match="ideal"):
        create(client, line_items=items)


def test_a_bad_line_item_names_its_parameter(client: stripe.StripeClient) -> None:
    items = session_params()["line_items"]
    del items[1]["price_data"]["unit_amount"]

    with pytest.raises(stripe.InvalidRequestError) as raised:
        create(client, line_items=items)

    assert raised.value.param == "line_items[1][price_data][unit_amount]"
    assert raised.value.code == "parameter_missing"


def test_errors_are_stripe_shaped_json(stripe_server: StripeServer) -> None:
    headers = {"Authorization": "Bearer sk_test_x"}

    missing = httpx.get(f"{stripe_server.url}/v1/charges/ch_nope", headers=headers)
    unauthenticated = httpx.get(f"{stripe_server.url}/v1/charges/ch_nope")
    live = httpx.get(
        f"{stripe_server.url}/v1/charges/ch_nope", headers={"Authorization": "Bearer sk_live_x"}
    )
    unknown = httpx.get(f"{stripe_server.url}/v1/nothing", headers=headers)

    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert missing.json()["error"]["code"] == "resource_missing"
    assert missing.json()["error"]["message"] == "No such charge: 'ch_nope'"
    assert missing.headers["Request-Id"].startswith("req_")
    assert unauthenticated.status_code == live.status_code == 401
    assert "You did not provide an API key" in unauthenticated.json()["error"]["message"]
    assert unknown.status_code == 404
    assert "Unrecognized request URL" in unknown.json()["error"]["message"]


def test_unknown_ids_raise_invalid_request_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        client.v1.checkout.sessions.retrieve("cs_test_nope")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"


def test_api_keys_must_be_test_keys_and_may_be_pinned(stripe_server: StripeServer) -> None:
    with pytest.raises(stripe.AuthenticationError):
        create(stripe_server.client("sk_live_123", max_network_retries=0))

    stripe_server.api_key = "sk_test_right"
    with pytest.raises(stripe.AuthenticationError):
        create(stripe_server.client("sk_test_wrong", max_network_retries=0))
    assert create(stripe_server.client("sk_test_right", max_network_retries=0)).id


def test_the_same_idempotency_key_returns_the_same_session(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    first = create(client, idempotency_key="o-17")
    again = create(client, idempotency_key="o-17")

    assert again.id == first.id
    assert len(stripe_server.sessions) == 1
    assert [request.replayed for request in stripe_server.requests] == [False, True]


def test_an_idempotency_key_reused_with_other_parameters_is_refused(
    client: stripe.StripeClient,
) -> None:
    create(client, idempotency_key="k")

    with pytest.raises(stripe.IdempotencyError) as raised:
        create(client, idempotency_key="k", client_reference_id="order-18")
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        client.v1.checkout.sessions.expire(create(client).id, options={"idempotency_key": "k"})
    assert raised.value.http_status == 400


def test_retrieve_expands_the_payment_intent_and_its_charge(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    session_id, intent_id, charge_id = paid_session(stripe_server, client)

    shallow = client.v1.checkout.sessions.retrieve(session_id)
    one = client.v1.checkout.sessions.retrieve(session_id, params={"expand": ["payment_intent"]})
    two = client.v1.checkout.sessions.retrieve(
        session_id, params={"expand": ["payment_intent.latest_charge", "line_items"]}
    )

    assert shallow.payment_intent == intent_id
    assert isinstance(one.payment_intent, stripe.PaymentIntent)
    assert one.payment_intent.latest_charge == charge_id
    assert isinstance(two.payment_intent, stripe.PaymentIntent)
    assert isinstance(two.payment_intent.latest_charge, stripe.Charge)
    assert two.payment_intent.latest_charge.id == charge_id
    assert two.line_items is not None
    assert [item.quantity for item in two.line_items.data] == [1, 2]
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.checkout.sessions.retrieve(session_id, params={"expand": ["metadata.x"]})


# -- payments ------------------------------------------------------------------------------------


def test_complete_pays_and_makes_intent_and_charge_retrievable(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    session = create(client, payment_intent_data={"metadata": {"order_id": "17"}})

    (event,) = stripe_server.complete(session.id)

    assert event.type == "checkout.session.completed"
    assert event.object["status"] == "complete"
    assert event.object["payment_status"] == "paid"
    done = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert done.url is None
    assert done.customer_details is not None
    assert done.customer_details.email == "anna@example.com"
    intent = done.payment_intent
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.object, intent.status, intent.amount, intent.currency) == (
        "payment_intent",
        "succeeded",
        7400,
        "eur",
    )
    assert intent.id.startswith("pi_")
    assert intent.metadata.to_dict() == {"order_id": "17"}
    assert isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.object, charge.status, charge.paid, charge.amount) == (
        "charge",
        "succeeded",
        True,
        7400,
    )
    assert (charge.refunded, charge.amount_refunded, charge.disputed) == (False, 0, False)
    assert charge.payment_intent == intent.id
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.type == "card"
    assert stripe_server.events == [event]


def test_an_async_payment_succeeds_or_fails_later(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    late, failing = create(client), create(client)

    (completed,) = stripe_server.complete(late.id, payment="async")
    stripe_server.complete(failing.id, payment="async")
    (succeeded,) = stripe_server.async_succeed(late.id)
    (failed,) = stripe_server.async_fail(failing.id)

    assert completed.object["payment_status"] == "unpaid"
    assert succeeded.type == "checkout.session.async_payment_succeeded"
    assert succeeded.object["payment_status"] == "paid"
    assert failed.type == "checkout.session.async_payment_failed"
    assert failed.object["payment_status"] == "unpaid"
    intent = client.v1.payment_intents.retrieve(
        str(failed.object["payment_intent"]), params={"expand": ["latest_charge"]}
    )
    assert intent.status == "requires_payment_method"
    assert isinstance(intent.latest_charge, stripe.Charge)
    assert intent.latest_charge.status == "failed"
    with pytest.raises(ControlError):
        stripe_server.async_succeed(late.id)


def test_a_promotion_code_lowers_the_total(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    discounted, free, no_codes = (
        create(client),
        create(client),
        create(client, allow_promotion_codes=False),
    )

    (event,) = stripe_server.complete(discounted.id, promotion_discount_cents=1400)
    (free_event,) = stripe_server.complete(free.id, promotion_discount_cents=7400)

    assert event.object["amount_total"] == 6000
    assert event.object["total_details"]["amount_discount"] == 1400
    assert free_event.object["payment_status"] == "no_payment_required"
    assert free_event.object["payment_intent"] is None
    with pytest.raises(ControlError, match="promotion codes"):
        stripe_server.complete(no_codes.id, promotion_discount_cents=100)


def test_expire_by_api_and_by_control(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    by_api, by_control = create(client), create(client)

    expired = client.v1.checkout.sessions.expire(by_api.id)
    (event,) = stripe_server.expire(by_control.id)

    assert (expired.status, expired.url) == ("expired", None)
    assert event.type == "checkout.session.expired"
    assert event.object["id"] == by_control.id
    assert [event.type for event in stripe_server.events] == ["checkout.session.expired"] * 2
    assert stripe_server.events[0]["request"]["id"] is not None  # caused by an API request
    with pytest.raises(stripe.InvalidRequestError, match="open"):
        client.v1.checkout.sessions.expire(by_api.id)
    with pytest.raises(ControlError):
        stripe_server.complete(by_api.id)


# -- refunds and disputes ------------------------------------------------------------------------


def test_a_refund_refunds_the_charge_and_a_failed_refund_undoes_it(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    _, intent_id, charge_id = paid_session(stripe_server, client)

    events = stripe_server.refund(intent_id)

    assert [event.type for event in events] == [
        "refund.created",
        "charge.refunded",
        "refund.updated",
    ]
    assert events[0].object["status"] == "pending"
    assert events[2].object["status"] == "succeeded"
    refund_id = events[0].object["id"]
    assert refund_id.startswith("re_")
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.refunded, charge.amount_refunded) == (True, 7400)
    assert charge.refunds is not None
    assert [refund.id for refund in charge.refunds.data] == [refund_id]
    assert client.v1.refunds.retrieve(refund_id).status == "succeeded"

    failed = stripe_server.fail_refund(refund_id)

    assert [event.type for event in failed] == ["refund.failed", "refund.updated"]
    assert client.v1.refunds.retrieve(refund_id).status == "failed"
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.refunded, charge.amount_refunded) == (False, 0)


def test_partial_refunds_add_up(stripe_server: StripeServer, client: stripe.StripeClient) -> None:
    _, _, charge_id = paid_session(stripe_server, client)

    stripe_server.refund(charge_id, amount=2400)
    partial = client.v1.charges.retrieve(charge_id)
    refund = client.v1.refunds.create(params={"charge": charge_id})

    assert (partial.refunded, partial.amount_refunded) == (False, 2400)
    assert (refund.amount, refund.status, refund.charge) == (5000, "succeeded", charge_id)
    assert client.v1.charges.retrieve(charge_id).refunded is True
    with pytest.raises(ControlError, match="already been refunded"):
        stripe_server.refund(charge_id)


def test_a_dispute_opens_and_closes(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    _, intent_id, charge_id = paid_session(stripe_server, client)

    (created,) = stripe_server.dispute(charge_id)
    dispute_id = created.object["id"]
    charge = client.v1.charges.retrieve(charge_id)
    (closed,) = stripe_server.close_dispute(dispute_id, won=False)

    assert created.type == "charge.dispute.created"
    assert created.object["status"] == "needs_response"
    assert dispute_id.startswith("dp_")
    assert (charge.disputed, charge["dispute"]) == (True, dispute_id)
    assert closed.type == "charge.dispute.closed"
    dispute = client.v1.disputes.retrieve(dispute_id)
    assert (dispute.status, dispute.charge, dispute.payment_intent) == (
        "lost",
        charge_id,
        intent_id,
    )

    _, _, other_charge = paid_session(stripe_server, client)
    (other,) = stripe_server.dispute(other_charge)
    (won,) = stripe_server.close_dispute(other.object["id"], won=True)
    assert won.object["status"] == "won"


# -- events and webhooks -------------------------------------------------------------------------


def test_events_are_stripe_event_objects_with_snapshots(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    _, _, charge_id = paid_session(stripe_server, client)
    (refund_created, charge_refunded, _) = stripe_server.refund(charge_id)
    stripe_server.fail_refund(refund_created.object["id"])

    assert charge_refunded.id.startswith("evt_")
    assert charge_refunded["object"] == "event"
    assert charge_refunded["livemode"] is False
    assert charge_refunded["api_version"] == stripe.api_version
    assert isinstance(charge_refunded["created"], int)
    assert charge_refunded.object["refunded"] is True  # as it was then, not as it is now
    retrieved = client.v1.events.retrieve(charge_refunded.id)
    assert retrieved.type == "charge.refunded"
    assert retrieved.data.object["amount_refunded"] == 7400
    assert set(charge_refunded) >= set(fixture("event"))


def test_a_signed_event_verifies_and_a_wrong_secret_does_not(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    (event,) = stripe_server.complete(create(client).id)
    header = stripe_server.sign(event.payload, SECRET)

    verified = stripe.Webhook.construct_event(event.payload, header, SECRET)

    assert (verified.id, verified.type) == (event.id, "checkout.session.completed")
    assert verified.data.object["id"] == event.object["id"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(event.payload, header, "whsec_wrong")
    old = stripe_server.sign(event.payload, SECRET, timestamp=int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(event.payload, old, SECRET)


def test_deliver_to_a_callable_once_or_concurrently(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    (event,) = stripe_server.complete(create(client).id)
    calls: list[tuple[bytes, dict[str, str]]] = []
    lock = threading.Lock()

    def endpoint(body: bytes, headers: dict[str, str]) -> int:
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
        with lock:
            calls.append((body, headers))
        return 200

    single = stripe_server.deliver(event, to=endpoint, secret=SECRET)
    many = stripe_server.deliver(event, to=endpoint, secret=SECRET, times=5, concurrently=True)

    assert single == [200]
    assert many == [200] * 5
    assert len(calls) == 6
    assert calls[0][0] == event.payload
    assert calls[0][1]["Content-Type"].startswith("application/json")
    assert len(stripe_server.deliveries) == 6


def test_deliver_to_a_url(
    stripe_server: StripeServer, client: stripe.StripeClient, receiver: Receiver
) -> None:
    (event,) = stripe_server.complete(create(client).id)

    (response,) = stripe_server.deliver(event, to=receiver.url, secret=SECRET)

    assert response.status_code == 200
    ((body, headers),) = receiver.received
    assert stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET).id == event.id


# -- faults --------------------------------------------------------------------------------------


def test_fail_next_makes_the_sdk_raise_api_error(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    stripe_server.fail_next()

    with pytest.raises(stripe.APIError) as raised:
        create(client)

    assert raised.value.http_status == 500
    assert stripe_server.sessions == []
    assert create(client).id  # only the next call failed


def test_the_sdks_retries_get_through_a_failure_with_the_same_key(
    stripe_server: StripeServer,
) -> None:
    retrying = stripe_server.client(max_network_retries=2)
    stripe_server.fail_next(1, after_processing=True)

    session = create(retrying)

    assert [session["id"] for session in stripe_server.sessions] == [session.id]
    first, second = stripe_server.requests
    assert (first.status, second.status, second.replayed) == (500, 200, True)
    assert first.idempotency_key == second.idempotency_key


def test_a_slow_stripe_times_the_sdk_out(stripe_server: StripeServer) -> None:
    impatient = stripe_server.client(
        max_network_retries=0, http_client=stripe.RequestsClient(timeout=0.2)
    )
    stripe_server.delay_seconds = 2

    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        create(impatient)

    assert time.monotonic() - started < 1.5


def test_reset_forgets_everything(stripe_server: StripeServer, client: stripe.StripeClient) -> None:
    stripe_server.complete(create(client).id)
    stripe_server.fail_next(3)
    stripe_server.webhook_url = "http://127.0.0.1:9/"

    stripe_server.reset()

    assert (stripe_server.sessions, stripe_server.events, stripe_server.requests) == ([], [], [])
    assert stripe_server.webhook_url is None
    assert create(client).id


# -- the hosted payment page ---------------------------------------------------------------------


def test_the_payment_page_pays_delivers_the_webhook_and_redirects(
    stripe_server: StripeServer, client: stripe.StripeClient, receiver: Receiver
) -> None:
    stripe_server.webhook_url, stripe_server.webhook_secret = receiver.url, SECRET
    session = create(client)
    assert session.url is not None

    page = httpx.get(session.url)
    paid = httpx.post(session.url, data={"action": "pay"})

    assert page.status_code == 200
    assert "Betalen" in page.text
    assert "Annuleren" in page.text
    assert "€ 74,00" in page.text
    assert paid.status_code == 303
    assert paid.headers["location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    ((body, headers),) = receiver.received
    event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], SECRET)
    assert (event.type, event.data.object["id"]) == ("checkout.session.completed", session.id)
    assert 'name="action"' not in httpx.get(session.url).text  # paid: no buttons any more


def test_the_payment_page_cancels_back_to_the_shop(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    session = create(client)

    cancelled = httpx.post(f"{stripe_server.url}/pay/{session.id}", data={"action": "cancel"})
    missing = httpx.get(f"{stripe_server.url}/pay/cs_test_nope")

    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == CANCEL_URL
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert stripe_server.events == []
    assert missing.status_code == 404


def test_events_are_dicts_with_shortcuts() -> None:
    event = Event(id="evt_1", type="x.y", data={"object": {"id": "cs_1"}})

    assert (event.id, event.type, event.object) == ("evt_1", "x.y", {"id": "cs_1"})
    assert event.payload.startswith(b"{")


def test_a_subscription_checkout_bills_monthly_with_stripes_shapes(
    stripe_server: StripeServer, client: stripe.StripeClient
) -> None:
    coupon = client.v1.coupons.create({"percent_off": 10, "duration": "forever"})
    promo = client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "ZOMER10"}
    )
    monthly = {
        "price_data": {
            "currency": "eur",
            "unit_amount": 2000,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Bekkenbodem basis"},
        },
        "quantity": 1,
    }
    with pytest.raises(stripe.InvalidRequestError, match="only specify one"):
        create(client, line_items=[monthly], mode="subscription", discounts=[{"coupon": coupon.id}])
    session = create(
        client,
        mode="subscription",
        line_items=[monthly],
        allow_promotion_codes=None,
        discounts=[{"promotion_code": promo.id}],
        subscription_data={"metadata": {"instalments": "3"}},
    )
    assert session.amount_total == 1800

    events = stripe_server.complete(session.id)
    subscription_id = str(stripe_server.get(session.id)["subscription"])
    failed = stripe_server.next_instalment(subscription_id, fail=True)

    assert [e.type for e in events] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]
    assert [e.type for e in failed] == ["invoice.payment_failed", "customer.subscription.updated"]
    subscription = client.v1.subscriptions.retrieve(subscription_id).to_dict()
    assert set(subscription) >= set(fixture("subscription"))
    assert (subscription["status"], subscription["metadata"]) == ("past_due", {"instalments": "3"})
    invoices = client.v1.invoices.list({"subscription": subscription_id}).data
    assert [(i.status, i.amount_due) for i in invoices] == [("open", 1800), ("paid", 1800)]
    assert set(invoices[0].to_dict()) >= set(fixture("invoice"))
    assert client.v1.promotion_codes.retrieve(promo.id).times_redeemed == 1
    stripe_server.pay_invoice(invoices[0].id)
    client.v1.subscriptions.update(subscription_id, {"cancel_at_period_end": True})
    [ended] = stripe_server.next_instalment(subscription_id)
    assert ended.type == "customer.subscription.deleted"
    assert client.v1.subscriptions.retrieve(subscription_id).status == "canceled"
