"""Her purchases on the account page and in her data export; orders outlive the account; the
readiness check says how payments stand."""

import json

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api import i18n
from api.config import Settings
from api.payments.models import Order
from tests.factories import PASSWORD, log_in, make_user, post_form
from tests.payments.conftest import Shop, switch_to_production


def bought(shop: Shop) -> Order:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    return shop.order()


def test_the_account_page_shows_her_purchase(shop: Shop) -> None:
    order = bought(shop)

    page = shop.client.get("/account")

    assert page.status_code == 200
    purchases = page.text.split('id="purchases-title"', 1)[1].split("</section>", 1)[0]
    assert "My purchases" in page.text
    assert shop.course.title in purchases
    assert order.number in purchases
    assert "€49.00" in purchases  # English formatting, as she chose English
    assert "Paid" in purchases
    assert order.paid_at is not None
    token = i18n.current_locale.set("en")
    try:
        assert i18n.format_day(order.paid_at) in purchases
    finally:
        i18n.current_locale.reset(token)


def test_a_refunded_purchase_says_so_on_the_account_page(shop: Shop) -> None:
    session_id = shop.start()
    shop.deliver(shop.stripe.complete(session_id))
    shop.deliver(shop.stripe.refund(shop.charge_id(session_id)))

    assert "Refunded" in shop.client.get("/account").text


def test_an_unfinished_checkout_is_not_listed_as_a_purchase(shop: Shop) -> None:
    shop.start()
    assert 'id="purchases-title"' not in shop.client.get("/account").text


def test_someone_elses_purchase_is_not_on_her_account_page(shop: Shop) -> None:
    order = bought(shop)
    log_in(shop.client, make_user(shop.session))
    assert order.number not in shop.client.get("/account").text


def test_the_data_export_includes_her_orders(shop: Shop) -> None:
    order = bought(shop)

    data = json.loads(shop.client.get("/account/export").text)

    [exported] = data["orders"]
    assert exported["number"] == order.number
    assert exported["course"] == shop.course.title
    assert exported["status"] == "paid"
    assert exported["amount_cents"] == order.amount_cents
    assert exported["paid_at"] is not None
    assert "stripe" not in json.dumps(exported)


def test_deleting_the_account_keeps_the_order_without_her(shop: Shop) -> None:
    order = bought(shop)
    # She reads Kern in English (the shop fixture), so the word to type is the English one.
    response = post_form(
        shop.client, "/account/delete", {"password": PASSWORD, "confirmation": "DELETE"}
    )

    assert response.status_code == 200
    shop.session.expire_all()
    kept = shop.session.get(Order, order.id)
    assert kept is not None
    assert kept.user_id is None
    assert (kept.status, kept.amount_cents, kept.course_title) == (
        "paid",
        order.amount_cents,
        shop.course.title,
    )


def test_stripe_events_for_a_deleted_account_change_only_the_order(shop: Shop) -> None:
    session_id = shop.start()
    events = shop.stripe.complete(session_id)
    shop.deliver(events)
    deleted = post_form(
        shop.client, "/account/delete", {"password": PASSWORD, "confirmation": "DELETE"}
    )
    assert deleted.status_code == 200

    responses = shop.deliver(shop.stripe.refund(shop.charge_id(session_id)))

    assert [r.status_code for r in responses] == [200, 200, 200]
    shop.session.expire_all()
    [order] = shop.session.exec(select(Order)).all()
    assert (order.status, order.user_id) == ("refunded", None)


def test_readiness_reports_payments(client: TestClient, settings: Settings) -> None:
    assert client.get("/readyz").json()["payments"] == "demo: STRIPE_SECRET_KEY not set"


def test_readiness_reports_stripe_when_it_is_set_up(shop: Shop) -> None:
    body = shop.client.get("/readyz").json()
    assert (body["status"], body["payments"]) == ("ok", "ok")


def test_readiness_stays_ok_in_production_without_stripe_and_says_why(
    client: TestClient, session: Session, settings: Settings
) -> None:
    switch_to_production(client, settings)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["payments"] == "disabled: STRIPE_SECRET_KEY not set"
