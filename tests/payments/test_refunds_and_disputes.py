"""After payment: refunds and disputes move the order and her access to where Stripe's charge
says, whatever order the events arrive in and however often."""

import itertools

import pytest
from sqlalchemy import delete

from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.payments.models import OrderStatus, StripeEvent
from tests.payments.conftest import PRICE, Shop
from tests.smtp import Mailbox
from tests.stripe_server import Event


def paid(shop: Shop) -> tuple[str, str]:
    """She bought the course (success page and webhook); the session and charge ids."""
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    assert shop.order().status == OrderStatus.paid
    return session_id, shop.charge_id(session_id)


def state(shop: Shop) -> tuple[str, str | None]:
    return shop.order().status, shop.access()


def test_a_refund_ends_access(shop: Shop) -> None:
    _, charge = paid(shop)

    responses = shop.deliver(shop.stripe.refund(charge))

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert state(shop) == (OrderStatus.refunded, EnrolmentStatus.refunded)
    assert shop.order().refunded_at is not None
    lesson = f"/courses/{shop.course.slug}/lessons/les-1-2"
    assert shop.client.get(lesson).status_code == 403


def test_a_refund_that_is_still_pending_ends_access_too(shop: Shop) -> None:
    _, charge = paid(shop)
    shop.deliver(shop.stripe.refund(charge, settle=False))
    assert state(shop) == (OrderStatus.refunded, EnrolmentStatus.refunded)


def test_a_partial_refund_keeps_access(shop: Shop) -> None:
    _, charge = paid(shop)
    shop.deliver(shop.stripe.refund(charge, amount=1000))
    assert state(shop) == (OrderStatus.paid, EnrolmentStatus.active)


def test_a_refund_that_fails_gives_access_back(shop: Shop) -> None:
    _, charge = paid(shop)
    shop.deliver(shop.stripe.refund(charge))
    [refund] = [e.object for e in shop.events_of("refund.created")]

    shop.deliver(shop.stripe.fail_refund(refund["id"]))

    assert state(shop) == (OrderStatus.paid, EnrolmentStatus.active)


def test_the_refund_mail_is_sent_once(shop: Shop, mailbox: Mailbox) -> None:
    _, charge = paid(shop)
    mailbox.wait_for(1)  # the receipt
    events = shop.stripe.refund(charge)

    shop.deliver(events, times=2)

    messages = mailbox.wait_for(2)
    assert len(messages) == 2
    refund = messages[1]
    assert "terugbetaald" in str(refund["Subject"])  # the learner reads Dutch
    body = refund.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\xa0", " ")
    assert shop.order().number in text
    assert "€ 49,00" in text


def test_an_open_dispute_pauses_access_and_a_won_one_gives_it_back(shop: Shop) -> None:
    _, charge = paid(shop)
    [created] = shop.stripe.dispute(charge)
    shop.deliver([created])

    assert state(shop) == (OrderStatus.disputed, EnrolmentStatus.disputed)

    shop.deliver(shop.stripe.close_dispute(created.object["id"], won=True))

    assert state(shop) == (OrderStatus.paid, EnrolmentStatus.active)


def test_a_lost_dispute_ends_access(shop: Shop) -> None:
    _, charge = paid(shop)
    [created] = shop.stripe.dispute(charge)
    shop.deliver([created])
    shop.deliver(shop.stripe.close_dispute(created.object["id"], won=False))

    assert state(shop) == (OrderStatus.dispute_lost, EnrolmentStatus.refunded)


def test_a_won_dispute_does_not_undo_a_revocation_by_the_instructor(shop: Shop) -> None:
    _, charge = paid(shop)
    [created] = shop.stripe.dispute(charge)
    shop.deliver([created])
    enrolment = shop.enrolment()
    assert enrolment is not None
    enrolment_service.set_status(shop.session, enrolment=enrolment, status=EnrolmentStatus.revoked)

    shop.deliver(shop.stripe.close_dispute(created.object["id"], won=True))

    assert state(shop) == (OrderStatus.paid, EnrolmentStatus.revoked)


def test_charge_events_for_a_payment_kern_does_not_know_change_nothing(shop: Shop) -> None:
    # A charge made outside Kern (e.g. in the Dashboard) on the same Stripe account.
    other = shop.start()
    shop.stripe.complete(other)
    shop.session.delete(shop.order())
    shop.session.flush()

    responses = shop.deliver(shop.stripe.refund(shop.charge_id(other)))

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert shop.orders() == []
    assert {e.outcome for e in shop.recorded_events()} == {"no paid order"}


# --- any delivery order ends in the same state -------------------------------------------------


def _story(shop: Shop, story: str) -> list[Event]:
    """Play a story at Stripe without delivering anything; its events, in Stripe's order."""
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    charge = shop.charge_id(session_id)
    if story in {"refund", "refund failed"}:
        events += shop.stripe.refund(charge)
    if story == "refund failed":
        [refund] = [e.object for e in events if e.type == "refund.created"]
        events += shop.stripe.fail_refund(refund["id"])
    if story in {"dispute won", "dispute lost", "dispute open"}:
        disputed = shop.stripe.dispute(charge)
        events += disputed
        if story != "dispute open":
            events += shop.stripe.close_dispute(
                disputed[0].object["id"], won=story == "dispute won"
            )
    return events


ENDINGS = {
    "paid": (OrderStatus.paid, EnrolmentStatus.active),
    "refund": (OrderStatus.refunded, EnrolmentStatus.refunded),
    "refund failed": (OrderStatus.paid, EnrolmentStatus.active),
    "dispute open": (OrderStatus.disputed, EnrolmentStatus.disputed),
    "dispute won": (OrderStatus.paid, EnrolmentStatus.active),
    "dispute lost": (OrderStatus.dispute_lost, EnrolmentStatus.refunded),
}


@pytest.mark.parametrize("story", list(ENDINGS))
def test_the_end_state_does_not_depend_on_the_delivery_order(shop: Shop, story: str) -> None:
    events = _story(shop, story)
    orders = list(itertools.permutations(range(len(events))))
    # Stripe's order, the reverse (checkout.session.completed last) and a shuffle or two.
    for order in [orders[0], orders[-1], *orders[1 : len(orders) : max(len(orders) // 3, 1)]]:
        shop.session.expire_all()
        shop.deliver([events[index] for index in order])
        assert state(shop) == ENDINGS[story], [events[index].type for index in order]
        # Start over for the next order: same Stripe, fresh Kern records of these events.
        _forget(shop)


def _forget(shop: Shop) -> None:
    """Undo what Kern recorded, so the same events can be delivered again in another order."""
    shop.session.execute(delete(StripeEvent))
    shop.session.execute(delete(Enrolment))
    order = shop.order()
    order.status = OrderStatus.pending
    order.paid_at = order.refunded_at = order.receipt_sent_at = None
    order.stripe_charge_id = order.stripe_payment_intent_id = None
    order.amount_cents = order.subtotal_cents = PRICE
    shop.session.add(order)
    shop.session.flush()


@pytest.mark.parametrize("story", ["refund", "dispute lost"])
def test_the_success_page_after_early_refund_events_lands_in_the_same_state(
    shop: Shop, story: str
) -> None:
    events = _story(shop, story)
    shop.deliver([event for event in events if not event.type.startswith("checkout.")])
    assert shop.access() is None

    session_id = events[0].object["id"]
    page = shop.back_from_stripe(session_id)

    assert page.status_code == 200
    assert state(shop) == ENDINGS[story]
