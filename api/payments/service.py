"""Orders as the pages and the account read them, and whether paying online is possible.

Starting a checkout is in `checkout.py`, turning Stripe's answer into access in `fulfilment.py`,
and the webhook in `webhooks.py`; this module holds what they and the pages share.
"""

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import Course
from api.config import Settings
from api.errors import NotFound
from api.i18n import N_
from api.i18n import gettext as _
from api.payments.models import Order, OrderStatus

# Orders of the demo checkout carry this instead of a Stripe Checkout Session id.
DEMO_PREFIX = "demo_cs_"

# The status of an order in words, for the learner (translated where shown).
STATUS_LABELS = {
    OrderStatus.pending: N_("Awaiting payment"),
    OrderStatus.paid: N_("Paid"),
    OrderStatus.failed: N_("Payment failed"),
    OrderStatus.expired: N_("Not completed"),
    OrderStatus.refunded: N_("Refunded"),
    OrderStatus.disputed: N_("Payment disputed, access paused"),
    OrderStatus.dispute_lost: N_("Payment reversed"),
}


def readiness(settings: Settings) -> str:
    """How payments stand, for /readyz."""
    # Settings.payments_available / demo_checkout decide; this only puts it in words.
    if settings.stripe_configured:
        return "ok" if settings.stripe_webhook_secret else "degraded: STRIPE_WEBHOOK_SECRET not set"
    if settings.demo_checkout:
        return "demo: STRIPE_SECRET_KEY not set"
    return "disabled: STRIPE_SECRET_KEY not set"


def is_demo(checkout_session_id: str) -> bool:
    return checkout_session_id.startswith(DEMO_PREFIX)


def claim_checkout(session: Session, *, checkout_session_id: str) -> None:
    """Take the lock on a checkout's order before reading it, so fulfilments take turns."""
    # A write that changes nothing: on PostgreSQL it locks the row (as FOR UPDATE would); on
    # SQLite it takes the database's write lock, waiting for a concurrent fulfilment to commit.
    # SQLite must take that lock before reading what it will change: a transaction that read
    # first cannot write once another has committed, and fails instead of waiting.
    session.execute(
        update(Order)
        .where(col(Order.stripe_checkout_session_id) == checkout_session_id)
        .values(updated_at=Order.updated_at)
        .execution_options(synchronize_session=False)
    )


def find_by_checkout(session: Session, *, checkout_session_id: str) -> Order | None:
    """The order of a Checkout Session (or demo checkout), locked for update on PostgreSQL."""
    # FOR UPDATE makes the success page and a webhook that fulfil the same order take turns;
    # SQLite has no row locks and serialises writers instead (SQLAlchemy leaves the clause out).
    # populate_existing: a row this session loaded before is read again, not taken from memory.
    return session.exec(
        select(Order)
        .where(Order.stripe_checkout_session_id == checkout_session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def demo_checkout(
    session: Session, settings: Settings, *, checkout_id: str, user: User
) -> tuple[Order, Course]:
    """Her own demo checkout and its course; NotFound for anything else, and outside the demo."""
    order = (
        find_by_checkout(session, checkout_session_id=checkout_id)
        if settings.demo_checkout and is_demo(checkout_id)
        else None
    )
    course = session.get(Course, order.course_id) if order and order.course_id else None
    if order is None or course is None or order.user_id != user.id:
        raise NotFound(_("We could not find this payment."))
    return order, course


def find_by_payment(
    session: Session, *, payment_intent_id: str | None, charge_id: str | None
) -> Order | None:
    """The order a payment belongs to, by payment intent or charge, locked for update."""
    conditions = []
    if payment_intent_id:
        conditions.append(col(Order.stripe_payment_intent_id) == payment_intent_id)
    if charge_id:
        conditions.append(col(Order.stripe_charge_id) == charge_id)
    if not conditions:
        return None
    return session.exec(
        select(Order)
        .where(conditions[0] if len(conditions) == 1 else conditions[0] | conditions[1])
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def orders_of(session: Session, *, user: User) -> list[Order]:
    """The learner's orders, newest first, leaving out checkouts she never completed."""
    return list(
        session.exec(
            select(Order)
            .where(
                Order.user_id == user.id,
                col(Order.status).not_in([OrderStatus.pending, OrderStatus.expired]),
            )
            .order_by(col(Order.created_at).desc(), col(Order.id).desc())
        ).all()
    )


def export_orders(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Every order of the learner, as JSON-ready data for her data export."""
    orders = session.exec(
        select(Order).where(Order.user_id == user.id).order_by(col(Order.id))
    ).all()
    return [
        {
            "number": order.number,
            "course": order.course_title,
            "status": order.status,
            "currency": order.currency,
            "subtotal_cents": order.subtotal_cents,
            "discount_cents": order.discount_cents,
            "amount_cents": order.amount_cents,
            "created_at": order.created_at.isoformat(),
            "paid_at": order.paid_at and order.paid_at.isoformat(),
            "refunded_at": order.refunded_at and order.refunded_at.isoformat(),
        }
        for order in orders
    ]


def erase_orders(session: Session, *, user: User) -> None:
    """Detach her orders from her: the law requires the payment records, not her name on them."""
    # The foreign key does this too (ON DELETE SET NULL); saying it here keeps the erasure
    # complete on a database that does not enforce foreign keys.
    session.execute(update(Order).where(col(Order.user_id) == user.id).values(user_id=None))


def return_page(session: Session, *, order: Order) -> dict[str, Any]:
    """What the success page shows for an order: its state, course and first lesson."""
    course = session.get(Course, order.course_id) if order.course_id is not None else None
    first_lesson = None
    if course is not None and order.status == OrderStatus.paid:
        modules = catalog_service.modules_of(session, course)
        first_lesson = next((lesson for part in modules for lesson in part.lessons), None)
    return {"state": order.status, "order": order, "course": course, "first_lesson": first_lesson}
