"""Starting a purchase: a Stripe Checkout Session (or the demo checkout) and a pending order."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.accounts.models import User
from api.catalog import service as catalog_service
from api.catalog.models import Course
from api.cohorts import seats as cohort_seats
from api.cohorts.models import CohortSeat
from api.config import Settings
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentStatus
from api.errors import AppError, Conflict, FormError
from api.i18n import LOCALES
from api.i18n import gettext as _
from api.payments import discounts, plans, service, stripe_client
from api.payments.billing_models import DiscountCode
from api.payments.models import Order, OrderStatus
from api.terms.agreement import Agreement, agree

if TYPE_CHECKING:
    import stripe

PAYMENT_METHODS = ["ideal", "card", "bancontact"]
# A double click, a reload of the form or two tabs within this window get the same Checkout
# Session; after it, a new attempt gets a new one (the old one expires unpaid at Stripe).
IDEMPOTENCY_WINDOW_SECONDS = 10 * 60


class PaymentsDisabled(AppError):
    """Production without Stripe settings: paid courses cannot be bought online."""

    status_code = 503
    code = "payments_disabled"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Buying courses online is not possible at the moment. Please try again later "
                "or contact your therapist."
            )
        )


class NotPaid(AppError):
    """Checkout is for paid courses; a free one is joined on its page."""

    status_code = 409
    code = "not_paid"


def refuse_what_the_demo_cannot(settings: Settings, *, in_instalments: bool, code: str) -> None:
    """The demo checkout (no Stripe) takes the price at once: a chosen plan or a typed code is
    refused with a plain message, never quietly dropped (FormError, before anything is
    written)."""
    if not settings.demo_checkout:
        return
    errors = {}
    if in_instalments:
        errors["pay"] = _(
            "Paying in instalments is only possible with online payment, which is not set up "
            "here. Choose to pay at once."
        )
    if code.strip():
        errors["code"] = _(
            "Discount codes only work with online payment, which is not set up here. Leave the "
            "field empty."
        )
    if errors:
        raise FormError(errors)


def start_checkout(
    session: Session,
    settings: Settings,
    *,
    user: User,
    course: Course,
    waiver: bool,
    in_instalments: bool = False,
    code: DiscountCode | None = None,
    cohort_id: int | None = None,
) -> str:
    """Where to send the buyer: Stripe's payment page, the demo checkout, or the course itself.

    `waiver`: she ticked the box asking for access to start now (FormError without it), for a
    payment at once and for a payment plan alike. `in_instalments`: the course's payment plan
    (api/payments/plans.py); `code`: a discount code already checked for this course
    (api/payments/discounts.py); `cohort_id`: the group she chose, in a course that runs in
    cohorts, where a place is held for her (api/cohorts/seats.py) that the checkout pays for.
    The waiver comes first: a refused form is answered (and its transaction committed) without
    a checkout, so it may not hold a place either."""
    if not course.is_published:
        raise Conflict(_("This course is not open for enrolment."))
    if course.is_free:
        raise NotPaid(_("This course is free: enrol on the course page, no payment needed."))
    course_url = f"/courses/{course.slug}"
    # She (or, for its instructor and admins, her role) already has access: no second charge.
    if catalog_service.can_preview(user, course):
        return course_url
    enrolment = enrolment_service.find(session, user_id=user.id, course_id=course.id)
    if enrolment is not None:
        if enrolment.is_active:
            return course_url
        # Paying must not undo what the instructor ended, nor open a second payment while
        # the first is disputed (after a refund she may buy again).
        if enrolment.status == EnrolmentStatus.revoked:
            raise Conflict(
                _("Your access to this course was ended. Please contact your therapist.")
            )
        if enrolment.status == EnrolmentStatus.disputed:
            raise Conflict(_("Your access is paused while a payment dispute is open."))
        if enrolment.status == EnrolmentStatus.paused:
            raise Conflict(
                _("Your access is paused until your open instalment is paid. Pay it to go on.")
            )
    now = utcnow()
    agreed = agree(session, waiver=waiver, now=now)
    seat = cohort_seats.hold(session, user=user, course=course, cohort_id=cohort_id, now=now)
    if settings.demo_checkout:
        demo = _demo_order(session, user=user, course=course, agreed=agreed)
        _pays_for(session, seat, demo.stripe_checkout_session_id)
        return f"/checkout/demo/{demo.stripe_checkout_session_id}"
    if not settings.stripe_configured:
        raise PaymentsDisabled
    params = _with_options(
        _session_params(settings, user=user, course=course, agreed=agreed),
        course=course,
        in_instalments=in_instalments,
        code=code,
    )
    _for_seat(params, seat)
    key = idempotency_key(session, user=user, course=course, params=params)
    # Stripe may take seconds to answer, or time out. What was read above needs no lock while
    # it does, so the transaction ends here rather than hold a database connection and, on
    # SQLite, the one write lock this request took: every other learner's write would wait for
    # it and give up after a few seconds. The pending order is stored in a new transaction.
    session.commit()
    checkout = _create_session(settings, params=params, key=key)
    order = _store_pending(
        session, checkout_session_id=checkout.id, user=user, course=course, agreed=agreed
    )
    if code is not None:
        discounts.record(session, order=order, code=code)
    _pays_for(session, seat, checkout.id)
    if not checkout.url:  # pragma: no cover - Stripe always returns the URL of a hosted page
        raise stripe_client.PaymentsUnavailable
    return str(checkout.url)


def _session_params(
    settings: Settings, *, user: User, course: Course, agreed: Agreement
) -> dict[str, Any]:
    """What Stripe needs to show the payment page, and what brings the buyer back."""
    params: dict[str, Any] = {
        # The currency is the line item's (euros: iDEAL and Bancontact take nothing else).
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": course.price_cents,
                    "product_data": {"name": course.title},
                },
                "quantity": 1,
            }
        ],
        "payment_method_types": PAYMENT_METHODS,
        "customer_email": user.email,
        "client_reference_id": str(user.id),
        # The webhook finds the buyer and the course here even when the order row was never
        # stored (the database failed after Stripe created the session).
        "metadata": {
            "user_id": str(user.id),
            "course_id": str(course.id),
            **agreed.metadata(),
        },
        # Codes are typed on Kern's page, which checks the course they are for (Stripe's own
        # field would take any of the practice's codes for any course).
        "locale": user.language if user.language in LOCALES else "nl",
        "success_url": f"{settings.base_url}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{settings.base_url}/courses/{course.slug}?checkout=cancelled",
    }
    if settings.stripe_tax:
        # Stripe Tax works out the VAT of her country; the price stays what the page showed.
        params["automatic_tax"] = {"enabled": True}
        params["line_items"][0]["price_data"]["tax_behavior"] = "inclusive"
    return params


def _pays_for(session: Session, seat: CohortSeat | None, checkout_session_id: str) -> None:
    """Tie her held place in a cohort (if any) to the checkout that pays for it."""
    if seat is not None:
        cohort_seats.attach(session, seat=seat, checkout_session_id=checkout_session_id)


def _for_seat(params: dict[str, Any], seat: CohortSeat | None) -> None:
    """A place held in a cohort is held as long as the session can be paid: Stripe ends it then."""
    if seat is not None:
        params["expires_at"] = int(cohort_seats.checkout_expires_at().timestamp())


def _with_options(
    params: dict[str, Any], *, course: Course, in_instalments: bool, code: DiscountCode | None
) -> dict[str, Any]:
    """The session's parameters with her discount code and her choice of a payment plan."""
    if code is not None:
        params["discounts"] = [{"promotion_code": code.stripe_promotion_code_id}]
    return plans.checkout_params(params, course=course) if in_instalments else params


def idempotency_key(session: Session, *, user: User, course: Course, params: dict[str, Any]) -> str:
    """Kern's own key for creating a Checkout Session: the same purchase asked twice, once.

    It is derived from the request itself (buyer, course and its version, every parameter sent)
    plus a 10-minute window and the number of her earlier orders for this course that have
    ended (paid, failed, expired, refunded): a double click or a reload of the form within the
    window is answered by Stripe with the same session, while a changed price or title, a new
    window, or a new attempt after a failed payment gets a fresh one. Since the parameters are
    part of the key, Stripe never sees one key with different parameters (which it refuses).
    """
    ended = session.exec(
        select(func.count())
        .select_from(Order)
        .where(
            Order.user_id == user.id,
            Order.course_id == course.id,
            col(Order.status) != OrderStatus.pending,
        )
    ).one()
    window = int(time.time() // IDEMPOTENCY_WINDOW_SECONDS)
    material = json.dumps(
        [user.id, course.id, course.version, ended, window, params], sort_keys=True
    )
    return "kern-checkout-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def _create_session(
    settings: Settings, *, params: dict[str, Any], key: str
) -> stripe.checkout.Session:
    api = stripe_client.client(settings)
    return stripe_client.call(
        "creating a checkout session",
        lambda: api.v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            options={"idempotency_key": key},
        ),
    )


def _store_pending(
    session: Session, *, checkout_session_id: str, user: User, course: Course, agreed: Agreement
) -> Order:
    """The pending order of a session, stored once (a double click brings the same session)."""
    existing = service.find_by_checkout(session, checkout_session_id=checkout_session_id)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            order = Order(
                user_id=user.id,
                course_id=course.id,
                course_title=course.title,
                subtotal_cents=course.price_cents,
                amount_cents=course.price_cents,
                stripe_checkout_session_id=checkout_session_id,
                **agreed.fields(),
            )
            session.add(order)
            session.flush()
        return order
    except IntegrityError:
        # The same session was stored by a concurrent click (or its webhook) a moment ago.
        found = service.find_by_checkout(session, checkout_session_id=checkout_session_id)
        if found is None:  # pragma: no cover - the unique constraint names this row
            raise
        return found


def _demo_order(session: Session, *, user: User, course: Course, agreed: Agreement) -> Order:
    """A pending demo order; a second click reuses the one that is still open."""
    open_order = session.exec(
        select(Order).where(
            Order.user_id == user.id,
            Order.course_id == course.id,
            Order.status == OrderStatus.pending,
            Order.amount_cents == course.price_cents,
            col(Order.stripe_checkout_session_id).startswith(service.DEMO_PREFIX),
        )
    ).first()
    if open_order is not None:
        # She ticked the box again: the latest request counts.
        for name, value in agreed.fields().items():
            setattr(open_order, name, value)
        session.add(open_order)
        return open_order
    checkout_session_id = service.DEMO_PREFIX + secrets.token_urlsafe(24)
    return _store_pending(
        session, checkout_session_id=checkout_session_id, user=user, course=course, agreed=agreed
    )
