"""Discount codes: an instructor makes them in the studio, Kern keeps them as a Stripe coupon and
promotion code, and checks a code she types before it sends her to Stripe.

A percentage comes off every payment (each instalment of a plan too: the coupon lasts
`forever`); an amount comes off once (the first payment). Kern checks the course, the end date
and the uses itself, so she reads why a code does not work on Kern's own page; Stripe's
promotion code carries the same end date and maximum, so Stripe holds to them as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.db import utcnow
from api.errors import FormError, NotFound
from api.i18n import TIMEZONE, format_price
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.payments import stripe_client
from api.payments.billing_models import DiscountCode, OrderDiscount
from api.payments.models import Order
from api.studio.courses import parse_price

CODE = re.compile(r"[A-Z0-9-]{3,40}")
MAX_USES = 100_000


class CodeForm(BaseModel):
    """The studio's form for a new code, as typed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str = ""
    kind: str = "percent"  # percent | amount
    value: str = ""
    valid_until: str = ""  # yyyy-mm-dd, empty: no end
    max_uses: str = ""  # empty: no maximum
    course: str = ""  # a course id of hers, empty: all her courses

    def values(self) -> dict[str, str]:
        return self.model_dump()


@dataclass(frozen=True)
class CodeRow:
    """A code in the studio's list, with how often a paid order used it."""

    code: DiscountCode
    course_title: str | None
    uses: int

    @property
    def expired(self) -> bool:
        return self.code.valid_until is not None and self.code.valid_until < utcnow()

    @property
    def last_day(self) -> date | None:
        """The last day it works, in the Netherlands."""
        if self.code.valid_until is None:
            return None
        return (self.code.valid_until.astimezone(TIMEZONE) - timedelta(days=1)).date()


def _amount(form: CodeForm, errors: dict[str, str]) -> tuple[int | None, int | None]:
    """(percent off, cents off): one of them, or an error at `value` or `kind`."""
    if form.kind == "percent":
        typed = form.value.strip().rstrip("%").strip()
        if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= 100:
            return int(typed), None
        errors["value"] = _("Enter a whole percentage from 1 to 100.")
    elif form.kind == "amount":
        try:
            amount = parse_price(form.value)
        except FormError as exc:
            errors["value"] = next(iter(exc.fields.values()))
        else:
            if amount > 0:
                return None, amount
            errors["value"] = _("Enter an amount in euros, for example 10 or 12,50.")
    else:
        errors["kind"] = _("Choose a percentage or an amount.")
    return None, None


def _valid_until(typed: str, now: datetime, errors: dict[str, str]) -> datetime | None:
    """The end of the chosen day in the Netherlands; None for no end date."""
    if not typed.strip():
        return None
    try:
        day = date.fromisoformat(typed.strip())
    except ValueError:
        errors["valid_until"] = _("Enter a date, for example 2026-12-31.")
        return None
    end = datetime.combine(day + timedelta(days=1), time(), TIMEZONE)
    if end <= now:
        errors["valid_until"] = _("This date has passed. Choose a day from today on.")
    return end


def _max_uses(typed: str, errors: dict[str, str]) -> int | None:
    typed = typed.strip()
    if not typed:
        return None
    if typed.isascii() and typed.isdigit() and 1 <= int(typed) <= MAX_USES:
        return int(typed)
    errors["max_uses"] = _("Enter a whole number of at least 1, or leave it empty.")
    return None


def _course(
    session: Session, typed: str, amount: int | None, instructor: User, errors: dict[str, str]
) -> int | None:
    """The course the code is for (one of hers), or None for all her courses."""
    if not typed.strip():
        return None
    course = session.get(Course, int(typed)) if typed.isdigit() else None
    if course is None or course.instructor_id != instructor.id:
        errors["course"] = _("Choose one of your courses.")
        return None
    if amount is not None and amount > course.price_cents:
        errors["value"] = _(
            "The discount is more than the course costs (%(price)s).",
            price=format_price(course.price_cents),
        )
    return course.id


def _parse(session: Session, form: CodeForm, *, instructor: User, now: datetime) -> DiscountCode:
    """The new code's values; FormError naming every field that is not right."""
    errors: dict[str, str] = {}
    code = form.code.strip().upper()
    if not CODE.fullmatch(code):
        errors["code"] = _("Use 3 to 40 letters, digits or hyphens, for example ZOMER25.")
    elif session.exec(select(DiscountCode.id).where(DiscountCode.code == code)).first():
        errors["code"] = _("This code is in use already. Choose another one.")
    percent, amount = _amount(form, errors)
    valid_until = _valid_until(form.valid_until, now, errors)
    max_uses = _max_uses(form.max_uses, errors)
    course_id = _course(session, form.course, amount, instructor, errors)
    if errors:
        raise FormError(errors)
    return DiscountCode(
        instructor_id=id_of(instructor),
        course_id=course_id,
        code=code,
        percent_off=percent,
        amount_off_cents=amount,
        valid_until=valid_until,
        max_uses=max_uses,
        stripe_coupon_id="",
        stripe_promotion_code_id="",
    )


def create(
    session: Session, settings: Settings, form: CodeForm, *, instructor: User
) -> DiscountCode:
    """Check the form, make the coupon and promotion code at Stripe, then store the code."""
    now = utcnow()
    discount = _parse(session, form, instructor=instructor, now=now)
    if not settings.stripe_configured:
        raise FormError({"code": _("Discount codes need online payments (Stripe) to be set up.")})
    api = stripe_client.client(settings)
    coupon_params: dict[str, object] = {"name": discount.code[:40], "metadata": {"kern": "1"}}
    if discount.percent_off is not None:
        coupon_params |= {"percent_off": discount.percent_off, "duration": "forever"}
    else:
        coupon_params |= {
            "amount_off": discount.amount_off_cents,
            "currency": "eur",
            "duration": "once",
        }
    # Stripe is asked before the row is stored; the transaction that read above ends first
    # (see checkout.start_checkout for why).
    session.commit()
    coupon = stripe_client.call(
        "creating a coupon",
        lambda: api.v1.coupons.create(coupon_params),  # type: ignore[arg-type]
    )
    promo_params: dict[str, object] = {
        "promotion": {"type": "coupon", "coupon": coupon.id},
        "code": discount.code,
    }
    if discount.valid_until is not None:
        promo_params["expires_at"] = int(discount.valid_until.timestamp())
    if discount.max_uses is not None:
        promo_params["max_redemptions"] = discount.max_uses
    promo = stripe_client.call(
        "creating a promotion code",
        lambda: api.v1.promotion_codes.create(promo_params),  # type: ignore[arg-type]
    )
    discount.stripe_coupon_id = coupon.id
    discount.stripe_promotion_code_id = promo.id
    try:
        with session.begin_nested():
            session.add(discount)
            session.flush()
    except IntegrityError as exc:
        # The same code, saved at the same moment in another tab.
        raise FormError({"code": _("This code is in use already. Choose another one.")}) from exc
    return discount


def uses(session: Session, *, code_ids: list[int]) -> dict[int, int]:
    """How many paid orders used each code."""
    if not code_ids:
        return {}
    rows = session.exec(
        select(OrderDiscount.discount_code_id, func.count())
        .join(Order, col(Order.id) == OrderDiscount.order_id)
        .where(col(OrderDiscount.discount_code_id).in_(code_ids), col(Order.paid_at).is_not(None))
        .group_by(col(OrderDiscount.discount_code_id))
    ).all()
    return dict(rows)


def paid_courses_of(session: Session, *, instructor: User) -> list[Course]:
    """Her paid courses, by title: the ones a code can be for."""
    return list(
        session.exec(
            select(Course)
            .where(Course.instructor_id == instructor.id, col(Course.price_cents) > 0)
            .order_by(col(Course.title))
        ).all()
    )


def of_instructor(session: Session, *, instructor: User) -> list[CodeRow]:
    """Her codes, newest first, with their course and uses."""
    rows = session.exec(
        select(DiscountCode, Course.title)
        .outerjoin(Course, col(Course.id) == DiscountCode.course_id)
        .where(DiscountCode.instructor_id == instructor.id)
        .order_by(col(DiscountCode.id).desc())
    ).all()
    counted = uses(session, code_ids=[code.id for code, _title in rows if code.id is not None])
    return [CodeRow(code, title, counted.get(code.id or 0, 0)) for code, title in rows]


def check(session: Session, typed: str, *, course: Course) -> DiscountCode | None:
    """The code she typed for a course, or FormError saying why it cannot be used."""
    code = typed.strip().upper()
    if not code:
        return None
    found = session.exec(select(DiscountCode).where(DiscountCode.code == code)).first()
    if found is None or found.instructor_id != course.instructor_id:
        raise FormError({"code": _("We do not know this code. Check how it is written.")})
    if not found.active:
        raise FormError({"code": _("This code has been switched off and no longer works.")})
    if found.course_id is not None and found.course_id != course.id:
        raise FormError({"code": _("This code is for another course.")})
    if found.valid_until is not None and found.valid_until <= utcnow():
        raise FormError({"code": _("This code has expired.")})
    used = uses(session, code_ids=[found.id]).get(found.id, 0) if found.id is not None else 0
    if found.max_uses is not None and used >= found.max_uses:
        raise FormError({"code": _("This code has been used up.")})
    return found


def switch_off(
    session: Session, settings: Settings, *, instructor: User, code_id: int
) -> DiscountCode:
    """Switch one of her codes off, at Stripe (its promotion code inactive) and in Kern; a code
    that is off already stays so. NotFound for anyone else's code."""
    found = session.get(DiscountCode, code_id)
    if found is None or found.instructor_id != instructor.id:
        raise NotFound(_("We could not find this discount code."))
    if not found.active:
        return found
    promotion_code_id = found.stripe_promotion_code_id
    if settings.stripe_configured and promotion_code_id:
        api = stripe_client.client(settings)
        # Stripe first, with no transaction open meanwhile (see checkout.start_checkout): a
        # failure leaves the code on in both places.
        session.commit()
        stripe_client.call(
            "switching a promotion code off",
            lambda: api.v1.promotion_codes.update(promotion_code_id, {"active": False}),
        )
        found = session.get(DiscountCode, code_id) or found
    found.active = False
    session.add(found)
    session.flush()
    return found


def record(session: Session, *, order: Order, code: DiscountCode) -> None:
    """Note the code on the order (once), so a paid order counts as a use."""
    if order.id is None or code.id is None or session.get(OrderDiscount, order.id) is not None:
        return
    session.add(OrderDiscount(order_id=order.id, discount_code_id=code.id))
    session.flush()
