"""From Stripe's word to access: fulfil a checkout, and follow its payment through refunds and
disputes.

Every entry point reads the current state from Stripe (never from the caller, and never from an
event's snapshot) and moves the order to the state that follows from it. Moving to a state the
order is already in does nothing, so the success page, the webhook, a repeated event and events
in any order all end in the same place, and enrolments and mails change only on a real move.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course
from api.cohorts import seats as cohort_seats
from api.config import Settings
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource, EnrolmentStatus
from api.invoices import service as invoices
from api.invoices.facts import InvoiceFacts, payment_method_text
from api.payments import emails, service, stripe_client
from api.payments.models import Order, OrderStatus
from api.terms import agreement

log = logging.getLogger("kern.payments")

# Stripe's Checkout Session ids; anything else in the success page's query is not looked up.
CHECKOUT_SESSION_ID = re.compile(r"cs_[A-Za-z0-9_]{1,250}")
OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}
# A refund that went through or is on its way counts; a failed or cancelled one does not.
COUNTED_REFUND = {"succeeded", "pending", "requires_action"}
# States an order reaches only after its payment succeeded.
AFTER_PAYMENT = {
    OrderStatus.paid,
    OrderStatus.refunded,
    OrderStatus.disputed,
    OrderStatus.dispute_lost,
}
# What Kern needs of a session in one call: its payment and the charge's refunds and dispute.
SESSION_EXPAND = [
    "payment_intent.latest_charge.dispute",
    "payment_intent.latest_charge.refunds",
    # Stripe Tax's VAT per rate, for the invoice.
    "total_details.breakdown",
]
CHARGE_EXPAND = ["dispute", "refunds"]


@dataclass(frozen=True)
class ChargeFacts:
    """What decides an order's state after payment: refunds and a dispute."""

    id: str
    payment_intent_id: str | None
    amount_cents: int
    refunded_cents: int
    dispute_status: str | None
    customer_id: str | None = None  # set for a payment plan's instalments

    @classmethod
    def of(cls, charge: dict[str, Any]) -> ChargeFacts:
        refunds = (charge.get("refunds") or {}).get("data") or []
        dispute = charge.get("dispute")
        return cls(
            id=str(charge["id"]),
            payment_intent_id=_id_of(charge.get("payment_intent")),
            amount_cents=int(charge.get("amount") or 0),
            refunded_cents=sum(
                int(refund.get("amount") or 0)
                for refund in refunds
                if refund.get("status") in COUNTED_REFUND
            ),
            dispute_status=dispute.get("status") if isinstance(dispute, dict) else None,
            customer_id=_id_of(charge.get("customer")),
        )

    @property
    def kept_cents(self) -> int:
        """What the practice keeps of the payment: less its refunds, nothing after a lost
        dispute (what its invoice and credit notes come to)."""
        if self.dispute_status == "lost":
            return 0
        return max(self.amount_cents - self.refunded_cents, 0)

    @property
    def state(self) -> OrderStatus:
        """The order's state this charge stands for."""
        if self.dispute_status == "lost":
            return OrderStatus.dispute_lost
        if self.dispute_status in OPEN_DISPUTE:
            return OrderStatus.disputed
        if self.amount_cents > 0 and self.refunded_cents >= self.amount_cents:
            return OrderStatus.refunded
        return OrderStatus.paid


@dataclass(frozen=True)
class CheckoutFacts:
    """A checkout as Stripe (or the demo checkout) reports it."""

    session_id: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    user_id: int | None
    course_id: int | None
    subtotal_cents: int
    total_cents: int
    payment_intent_id: str | None = None
    payment_failed: bool = False
    charge: ChargeFacts | None = None
    # Buyer's name and country, payment method and Stripe's VAT, for the invoice.
    invoice: InvoiceFacts | None = None
    # The terms and waiver she accepted (metadata), for an order made from the session.
    agreed: dict[str, str] | None = None
    subscription_id: str | None = None  # a payment plan (api/payments/plans.py)
    instalments: int | None = None  # the plan's number of instalments
    # The plan's first Stripe invoice, which the checkout paid (subscription mode only).
    stripe_invoice_id: str | None = None

    @property
    def paid(self) -> bool:
        return self.payment_status in {"paid", "no_payment_required"}

    @classmethod
    def of(cls, checkout: dict[str, Any]) -> CheckoutFacts:
        metadata = checkout.get("metadata") or {}
        intent = checkout.get("payment_intent")
        intent = intent if isinstance(intent, dict) else None
        charge = intent.get("latest_charge") if intent else None
        subtotal = int(checkout.get("amount_subtotal") or 0)
        total = checkout.get("amount_total")
        return cls(
            session_id=str(checkout["id"]),
            status=str(checkout.get("status") or ""),
            payment_status=str(checkout.get("payment_status") or ""),
            user_id=_int(metadata.get("user_id")),
            course_id=_int(metadata.get("course_id")),
            subtotal_cents=subtotal,
            total_cents=subtotal if total is None else int(total),
            payment_intent_id=_id_of(checkout.get("payment_intent")),
            # A delayed payment (SEPA, sometimes iDEAL) that bounced leaves the intent waiting for
            # a new payment method; the session itself stays "complete" and "unpaid".
            payment_failed=intent is not None
            and checkout.get("status") == "complete"
            and checkout.get("payment_status") == "unpaid"
            and intent.get("status") in {"requires_payment_method", "canceled"},
            charge=ChargeFacts.of(charge) if isinstance(charge, dict) else None,
            invoice=InvoiceFacts.of(checkout),
            agreed={
                **{key: str(value) for key, value in metadata.items()},
                "created": str(checkout.get("created") or ""),
            },
            subscription_id=_id_of(checkout.get("subscription")),
            instalments=_int(metadata.get("instalments")),
            stripe_invoice_id=_id_of(checkout.get("invoice")),
        )

    @classmethod
    def of_demo(cls, order: Order) -> CheckoutFacts:
        """The demo checkout: paid in full, as soon as the button is pressed."""
        return cls(
            session_id=order.stripe_checkout_session_id,
            status="complete",
            payment_status="paid",
            user_id=order.user_id,
            course_id=order.course_id,
            subtotal_cents=order.subtotal_cents,
            total_cents=order.amount_cents,
        )


def _id_of(value: object) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


# --- entry points ----------------------------------------------------------------------------


def fulfil_checkout(
    session: Session, settings: Settings, *, checkout_session_id: str
) -> Order | None:
    """Give what a Checkout Session paid for, once; None when Stripe or Kern does not know it."""
    if service.is_demo(checkout_session_id):
        # The demo checkout has no Stripe: its order is the only record, paid by `pay_demo`.
        return service.find_by_checkout(session, checkout_session_id=checkout_session_id)
    facts = read_checkout(settings, checkout_session_id=checkout_session_id)
    return None if facts is None else apply_checkout(session, settings, facts)


def read_checkout(settings: Settings, *, checkout_session_id: str) -> CheckoutFacts | None:
    """A Checkout Session as Stripe reports it now; None when Stripe does not know it."""
    import stripe  # noqa: PLC0415 (loaded on first use: see stripe_client)

    if not settings.stripe_configured or not CHECKOUT_SESSION_ID.fullmatch(checkout_session_id):
        return None
    api = stripe_client.client(settings)
    try:
        checkout = stripe_client.call(
            "reading a checkout session",
            lambda: api.v1.checkout.sessions.retrieve(
                checkout_session_id, {"expand": SESSION_EXPAND}
            ),
        )
    except stripe.InvalidRequestError as error:
        if stripe_client.is_missing(error):
            return None
        raise
    facts = CheckoutFacts.of(checkout.to_dict())
    if facts.paid and facts.stripe_invoice_id and facts.invoice is not None:
        # A plan's checkout names no payment of its own: its first invoice's payment does.
        method = _invoice_payment_method(settings, invoice_id=facts.stripe_invoice_id)
        facts = replace(facts, invoice=replace(facts.invoice, payment_method=method))
    return facts


def _invoice_payment_method(settings: Settings, *, invoice_id: str) -> str:
    """How a Stripe invoice was paid, in words ("Visa •••• 4242"); "" when it was not."""
    api = stripe_client.client(settings)
    invoice = stripe_client.call(
        "reading an invoice",
        lambda: api.v1.invoices.retrieve(invoice_id, {"expand": ["payments"]}),
    ).to_dict()
    intents = [
        (payment.get("payment") or {}).get("payment_intent")
        for payment in (invoice.get("payments") or {}).get("data") or []
        if payment.get("status") == "paid"
    ]
    intent_id = _id_of(intents[0]) if intents else None
    if intent_id is None:
        return ""
    intent = stripe_client.call(
        "reading a payment",
        lambda: api.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]}),
    ).to_dict()
    charge = intent.get("latest_charge")
    details = charge.get("payment_method_details") if isinstance(charge, dict) else None
    return payment_method_text(details)[:120]


def fulfil_on_return(
    session: Session, settings: Settings, *, checkout_session_id: str
) -> Order | None:
    """`fulfil_checkout` for the success page, a GET that reads her login first."""
    # What this session read so far (her login, say) is done with. Ending its transaction here
    # means it holds no connection, nor SQLite's write lock, while Stripe answers; and the
    # fulfilment gets a transaction of its own that starts with the order's lock
    # (claim_checkout). A GET's reads may run without a transaction on PostgreSQL, where
    # FOR UPDATE and savepoints would not work; on SQLite a transaction that read before the
    # webhook committed could not write after it.
    session.commit()
    return fulfil_checkout(session, settings, checkout_session_id=checkout_session_id)


def pay_demo(session: Session, settings: Settings, *, order: Order) -> Order:
    """The demo checkout's "pay" button: the same fulfilment as a paid Stripe session."""
    # The order exists, so apply_checkout finds it (and returns it).
    return apply_checkout(session, settings, CheckoutFacts.of_demo(order)) or order


def read_charge(settings: Settings, *, charge_id: str) -> ChargeFacts | None:
    """A charge with its refunds and dispute as Stripe reports it now; None when unknown."""
    import stripe  # noqa: PLC0415 (loaded on first use: see stripe_client)

    api = stripe_client.client(settings)
    try:
        charge = stripe_client.call(
            "reading a charge",
            lambda: api.v1.charges.retrieve(charge_id, {"expand": CHARGE_EXPAND}),
        )
    except stripe.InvalidRequestError as error:
        if stripe_client.is_missing(error):
            return None
        raise
    return ChargeFacts.of(charge.to_dict())


def apply_charge(session: Session, settings: Settings, facts: ChargeFacts) -> str:
    """Move the order of a paid charge to the state its refunds and dispute stand for."""
    order = service.find_by_payment(
        session, payment_intent_id=facts.payment_intent_id, charge_id=facts.id
    )
    if order is None or order.status not in AFTER_PAYMENT:
        # Not fulfilled yet: fulfilment reads this same charge and lands in the same state.
        return "no paid order"
    order.stripe_charge_id = facts.id
    # Documents first: the refund mail that the move may queue carries the credit note.
    invoices.settle(session, order=order, kept_cents=facts.kept_cents)
    _move(session, settings, order, facts.state)
    return f"order {order.status}"


def apply_checkout(session: Session, settings: Settings, facts: CheckoutFacts) -> Order | None:
    """Bring the checkout's order in line with the facts; None for a session Kern did not start."""
    order = _order_for(session, facts)
    if order is None:
        return None
    if facts.payment_intent_id:
        order.stripe_payment_intent_id = facts.payment_intent_id
    if facts.charge is not None:
        order.stripe_charge_id = facts.charge.id
    if facts.paid:
        if order.status not in AFTER_PAYMENT:
            order.subtotal_cents = facts.subtotal_cents
            order.amount_cents = facts.total_cents
            order.discount_cents = max(facts.subtotal_cents - facts.total_cents, 0)
            _move(session, settings, order, OrderStatus.paid)
            part = _part(facts)
            invoices.issue(
                session, settings, order=order, facts=facts.invoice, part=part,
                stripe_invoice_id=facts.stripe_invoice_id if part else None,
            )  # fmt: skip
        if facts.charge is not None:
            # Refund and dispute events that arrived before this fulfilment found no paid order;
            # the charge read together with the session carries what they said.
            invoices.settle(session, order=order, kept_cents=facts.charge.kept_cents)
            _move(session, settings, order, facts.charge.state)
        _send_receipt_if_due(session, settings, order)
    elif order.status == OrderStatus.pending and facts.payment_failed:
        _move(session, settings, order, OrderStatus.failed)
    elif order.status == OrderStatus.pending and facts.status == "expired":
        _move(session, settings, order, OrderStatus.expired)
    # Her place in a cohort follows the checkout: taken once paid, freed when it ended unpaid.
    cohort_seats.settle(
        session, checkout_session_id=facts.session_id, user_id=order.user_id,
        course_id=order.course_id, paid=facts.paid,
        ended_unpaid=order.status in {OrderStatus.failed, OrderStatus.expired},
    )  # fmt: skip
    session.add(order)
    session.flush()
    return order


def _part(facts: CheckoutFacts) -> tuple[int, int] | None:
    """For a payment plan: the checkout paid its first instalment (the order's amount), which
    its invoice says; the later ones are invoiced as Stripe reports them paid (plans.apply)."""
    if facts.subscription_id is None or not facts.instalments:
        return None
    return (1, facts.instalments)


# --- the order and its moves -------------------------------------------------------------------


def _order_for(session: Session, facts: CheckoutFacts) -> Order | None:
    """The session's order; made from the session's metadata when the checkout page's own
    insert never happened (the database failed after Stripe created the session)."""
    service.claim_checkout(session, checkout_session_id=facts.session_id)
    order = service.find_by_checkout(session, checkout_session_id=facts.session_id)
    if order is not None or facts.user_id is None or facts.course_id is None:
        return order
    course = session.get(Course, facts.course_id)
    user = session.get(User, facts.user_id)
    try:
        with session.begin_nested():
            order = Order(
                user_id=user.id if user else None,
                course_id=course.id if course else None,
                course_title=course.title if course else "",
                subtotal_cents=facts.subtotal_cents,
                amount_cents=facts.total_cents,
                stripe_checkout_session_id=facts.session_id,
                **agreement.from_metadata(facts.agreed or {}),
            )
            session.add(order)
            session.flush()
        return order
    except IntegrityError:
        # The success page and the webhook made it at the same moment; use the one stored.
        return service.find_by_checkout(session, checkout_session_id=facts.session_id)


def move(session: Session, settings: Settings, order: Order, to: OrderStatus) -> None:
    """Put the order in a new state (for a payment plan's refund or dispute, say)."""
    _move(session, settings, order, to)


def _move(session: Session, settings: Settings, order: Order, to: OrderStatus) -> None:
    """Put the order in a new state, with what that means for her access and her mailbox."""
    before = OrderStatus(order.status)
    if before == to:
        return
    now = utcnow()
    order.status = to.value
    order.updated_at = now
    if to == OrderStatus.paid and order.paid_at is None:
        order.paid_at = now
    if to == OrderStatus.refunded:
        order.refunded_at = now
    session.add(order)
    session.flush()
    log.info("order %s: %s -> %s", order.id, before, to)
    user = session.get(User, order.user_id) if order.user_id is not None else None
    if user is None or order.course_id is None:
        return  # the buyer deleted her account (or the course is gone): only the record stays
    if to == OrderStatus.paid:
        _give_access(session, settings, order=order, first=before not in AFTER_PAYMENT)
    elif to in {OrderStatus.refunded, OrderStatus.dispute_lost}:
        ending = {EnrolmentStatus.active, EnrolmentStatus.disputed, EnrolmentStatus.paused}
        _change_access(session, order, ending, EnrolmentStatus.refunded)
        if to == OrderStatus.refunded:
            emails.refund(session, settings, user=user, order=order)
    elif to == OrderStatus.disputed:
        _change_access(session, order, {EnrolmentStatus.active}, EnrolmentStatus.disputed)


def _give_access(session: Session, settings: Settings, *, order: Order, first: bool) -> None:
    if first:
        enrolment_service.grant(
            session, user_id=order.user_id, course_id=order.course_id,
            source=EnrolmentSource.purchase, settings=settings,
        )  # fmt: skip
        return
    # A refund that failed or a dispute that was won gives back what the payment had given,
    # but does not undo an instructor's revocation.
    _change_access(
        session, order, {EnrolmentStatus.refunded, EnrolmentStatus.disputed}, EnrolmentStatus.active
    )


def _change_access(
    session: Session, order: Order, when: set[EnrolmentStatus], to: EnrolmentStatus
) -> None:
    enrolment = enrolment_service.find(session, user_id=order.user_id, course_id=order.course_id)
    if enrolment is not None and enrolment.status in when:
        enrolment_service.set_status(session, enrolment=enrolment, status=to)


def _send_receipt_if_due(session: Session, settings: Settings, order: Order) -> None:
    """The receipt, queued once per order in the transaction that records the payment."""
    if order.receipt_sent_at is not None or order.paid_at is None or order.user_id is None:
        return
    user = session.get(User, order.user_id)
    if user is None:
        return
    course = session.get(Course, order.course_id) if order.course_id is not None else None
    emails.receipt(session, settings, user=user, order=order, course=course)
    # Queued, not yet delivered: the outbox worker sends it (and tries again if it must).
    order.receipt_sent_at = utcnow()
    session.add(order)
    session.flush()
