"""Discount codes in the payment tests: one made as the studio makes it, and a purchase with it."""

from api.accounts.models import User
from api.config import Settings
from api.payments import discounts
from api.payments.billing_models import DiscountCode
from api.payments.discounts import CodeForm
from tests.factories import WAIVER, post_form
from tests.payments.conftest import Shop, stripe_page_of


def make_code(shop: Shop, settings: Settings, **fields: str) -> DiscountCode:
    """A code of the course's instructor (€ 10 off ZOMER10 unless `fields` say otherwise)."""
    instructor = shop.session.get(User, shop.course.instructor_id)
    assert instructor is not None
    form = CodeForm(**({"code": "ZOMER10", "kind": "amount", "value": "10"} | fields))
    return discounts.create(shop.session, settings, form, instructor=instructor)


def buy_with(shop: Shop, code: str) -> str:
    """She types the code and goes to Stripe; the Checkout Session's id."""
    response = post_form(
        shop.client, f"/courses/{shop.course.slug}/checkout", {"code": code} | WAIVER
    )
    return stripe_page_of(response).rsplit("/", 1)[1]
