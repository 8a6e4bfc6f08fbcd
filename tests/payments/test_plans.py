"""Paying a course in instalments: a Stripe subscription that stops after N paid invoices; a
failed instalment mails her, a grace period follows, then access pauses until she pays; a refund
ends the plan; every event is handled once and in any order."""

import html
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from api import i18n
from api.config import Settings
from api.db import utcnow
from api.enrolment.models import EnrolmentStatus
from api.errors import FormError
from api.invoices.models import Invoice
from api.invoices.vat import vat_in
from api.payments import plans
from api.payments.billing_models import PaymentPlan, PlanStatus
from api.payments.models import OrderStatus
from api.terms.waiver import WAIVER_VERSION
from tests.factories import WAIVER, post_form
from tests.payments.conftest import PRICE, Shop, stripe_page_of
from tests.stripe_server import Event

LESSON = "les-1-2"


def offer_plan(shop: Shop, instalments: int = 3) -> None:
    shop.course.plan_instalments = instalments
    shop.session.add(shop.course)
    shop.session.flush()


def start_plan(shop: Shop) -> str:
    """She chooses "in 3 termijnen" and goes to Stripe; the Checkout Session's id."""
    response = post_form(
        shop.client, f"/courses/{shop.course.slug}/checkout", {"pay": "plan"} | WAIVER
    )
    return stripe_page_of(response).rsplit("/", 1)[1]


def bought_in_instalments(shop: Shop) -> str:
    """She paid the first instalment (all its events delivered); the subscription's id."""
    offer_plan(shop)
    session_id = start_plan(shop)
    shop.deliver(shop.stripe.complete(session_id))
    return str(shop.stripe.get(session_id)["subscription"])


def plan(shop: Shop) -> PaymentPlan:
    shop.session.expire_all()
    [found] = shop.session.exec(select(PaymentPlan)).all()
    return found


def lesson(shop: Shop) -> httpx.Response:
    response: httpx.Response = shop.client.get(f"/courses/{shop.course.slug}/lessons/{LESSON}")
    return response


def invoices(shop: Shop, subscription: str) -> list[dict[str, Any]]:
    return [
        shop.stripe.get(event.object["id"])
        for event in shop.events_of("invoice.paid")
        if event.object["parent"]["subscription_details"]["subscription"] == subscription
    ]


def test_a_plan_paid_in_three_instalments_keeps_access_and_ends_fully_paid(shop: Shop) -> None:
    subscription = bought_in_instalments(shop)

    [params] = [r.params for r in shop.stripe.requests if r.path == "/v1/checkout/sessions"]
    assert params["mode"] == "subscription"
    assert params["payment_method_types"] == ["card", "ideal"]
    recurring, rest = params["line_items"]
    assert recurring["price_data"]["recurring"] == {"interval": "month"}
    assert recurring["price_data"]["unit_amount"] == str(PRICE // 3)  # 16,33
    assert rest["price_data"]["unit_amount"] == str(PRICE - 3 * (PRICE // 3))  # one cent more
    assert params["subscription_data"]["metadata"]["instalments"] == "3"
    assert (shop.order().status, shop.access()) == (OrderStatus.paid, EnrolmentStatus.active)
    assert (plan(shop).paid_count, plan(shop).status) == (1, PlanStatus.active)
    # Her request for access to start now is in the subscription's metadata and on the order;
    # the first instalment, paid at checkout, has its invoice.
    assert params["subscription_data"]["metadata"]["withdrawal_waiver"] == WAIVER_VERSION
    assert shop.order().withdrawal_waiver_at is not None
    [invoice] = shop.session.exec(select(Invoice)).all()
    assert invoice.total_cents == PRICE - 2 * (PRICE // 3)
    assert invoice.description.endswith(" (1/3)")

    shop.deliver(shop.stripe.next_instalment(subscription))
    assert (plan(shop).paid_count, plan(shop).status) == (2, PlanStatus.active)
    assert lesson(shop).status_code == 200

    third = shop.stripe.next_instalment(subscription)
    shop.deliver(third, times=2)  # a repeat changes nothing

    assert (plan(shop).paid_count, plan(shop).status) == (3, PlanStatus.completed)
    # Stripe bills nothing more: the subscription ends when the last paid month is over.
    assert shop.stripe.get(subscription)["cancel_at_period_end"] is True
    assert sum(invoice["amount_paid"] for invoice in invoices(shop, subscription)) == PRICE
    shop.deliver(shop.stripe.next_instalment(subscription))  # customer.subscription.deleted
    assert shop.stripe.get(subscription)["status"] == "canceled"
    assert (plan(shop).status, shop.access()) == (PlanStatus.completed, EnrolmentStatus.active)
    assert lesson(shop).status_code == 200
    assert len(shop.mails("receipt")) == 1


def documents(shop: Shop) -> list[Invoice]:
    shop.session.expire_all()
    return list(shop.session.exec(select(Invoice).order_by(col(Invoice.id))).all())


def test_every_paid_instalment_gets_its_own_invoice_and_mail_once(shop: Shop) -> None:
    subscription = bought_in_instalments(shop)
    second = shop.stripe.next_instalment(subscription)
    shop.deliver(second[::-1], times=2)  # in any order, and twice
    third = shop.stripe.next_instalment(subscription, fail=True)
    shop.deliver(third)
    [open_invoice] = [e.object for e in third if e.type == "invoice.payment_failed"]
    shop.deliver(shop.stripe.pay_invoice(open_invoice["id"]))

    first, two, three = documents(shop)
    paid = {invoice["id"]: invoice for invoice in invoices(shop, subscription)}
    assert [doc.description[-5:] for doc in (first, two, three)] == ["(1/3)", "(2/3)", "(3/3)"]
    # One sequence, without a gap; each for what that instalment paid, with how it was paid.
    assert [int(doc.number[-6:]) for doc in (first, two, three)] == [1, 2, 3]
    assert [doc.stripe_invoice_id in paid for doc in (first, two, three)] == [True] * 3
    assert sum(doc.total_cents for doc in (first, two, three)) == PRICE
    assert (two.total_cents, two.vat_cents) == (PRICE // 3, vat_in(PRICE // 3, Decimal(21)))
    assert {doc.payment_method for doc in (first, two, three)} == {"Visa •••• 4242"}
    mails = shop.mails("plan_instalment_paid")
    assert [mail.attachment_name for mail in mails] == [
        f"factuur-{two.number}.pdf",
        f"factuur-{three.number}.pdf",
    ]
    assert "termijn 2 van 3" in (mails[0].text_body or "")  # in her language, Dutch
    account = shop.client.get("/account").text
    assert all(f'href="/account/invoices/{doc.number}"' in account for doc in (two, three))


def test_the_first_instalment_invoice_names_how_she_paid_when_she_is_back_first(
    shop: Shop,
) -> None:
    offer_plan(shop)
    session_id = start_plan(shop)
    shop.stripe.complete(session_id, method="ideal")

    assert shop.back_from_stripe(session_id).status_code == 200

    [first] = documents(shop)
    assert (first.description[-5:], first.payment_method) == ("(1/3)", "iDEAL (ING)")


def test_a_refunded_instalment_is_credited_against_its_own_invoice(shop: Shop) -> None:
    subscription = bought_in_instalments(shop)
    shop.deliver(shop.stripe.next_instalment(subscription))
    first, second = documents(shop)
    # Her charges, newest first: the second instalment's, then the first's.
    newest, oldest = shop.stripe.client().v1.charges.list({"limit": 10}).data

    shop.deliver(shop.stripe.refund(oldest.id, amount=500))
    shop.deliver(shop.stripe.refund(newest.id))

    *_, partly, fully = documents(shop)
    assert (partly.credits_invoice_id, partly.total_cents) == (first.id, -500)
    assert partly.vat_cents == -vat_in(500, Decimal(21))
    assert (fully.credits_invoice_id, fully.total_cents) == (second.id, -second.total_cents)
    assert fully.vat_cents == -second.vat_cents
    assert plan(shop).status == PlanStatus.ended
    assert len(documents(shop)) == 4  # the ended plan's events change nothing more
    [mail] = shop.mails("refund")
    cents = 500 + second.total_cents  # both refunds of the plan
    refunded = f"€ {cents // 100},{cents % 100:02d}"
    assert f"Terugbetaald bedrag: {refunded}" in (mail.text_body or "").replace("\xa0", " ")


def test_the_buy_form_says_what_she_pays_at_once_and_in_instalments(shop: Shop) -> None:
    shop.course.price_cents = 16500
    offer_plan(shop)
    shop.client.cookies.set(i18n.LOCALE_COOKIE, "nl")

    page = shop.client.get(f"/courses/{shop.course.slug}")

    text = " ".join(html.unescape(page.text).replace("\xa0", " ").split())
    assert "Betaal in één keer: € 165,00" in text
    assert "Betaal in 3 termijnen van € 55,00" in text
    assert "Koop voor" not in text  # the button names no single amount


def test_a_plan_needs_the_waiver_too(shop: Shop) -> None:
    offer_plan(shop)
    response = post_form(shop.client, f"/courses/{shop.course.slug}/checkout", {"pay": "plan"})

    assert response.status_code == 422
    assert 'id="f-pay-plan" name="pay" value="plan" checked' in response.text
    assert shop.orders() == []
    assert shop.stripe.requests == []


def test_a_failed_instalment_mails_then_pauses_after_the_grace_period_until_she_pays(
    shop: Shop, stripe_settings: Settings
) -> None:
    subscription = bought_in_instalments(shop)

    failed = shop.stripe.next_instalment(subscription, fail=True)
    shop.deliver(failed)

    assert plan(shop).status == PlanStatus.past_due
    [mail] = shop.mails("plan_payment_failed")
    [invoice] = [e.object for e in failed if e.type == "invoice.payment_failed"]
    assert invoice["hosted_invoice_url"] in (mail.text_body or "")
    shop.deliver(failed)  # again: one mail
    assert len(shop.mails("plan_payment_failed")) == 1
    # The grace period: she keeps her access.
    plans.pause_overdue(shop.session, stripe_settings, now=utcnow() + timedelta(days=6))
    assert (shop.access(), lesson(shop).status_code) == (EnrolmentStatus.active, 200)

    plans.pause_overdue(shop.session, stripe_settings, now=utcnow() + timedelta(days=8))

    assert (plan(shop).status, shop.access()) == (PlanStatus.paused, EnrolmentStatus.paused)
    page = lesson(shop)
    assert page.status_code == 403
    assert "instalment has not been paid" in page.text
    to_pay = shop.client.get(f"/courses/{shop.course.slug}/instalment", follow_redirects=False)
    assert to_pay.headers["location"] == invoice["hosted_invoice_url"]

    paid = shop.stripe.pay_invoice(invoice["id"])
    shop.deliver(paid[::-1])  # in any order

    assert (plan(shop).status, shop.access()) == (PlanStatus.active, EnrolmentStatus.active)
    assert lesson(shop).status_code == 200
    # A late copy of the failure, as a new delivery, reads Stripe: the invoice is paid.
    late = Event(failed[0])
    late["id"] = "evt_late_failure_copy"
    shop.deliver([late])
    assert (plan(shop).status, shop.access()) == (PlanStatus.active, EnrolmentStatus.active)


def test_a_refunded_plan_ends_access_and_later_instalment_events_change_nothing(
    shop: Shop,
) -> None:
    subscription = bought_in_instalments(shop)
    second = shop.stripe.next_instalment(subscription)
    shop.deliver(second)
    [invoice] = [e.object for e in second if e.type == "invoice.paid"]
    # Her charges, newest first: the second instalment's.
    charge = shop.stripe.client().v1.charges.list({"customer": invoice["customer"]}).data[0]

    shop.deliver(shop.stripe.refund(charge.id))

    assert (shop.order().status, shop.access()) == (OrderStatus.refunded, EnrolmentStatus.refunded)
    assert plan(shop).status == PlanStatus.ended
    assert shop.stripe.get(subscription)["status"] == "canceled"
    assert lesson(shop).status_code == 403
    # An instalment event of the ended plan, delivered late: a safe no-op.
    late = Event(second[0])
    late["id"] = "evt_late_instalment_copy"
    [response] = shop.deliver([late])
    assert response.status_code == 200
    assert response.json()["outcome"] == "plan ended"
    assert shop.access() == EnrolmentStatus.refunded


def test_invoice_events_before_the_checkout_event_wait_for_it(shop: Shop) -> None:
    offer_plan(shop)
    session_id = start_plan(shop)
    completed, *rest = shop.stripe.complete(session_id)

    responses = shop.deliver(rest)
    assert [r.json()["outcome"] for r in responses] == ["no plan"] * len(rest)
    shop.deliver([completed])

    assert (plan(shop).paid_count, shop.access()) == (1, EnrolmentStatus.active)


def test_a_plan_is_refused_where_the_course_offers_none(shop: Shop) -> None:
    response = post_form(
        shop.client, f"/courses/{shop.course.slug}/checkout", {"pay": "plan"} | WAIVER
    )
    assert response.status_code == 409
    assert "instalments" in response.text
    assert shop.stripe.requests == []


@pytest.mark.parametrize(
    ("price", "instalments", "each", "field"),
    [
        (0, "3", None, "plan_instalments"),  # a free course
        (4900, "13", None, "plan_instalments"),
        (4900, "drie", None, "plan_instalments"),
        (4900, "3", 1000, "plan_instalment"),  # 3 × € 10 is less than the price
        (100, "3", None, "plan_instalments"),  # under Stripe's 50 cents each
    ],
)
def test_a_plan_that_cannot_work_is_refused(
    price: int, instalments: str, each: int | None, field: str
) -> None:
    with pytest.raises(FormError) as refused:
        plans.parse_plan(price, instalments, each)
    assert set(refused.value.fields) == {field}


def test_the_plan_offer_adds_up_to_the_price() -> None:
    assert plans.parse_plan(4900, "", None) == (0, None)
    assert plans.parse_plan(4900, "3", 1700) == (3, 1700)
