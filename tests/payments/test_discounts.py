"""Discount codes: made in the studio as Stripe coupons and promotion codes, checked on Kern's
course page before she pays, counted once an order that used them is paid."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.accounts.models import Role, User
from api.config import Settings
from api.db import utcnow
from api.errors import FormError, NotFound
from api.payments import discounts
from api.payments.billing_models import DiscountCode
from tests.factories import (
    enable_totp,
    field_error,
    log_in,
    make_course,
    make_user,
    new_browser,
    post_form,
)
from tests.payments.billing import buy_with, make_code
from tests.payments.conftest import PRICE, Shop


def test_a_purchase_with_a_code_charges_the_discounted_amount_and_counts_a_use(
    shop: Shop, stripe_settings: Settings
) -> None:
    code = make_code(shop, stripe_settings, code="zomer10")
    assert code.code == "ZOMER10"
    coupon = shop.stripe.get(code.stripe_coupon_id)
    assert (coupon["amount_off"], coupon["currency"], coupon["duration"]) == (1000, "eur", "once")
    assert shop.stripe.get(code.stripe_promotion_code_id)["code"] == "ZOMER10"

    session_id = buy_with(shop, " zomer10 ")
    assert shop.stripe.get(session_id)["amount_total"] == PRICE - 1000
    assert discounts.uses(shop.session, code_ids=[code.id or 0]) == {}  # not paid yet
    shop.deliver(shop.stripe.complete(session_id))

    order = shop.order()
    assert (order.subtotal_cents, order.discount_cents, order.amount_cents) == (
        PRICE,
        1000,
        PRICE - 1000,
    )
    charge = shop.stripe.get(shop.charge_id(session_id))
    assert charge["amount"] == PRICE - 1000
    assert discounts.uses(shop.session, code_ids=[code.id or 0]) == {code.id: 1}


def test_the_studio_lists_her_codes_with_their_uses(shop: Shop, stripe_settings: Settings) -> None:
    make_code(shop, stripe_settings, kind="percent", value="25", max_uses="5")
    instructor = shop.session.get(User, shop.course.instructor_id)
    assert instructor is not None
    studio = new_browser(shop.client)
    log_in(studio, instructor, secret=enable_totp(shop.session, instructor))

    page = studio.get("/studio/discounts")

    assert page.status_code == 200
    assert "ZOMER10" in page.text
    assert "0 van de 5 keer gebruikt" in page.text  # the instructor reads Dutch
    refused = post_form(
        studio, "/studio/discounts", {"code": "X", "kind": "percent", "value": "150"}
    )
    assert refused.status_code == 422
    assert field_error(refused.text, "code")
    assert field_error(refused.text, "value")
    assert 'value="150"' in refused.text  # what she typed stays


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"kind": "percent", "value": "101"}, "value"),
        ({"kind": "percent", "value": "0"}, "value"),
        ({"kind": "amount", "value": "-5"}, "value"),
        ({"kind": "amount", "value": "60"}, "value"),  # more than the course's € 49
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"valid_until": "morgen"}, "valid_until"),
        ({"max_uses": "0"}, "max_uses"),
        ({"code": "a b"}, "code"),
    ],
)
def test_a_code_that_cannot_work_is_refused_and_nothing_is_made(
    shop: Shop, stripe_settings: Settings, fields: dict[str, str], wrong: str
) -> None:
    extra = {"course": str(shop.course.id)} if fields.get("value") == "60" else {}
    with pytest.raises(FormError) as refused:
        make_code(shop, stripe_settings, **fields, **extra)
    assert wrong in refused.value.fields
    assert shop.stripe.requests == []
    assert shop.session.exec(select(DiscountCode)).all() == []


def test_codes_she_cannot_use_are_explained_and_her_typing_kept(
    client: TestClient, shop: Shop, stripe_settings: Settings
) -> None:
    instructor = shop.session.get(User, shop.course.instructor_id)
    other_course = make_course(shop.session, price_cents=PRICE, instructor=instructor)
    other = make_code(shop, stripe_settings, code="ANDERE", course=str(other_course.id))
    expired = make_code(shop, stripe_settings, code="OUD")
    expired.valid_until = utcnow() - timedelta(minutes=1)
    shop.session.add(expired)
    once = make_code(shop, stripe_settings, code="EENMALIG", max_uses="1")
    shop.session.flush()
    assert other.course_id == other_course.id
    calls = len(shop.stripe.requests)

    answers = {}
    for typed in ("ONBEKEND", "andere", "oud"):
        response = post_form(client, f"/courses/{shop.course.slug}/checkout", {"code": typed})
        answers[typed] = (response.status_code, field_error(response.text, "code"))
        assert f'value="{typed}"' in response.text

    assert answers == {
        "ONBEKEND": (422, "We do not know this code. Check how it is written."),
        "andere": (422, "This code is for another course."),
        "oud": (422, "This code has expired."),
    }
    assert len(shop.stripe.requests) == calls  # nothing sent to Stripe
    assert shop.orders() == []

    # Used up: one paid order used it.
    shop.deliver(shop.stripe.complete(buy_with(shop, "EENMALIG")))
    assert discounts.uses(shop.session, code_ids=[once.id or 0]) == {once.id: 1}
    with pytest.raises(FormError) as used_up:
        discounts.check(shop.session, "EENMALIG", course=shop.course)
    assert set(used_up.value.fields) == {"code"}


def test_a_code_switched_off_in_the_studio_is_off_at_stripe_and_refused_at_checkout(
    shop: Shop, stripe_settings: Settings
) -> None:
    code = make_code(shop, stripe_settings)
    instructor = shop.session.get(User, shop.course.instructor_id)
    assert instructor is not None
    studio = new_browser(shop.client)
    log_in(studio, instructor, secret=enable_totp(shop.session, instructor))
    stranger = make_user(shop.session, role=Role.instructor)
    with pytest.raises(NotFound):
        discounts.switch_off(
            shop.session, stripe_settings, instructor=stranger, code_id=code.id or 0
        )

    response = post_form(studio, f"/studio/discounts/{code.id}/off")

    assert response.status_code == 303
    assert shop.stripe.get(code.stripe_promotion_code_id)["active"] is False
    page = studio.get(response.headers["location"]).text
    assert "uitgeschakeld" in page  # she reads Dutch
    assert f"/studio/discounts/{code.id}/off" not in page  # no button for a code that is off
    refused = post_form(shop.client, f"/courses/{shop.course.slug}/checkout", {"code": "zomer10"})
    assert refused.status_code == 422
    assert field_error(refused.text, "code") == (
        "This code has been switched off and no longer works."
    )
    assert shop.orders() == []
