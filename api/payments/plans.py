"""Paying a course in instalments ("in N termijnen"): a Stripe subscription that stops after N
paid invoices.

How it stops: Checkout cannot create a subscription schedule (the documented way to end after N
`iterations` would mean turning the subscription into a schedule after Checkout, a second object
to keep in step). Kern instead counts the subscription's paid invoices as Stripe reports them
and, once N are paid, sets `cancel_at_period_end`: Stripe then bills nothing more and ends the
subscription when the last paid month is over. Counting what Stripe says was paid (rather than
the events seen) makes it the same whichever events arrive, late, twice or out of order.

Every event about a plan (`invoice.paid`, `invoice.payment_failed`, `customer.subscription.*`,
and a refund or dispute of one of its charges) is handled the same way as a checkout: read the
subscription, its invoices and its charges from Stripe now, then bring the plan, the order and
her access in line with them. A failed instalment mails her the page to pay it, a grace period
(PLAN_GRACE_DAYS) follows, then `pause_overdue` pauses her access until she pays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentStatus
from api.errors import Conflict, FormError
from api.i18n import N_, format_price
from api.i18n import gettext as _
from api.invoices import pdf as invoice_pdf
from api.invoices import service as invoices
from api.invoices.facts import payment_method_text
from api.invoices.models import Invoice
from api.kit.ids import id_of
from api.mail.compose import queue
from api.payments import fulfilment, stripe_client
from api.payments.billing_models import PaymentPlan, PlanStatus
from api.payments.models import Order, OrderStatus

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("kern.payments")

INSTALMENTS = (2, 12)
# Stripe's smallest euro payment: no instalment may be less.
MINIMUM_CENTS = 50
# Subscription events Kern follows (charges are followed through fulfilment's charge events).
EVENTS = frozenset(
    {
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.payment_failed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
# Card for everyone; iDEAL pays the first instalment and sets up SEPA Direct Debit for the rest
# (Stripe: "Set up a subscription with iDEAL and SEPA Direct Debit").
PLAN_PAYMENT_METHODS = ["card", "ideal"]
# Worst first: a lost dispute or a refund of any instalment ends the plan.
_CHARGE_ORDER = [
    OrderStatus.dispute_lost,
    OrderStatus.refunded,
    OrderStatus.disputed,
    OrderStatus.paid,
]


# --- the offer -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """What a course's plan costs: N instalments of `each`, the first `first`."""

    instalments: int
    each: int
    first: int

    @property
    def total(self) -> int:
        return self.first + self.each * (self.instalments - 1)


def offer(course: Course) -> Offer | None:
    """The course's payment plan, or None when it is paid at once only."""
    n = course.plan_instalments
    if course.is_free or n < INSTALMENTS[0]:
        return None
    if course.plan_instalment_cents:
        each = course.plan_instalment_cents
        return Offer(n, each, each)
    each = course.price_cents // n
    # The remainder goes on the first instalment, so the total is the price to the cent.
    return Offer(n, each, each + course.price_cents - each * n)


def parse_plan(price_cents: int, instalments: str, each: int | None) -> tuple[int, int | None]:
    """The studio's plan fields (N as typed, the instalment's amount already read as cents):
    (N, amount or None), N 0 for no plan; FormError naming the field otherwise."""
    typed = instalments.strip()
    if typed in {"", "0", "1"}:
        return 0, None
    if (
        not typed.isascii()
        or not typed.isdigit()
        or not (INSTALMENTS[0] <= int(typed) <= INSTALMENTS[1])
    ):
        raise FormError(
            {
                "plan_instalments": _(
                    "Enter a number of instalments from %(min)s to %(max)s, or leave it empty.",
                    min=INSTALMENTS[0],
                    max=INSTALMENTS[1],
                )
            }
        )
    if price_cents == 0:
        raise FormError(
            {"plan_instalments": _("A free course has no payment plan. Set a price first.")}
        )
    n = int(typed)
    smallest = _("Each instalment must be at least %(min)s.", min=format_price(MINIMUM_CENTS))
    if each is None:
        if price_cents // n < MINIMUM_CENTS:
            raise FormError({"plan_instalments": smallest})
        return n, None
    if each < MINIMUM_CENTS:
        raise FormError({"plan_instalment": smallest})
    if each * n < price_cents:
        raise FormError(
            {
                "plan_instalment": _(
                    "%(n)s instalments of this amount come to less than the price.", n=n
                )
            }
        )
    return n, each


def checkout_params(params: dict[str, Any], *, course: Course) -> dict[str, Any]:
    """A Checkout Session's parameters turned into a subscription of N monthly instalments."""
    plan = offer(course)
    if plan is None:
        raise Conflict(_("This course cannot be paid in instalments."))
    # With Stripe Tax on, the prices include VAT (tax_behavior=inclusive), instalments too.
    taxed = {
        key: value
        for key, value in params["line_items"][0]["price_data"].items()
        if key == "tax_behavior"
    }
    items: list[dict[str, Any]] = [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": plan.each,
                "recurring": {"interval": "month"},
                "product_data": {"name": course.title},
                **taxed,
            },
            "quantity": 1,
        }
    ]
    if plan.first != plan.each:
        # Stripe adds one-time prices to the first invoice of a subscription.
        items.append(
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": plan.first - plan.each,
                    "product_data": {"name": f"{course.title} (1)"},
                    **taxed,
                },
                "quantity": 1,
            }
        )
    metadata = dict(params["metadata"]) | {"instalments": str(plan.instalments)}
    changed = dict(params)
    changed.update(
        mode="subscription",
        line_items=items,
        payment_method_types=PLAN_PAYMENT_METHODS,
        metadata=metadata,
        subscription_data={"metadata": metadata},
    )
    return changed


# --- what Stripe says ------------------------------------------------------------------------


@dataclass(frozen=True)
class PaidInstalment:
    """One paid Stripe invoice of a plan: the `number`-th instalment, and the charge that paid
    it (its refunds and dispute decide its credit notes)."""

    stripe_invoice_id: str
    number: int
    amount_cents: int
    payment_method: str
    charge: fulfilment.ChargeFacts | None


@dataclass(frozen=True)
class PlanFacts:
    """A plan's subscription as Stripe reports it now."""

    subscription_id: str
    customer_id: str
    status: str  # Stripe's: active, past_due, canceled, …
    instalments: int
    user_id: int | None
    course_id: int | None
    paid_count: int
    # The overdue invoice (charged and failed, still open) and the page where she pays it.
    open_invoice_id: str | None
    open_invoice_url: str | None
    # The worst state any of the plan's charges stands for (refunded, a dispute, …).
    charge_state: OrderStatus
    # Every paid instalment, first to last, with its charge (each is invoiced on its own).
    paid: tuple[PaidInstalment, ...] = ()

    @property
    def ended(self) -> bool:
        return self.charge_state in {OrderStatus.refunded, OrderStatus.dispute_lost}


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def read(
    settings: Settings, *, subscription_id: str | None = None, customer_id: str | None = None
) -> PlanFacts | None:
    """The plan of a subscription (or of a customer's Kern subscription) as Stripe reports it;
    None for anything that is not one of Kern's plans. Also finishes at Stripe what follows
    from it: the subscription stops billing after the Nth payment, and ends at once when a
    payment was refunded or a dispute lost."""
    import stripe  # noqa: PLC0415 (loaded on first use: see stripe_client)

    api = stripe_client.client(settings)
    try:
        if subscription_id is None:
            if customer_id is None:
                return None
            found = stripe_client.call(
                "listing subscriptions",
                lambda: api.v1.subscriptions.list({"customer": customer_id, "status": "all"}),
            ).to_dict()["data"]
            ours = [sub for sub in found if (sub.get("metadata") or {}).get("instalments")]
            if not ours:
                return None
            sub: dict[str, Any] = ours[0]
        else:
            sub = stripe_client.call(
                "reading a subscription",
                lambda: api.v1.subscriptions.retrieve(subscription_id),
            ).to_dict()
    except stripe.InvalidRequestError as error:
        if stripe_client.is_missing(error):
            return None
        raise
    metadata = sub.get("metadata") or {}
    instalments = _int(metadata.get("instalments"))
    if instalments is None:
        return None  # a subscription Kern did not start
    sub_id, customer = str(sub["id"]), str(sub["customer"])
    invoices = stripe_client.call(
        "listing invoices",
        lambda: api.v1.invoices.list(
            {"subscription": sub_id, "limit": 100, "expand": ["data.payments"]}
        ),
    ).to_dict()["data"]
    charges = stripe_client.call(
        "listing charges",
        lambda: api.v1.charges.list(
            {"customer": customer, "limit": 100, "expand": ["data.refunds", "data.dispute"]}
        ),
    ).to_dict()["data"]
    paid = [invoice for invoice in invoices if invoice.get("status") == "paid"]
    overdue = [
        invoice
        for invoice in invoices
        if invoice.get("status") == "open" and invoice.get("attempted")
    ]
    states = {
        fulfilment.ChargeFacts.of(charge).state
        for charge in charges
        if charge.get("status") == "succeeded"
    }
    charge_state = next((state for state in _CHARGE_ORDER if state in states), OrderStatus.paid)
    facts = PlanFacts(
        subscription_id=sub_id,
        customer_id=customer,
        status=str(sub.get("status") or ""),
        instalments=instalments,
        user_id=_int(metadata.get("user_id")),
        course_id=_int(metadata.get("course_id")),
        paid_count=len(paid),
        open_invoice_id=str(overdue[0]["id"]) if overdue else None,
        open_invoice_url=str(overdue[0].get("hosted_invoice_url") or "") or None
        if overdue
        else None,
        charge_state=charge_state,
        paid=_paid_instalments(invoices, charges),
    )
    _finish_at_stripe(settings, facts, cancel_at_period_end=bool(sub.get("cancel_at_period_end")))
    return facts


def _paid_instalments(
    invoices: list[dict[str, Any]], charges: list[dict[str, Any]]
) -> tuple[PaidInstalment, ...]:
    """The paid invoices in the order they were made, numbered as instalments (an invoice that
    is still open counts too: paid later, it keeps its place)."""
    by_intent = {str(charge.get("payment_intent") or ""): charge for charge in charges}
    # Stripe lists the newest first; `created` orders them (ties keep the listing's order).
    made = [
        invoice
        for _, invoice in sorted(
            enumerate(invoices), key=lambda pair: (int(pair[1].get("created") or 0), -pair[0])
        )
    ]
    counted = [invoice for invoice in made if invoice.get("status") in {"paid", "open"}]
    found = []
    for number, invoice in enumerate(counted, start=1):
        if invoice.get("status") != "paid":
            continue
        payments = (invoice.get("payments") or {}).get("data") or []
        intents = [
            str((payment.get("payment") or {}).get("payment_intent") or "")
            for payment in payments
            if payment.get("status") == "paid"
        ]
        charge = next((by_intent[intent] for intent in intents if intent in by_intent), None)
        details = charge.get("payment_method_details") if charge else None
        found.append(
            PaidInstalment(
                stripe_invoice_id=str(invoice["id"]),
                number=number,
                amount_cents=int(invoice.get("amount_paid") or 0),
                payment_method=payment_method_text(details)[:120],
                charge=fulfilment.ChargeFacts.of(charge) if charge else None,
            )
        )
    return tuple(found)


def _finish_at_stripe(settings: Settings, facts: PlanFacts, *, cancel_at_period_end: bool) -> None:
    """Stop the subscription when the plan is paid in full, or ended by a refund or dispute."""
    if facts.status in {"canceled", "incomplete_expired"}:
        return
    api = stripe_client.client(settings)
    if facts.ended:
        stripe_client.call(
            "ending a subscription", lambda: api.v1.subscriptions.cancel(facts.subscription_id)
        )
        log.info("plan %s ended at Stripe after a refund or dispute", facts.subscription_id)
    elif facts.paid_count >= facts.instalments and not cancel_at_period_end:
        stripe_client.call(
            "stopping a subscription after its last instalment",
            lambda: api.v1.subscriptions.update(
                facts.subscription_id, {"cancel_at_period_end": True}
            ),
        )


def subscription_of(event_type: str, obj: dict[str, Any]) -> str | None:
    """The subscription an invoice or subscription event is about."""
    if obj.get("object") == "subscription":
        value = obj.get("id")
    else:
        details = (obj.get("parent") or {}).get("subscription_details") or {}
        value = details.get("subscription")
    return value if isinstance(value, str) and value else None


def change_for(
    settings: Settings, event_type: str, obj: dict[str, Any]
) -> Callable[[Session], str]:
    """What an invoice or subscription event changes: read from Stripe now, applied later."""
    subscription_id = subscription_of(event_type, obj)
    facts = read(settings, subscription_id=subscription_id) if subscription_id else None
    if facts is None:
        return lambda session: "not a plan"
    return lambda session: apply(session, settings, facts)


# --- Kern's records --------------------------------------------------------------------------


def find(session: Session, *, subscription_id: str) -> PaymentPlan | None:
    return session.exec(
        select(PaymentPlan)
        .where(PaymentPlan.stripe_subscription_id == subscription_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def start(session: Session, settings: Settings, *, order: Order, facts: PlanFacts) -> str:
    """A paid checkout's plan, stored once, then brought in line with Stripe."""
    if find(session, subscription_id=facts.subscription_id) is None:
        try:
            with session.begin_nested():
                session.add(
                    PaymentPlan(
                        order_id=id_of(order),
                        user_id=order.user_id,
                        course_id=order.course_id,
                        stripe_subscription_id=facts.subscription_id,
                        stripe_customer_id=facts.customer_id,
                        instalments=facts.instalments,
                    )
                )
                session.flush()
        except IntegrityError:
            pass  # stored a moment ago by the success page or another delivery
    return apply(session, settings, facts)


def apply(session: Session, settings: Settings, facts: PlanFacts) -> str:
    """Bring the plan, its order, its invoices and her access in line with what Stripe says."""
    plan = find(session, subscription_id=facts.subscription_id)
    if plan is None:
        # Its checkout is not fulfilled yet; fulfilling it reads all of this again.
        return "no plan"
    order = session.get(Order, plan.order_id)
    if order is None or order.status not in fulfilment.AFTER_PAYMENT:
        return "no paid order"
    # Documents first (also for an ended plan: a later refund is credited too), so the refund
    # mail a move below may queue carries the credit note.
    _documents(session, settings, plan, order, facts)
    if plan.status == PlanStatus.ended:
        return "plan ended"
    now = utcnow()
    plan.paid_count = max(plan.paid_count, facts.paid_count)
    plan.updated_at = now
    fulfilment.move(session, settings, order, facts.charge_state)
    if facts.ended:
        plan.status = PlanStatus.ended.value
        plan.pay_url = None
    elif facts.charge_state == OrderStatus.disputed:
        pass  # access is paused by the order's dispute, and comes back if it is won
    elif plan.paid_count >= plan.instalments:
        plan.status = PlanStatus.completed.value
        _current(session, plan)
    elif facts.open_invoice_id is not None and plan.status != PlanStatus.cancelled:
        if plan.status == PlanStatus.active:
            plan.status = PlanStatus.past_due.value
            plan.past_due_since = now
        plan.pay_url = facts.open_invoice_url
        _mail_failed(session, settings, plan, order, invoice_id=facts.open_invoice_id)
    elif facts.status == "canceled":
        # Stopped before it was paid in full (by the practice, or Stripe after its retries).
        plan.status = PlanStatus.cancelled.value
        _set_access(session, plan, {EnrolmentStatus.active}, EnrolmentStatus.paused)
    elif plan.status != PlanStatus.cancelled:
        plan.status = PlanStatus.active.value
        _current(session, plan)
    session.add(plan)
    session.flush()
    return f"plan {plan.status}"


def _documents(
    session: Session, settings: Settings, plan: PaymentPlan, order: Order, facts: PlanFacts
) -> None:
    """An invoice for every paid instalment after the first (the checkout invoiced that one),
    mailed to her; a credit note for what was refunded of each, or lost in a dispute."""
    for paid in facts.paid:
        if paid.number > 1:
            instalment = invoices.Instalment(
                number=paid.number,
                of=plan.instalments,
                stripe_invoice_id=paid.stripe_invoice_id,
                amount_cents=paid.amount_cents,
                payment_method=paid.payment_method,
            )
            invoice = invoices.issue_instalment(
                session, settings, order=order, instalment=instalment
            )
            if invoice is not None:
                _mail_paid(session, settings, plan, order, invoice=invoice, instalment=instalment)
        if paid.charge is not None:
            invoices.settle(
                session, order=order, kept_cents=paid.charge.kept_cents,
                stripe_invoice_id=paid.stripe_invoice_id,
            )  # fmt: skip


def _mail_paid(
    session: Session,
    settings: Settings,
    plan: PaymentPlan,
    order: Order,
    *,
    invoice: Invoice,
    instalment: invoices.Instalment,
) -> None:
    """ "We received instalment k of N", with its invoice: once per instalment."""
    user = session.get(User, plan.user_id) if plan.user_id is not None else None
    if user is None:
        return
    queue(
        session,
        settings,
        user=user,
        subject=N_("We received your instalment for %(title)s"),
        template="plan_instalment_paid",
        subject_values={"title": order.course_title},
        context={"order": order, "invoice": invoice, "instalment": instalment},
        action=N_("Open Kern"),
        key=f"plan_instalment_paid:{instalment.stripe_invoice_id}",
        attachment=invoice_pdf.attachment(invoice, language=user.language),
    )


def _current(session: Session, plan: PaymentPlan) -> None:
    """Every instalment due is paid: nothing overdue, and her access back if it was paused."""
    plan.past_due_since = None
    plan.pay_url = None
    _set_access(session, plan, {EnrolmentStatus.paused}, EnrolmentStatus.active)


def _set_access(
    session: Session, plan: PaymentPlan, when: set[EnrolmentStatus], to: EnrolmentStatus
) -> None:
    enrolment = enrolment_service.find(session, user_id=plan.user_id, course_id=plan.course_id)
    if enrolment is not None and enrolment.status in when:
        enrolment_service.set_status(session, enrolment=enrolment, status=to)


def _mail_failed(
    session: Session, settings: Settings, plan: PaymentPlan, order: Order, *, invoice_id: str
) -> None:
    """A friendly note with the page to pay the instalment: once per invoice."""
    user = session.get(User, plan.user_id) if plan.user_id is not None else None
    if user is None:
        return
    queue(
        session,
        settings,
        user=user,
        subject=N_("An instalment for %(title)s did not go through"),
        template="plan_payment_failed",
        subject_values={"title": order.course_title},
        context={
            "order": order,
            "pay_url": plan.pay_url,
            "grace_days": settings.plan_grace_days,
        },
        action=N_("Pay the instalment"),
        key=f"plan_payment_failed:{invoice_id}",
    )


def pause_overdue(session: Session, settings: Settings, *, now: datetime) -> int:
    """Pause the access of plans whose instalment is overdue past the grace period; how many."""
    cutoff = now - timedelta(days=settings.plan_grace_days)
    plans = session.exec(
        select(PaymentPlan)
        .where(
            PaymentPlan.status == PlanStatus.past_due,
            col(PaymentPlan.past_due_since) <= cutoff,
        )
        .with_for_update()
    ).all()
    for plan in plans:
        plan.status = PlanStatus.paused.value
        plan.updated_at = now
        session.add(plan)
        _set_access(session, plan, {EnrolmentStatus.active}, EnrolmentStatus.paused)
    session.flush()
    return 0  # no mail queued: the failed-payment mail already said what happens


def pay_url(session: Session, *, user: User, course: Course) -> str | None:
    """Where she pays her overdue instalment for a course, if one is overdue."""
    return session.exec(
        select(PaymentPlan.pay_url).where(
            PaymentPlan.user_id == user.id,
            PaymentPlan.course_id == course.id,
            col(PaymentPlan.pay_url).is_not(None),
        )
    ).first()


# --- her data --------------------------------------------------------------------------------


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her payment plans, for her data export."""
    plans = session.exec(
        select(PaymentPlan).where(PaymentPlan.user_id == user.id).order_by(col(PaymentPlan.id))
    ).all()
    return [
        {
            "order_id": plan.order_id,
            "instalments": plan.instalments,
            "paid": plan.paid_count,
            "status": plan.status,
            "created_at": plan.created_at.isoformat(),
        }
        for plan in plans
    ]


def erase(session: Session, *, user: User) -> None:
    """Detach her plans from her, as her orders are: the payment records stay."""
    for plan in session.exec(select(PaymentPlan).where(PaymentPlan.user_id == user.id)).all():
        plan.user_id = None
        session.add(plan)
    session.flush()
