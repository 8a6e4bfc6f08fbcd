"""Stripe's webhook: verify the signature on the raw body, ask Stripe, record the event once,
act on it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.config import Settings
from api.errors import AppError
from api.payments import fulfilment, plans, stripe_client
from api.payments.models import StripeEvent

if TYPE_CHECKING:
    pass

log = logging.getLogger("kern.payments")

CHECKOUT_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)
CHARGE_EVENTS = frozenset(
    {
        "charge.refunded",
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
        "refund.failed",
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)


# What an event does to Kern's records, once it is recorded; returns what it did.
Change = Callable[[Session], str]

# The same answer for every refusal: a caller learns nothing about Kern's configuration.
REFUSED = "not a verified Stripe event"


class WebhookRefused(AppError):
    """Not a delivery from Stripe (or Kern cannot check that it is): nothing was done."""

    status_code = 400
    code = "webhook_refused"


def receive(session: Session, settings: Settings, *, payload: bytes, signature: str | None) -> str:
    """Handle one delivery; returns what Kern did, e.g. "duplicate" or "order paid"."""
    event = _verified(settings, payload, signature)
    if not settings.stripe_configured:
        # Kern reads every change back from Stripe and cannot without the API key; answering
        # 503 makes Stripe deliver the event again (for up to 3 days) once the key is set.
        log.error("a Stripe webhook arrived but STRIPE_SECRET_KEY is not set")
        raise stripe_client.PaymentsUnavailable
    event_id, event_type = str(event["id"]), str(event["type"])
    # Stripe is asked before the database is touched: a slow Stripe then holds no database
    # connection, nor SQLite's one write lock (which this request's first statement takes) that
    # every learner's write would wait for, and give up on after a few seconds.
    change = _read(settings, event_type, event["data"]["object"])
    try:
        # The event's row and its effect are committed together: a repeat (even at the same
        # moment) meets the primary key and does nothing, and an effect that fails rolls back
        # the row too, so Stripe's retry is handled in full.
        with session.begin_nested():
            record = StripeEvent(id=event_id[:255], type=event_type[:100])
            session.add(record)
            session.flush()
    except IntegrityError:
        log.info("stripe event %s (%s) seen before", event_id, event_type)
        return "duplicate"
    outcome = change(session)
    record.outcome = outcome[:200]
    session.add(record)
    session.flush()
    log.info("stripe event %s (%s): %s", event_id, event_type, outcome)
    return outcome


def _verified(settings: Settings, payload: bytes, signature: str | None) -> dict[str, Any]:
    import stripe  # noqa: PLC0415 (loaded on first use: see stripe_client)

    secret = settings.stripe_webhook_secret
    if secret is None or not secret.get_secret_value():
        # Without the secret anyone could post a "payment succeeded"; refuse everything.
        log.error("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
        raise WebhookRefused(REFUSED)
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret.get_secret_value())
        data: dict[str, Any] = event.to_dict()
    except stripe.SignatureVerificationError as error:
        log.warning("Stripe webhook refused: %s", error)
        raise WebhookRefused(REFUSED) from error
    except (ValueError, TypeError, AttributeError) as error:  # not JSON, or not an object
        log.warning("Stripe webhook refused: the body is not an event")
        raise WebhookRefused(REFUSED) from error
    body = data.get("data")
    if (
        not isinstance(data.get("id"), str)
        or not isinstance(data.get("type"), str)
        or not isinstance(body, dict)
        or not isinstance(body.get("object"), dict)
    ):
        log.warning("Stripe webhook refused: the event lacks its id, type or object")
        raise WebhookRefused(REFUSED)
    return data


def _read(settings: Settings, event_type: str, obj: dict[str, Any]) -> Change:
    """What Stripe says now about the event's object, as the change it makes to Kern."""
    if event_type in CHECKOUT_EVENTS:
        facts = fulfilment.read_checkout(settings, checkout_session_id=str(obj["id"]))
        plan = (
            plans.read(settings, subscription_id=facts.subscription_id)
            if facts is not None and facts.subscription_id
            else None
        )

        def fulfil(session: Session) -> str:
            order = None if facts is None else fulfilment.apply_checkout(session, settings, facts)
            if order is not None and plan is not None and order.status in fulfilment.AFTER_PAYMENT:
                plans.start(session, settings, order=order, facts=plan)
            return "no order" if order is None else f"order {order.status}"

        return fulfil
    if event_type in CHARGE_EVENTS:
        charge_id = obj["id"] if obj.get("object") == "charge" else obj.get("charge")
        if not isinstance(charge_id, str) or not charge_id:
            return lambda session: "no charge"
        charge = fulfilment.read_charge(settings, charge_id=charge_id)
        if charge is None:
            return lambda session: "unknown charge"
        # An instalment of a payment plan: its order is the plan's, found by Stripe's customer.
        plan = plans.read(settings, customer_id=charge.customer_id) if charge.customer_id else None

        def change(session: Session) -> str:
            outcome = fulfilment.apply_charge(session, settings, charge)
            if outcome == "no paid order" and plan is not None:
                return plans.apply(session, settings, plan)
            return outcome

        return change
    if event_type in plans.EVENTS:
        return plans.change_for(settings, event_type, obj)
    return lambda session: "ignored"
