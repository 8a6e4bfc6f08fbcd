"""Without Stripe settings outside production, a marked demo checkout stands in for Stripe and
runs the very same fulfilment; in production it does not exist."""

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from api.accounts.models import Role
from api.config import Settings
from api.enrolment.models import Enrolment, EnrolmentSource
from api.payments.models import Order, OrderStatus
from tests.factories import (
    WAIVER,
    carries_csrf_token,
    field_error,
    log_in,
    make_course,
    make_user,
    post_form,
)
from tests.payments.conftest import PRICE, in_english, switch_to_production
from tests.smtp import Mailbox


def start_demo(client: TestClient, slug: str) -> str:
    response = post_form(client, f"/courses/{slug}/checkout", WAIVER)
    assert response.status_code == 303, response.text[:300]
    location = response.headers["location"]
    assert location.startswith("/checkout/demo/demo_cs_"), location
    return str(location)


def test_the_demo_checkout_gives_access_through_the_same_fulfilment(
    client: TestClient, session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    alice = make_user(session)
    course = make_course(session, price_cents=PRICE)
    log_in(client, alice)
    in_english(client)

    demo = start_demo(client, course.slug)
    page = client.get(demo)

    assert page.status_code == 200
    assert "Demo — no real payment is made" in page.text
    assert "Pay (demo)" in page.text
    # The button's form carries the browser's CSRF token (TestClient's post_form adds its own).
    assert carries_csrf_token(client, page.text)
    [order] = session.exec(select(Order)).all()
    assert order.status == OrderStatus.pending

    response = post_form(client, demo)

    checkout_id = demo.rsplit("/", 1)[1]
    assert response.status_code == 303
    assert response.headers["location"] == f"/checkout/success?session_id={checkout_id}"
    success = client.get(response.headers["location"])
    assert "Payment successful — you now have access" in success.text
    session.expire_all()
    [order] = session.exec(select(Order)).all()
    assert (order.status, order.amount_cents, order.user_id) == ("paid", PRICE, alice.id)
    [enrolment] = session.exec(select(Enrolment)).all()
    assert (enrolment.source, enrolment.status) == (EnrolmentSource.purchase, "active")
    # Her receipt, and the instructor's notice of a new learner.
    [receipt] = [mail for mail in mailbox.wait_for(2) if mail["To"] == alice.email]
    assert order.number in str(receipt.get_body(preferencelist=("plain",)))
    assert client.get(f"/courses/{course.slug}/lessons/les-1-2").status_code == 200


def test_pressing_the_demo_button_twice_gives_one_enrolment_and_one_receipt(
    client: TestClient, session: Session, settings: Settings, mailbox: Mailbox
) -> None:
    teacher = make_user(session, role=Role.instructor)
    course = make_course(session, price_cents=PRICE, instructor=teacher)
    alice = make_user(session)
    log_in(client, alice)
    demo = start_demo(client, course.slug)

    post_form(client, demo)
    post_form(client, demo)

    mailbox.wait_for(2)  # her receipt and the instructor's notice, each once
    assert sorted(mail["To"] for mail in mailbox.messages) == sorted([alice.email, teacher.email])
    assert len(session.exec(select(Enrolment)).all()) == 1


def test_a_second_click_reuses_the_open_demo_checkout(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=PRICE)
    log_in(client, make_user(session))
    assert start_demo(client, course.slug) == start_demo(client, course.slug)
    assert len(session.exec(select(Order)).all()) == 1


def test_someone_elses_demo_checkout_is_not_found(client: TestClient, session: Session) -> None:
    course = make_course(session, price_cents=PRICE)
    log_in(client, make_user(session))
    demo = start_demo(client, course.slug)
    log_in(client, make_user(session))

    assert client.get(demo).status_code == 404
    assert post_form(client, demo).status_code == 404
    session.expire_all()
    assert session.exec(select(Enrolment)).all() == []


def test_the_demo_checkout_is_not_found_in_production(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session, price_cents=PRICE)
    log_in(client, make_user(session))
    demo = start_demo(client, course.slug)
    switch_to_production(client, settings)

    assert client.get(demo).status_code == 404
    assert post_form(client, demo).status_code == 404
    session.expire_all()
    [order] = session.exec(select(Order)).all()
    assert order.status == OrderStatus.pending
    assert session.exec(select(Enrolment)).all() == []


def test_the_demo_checkout_is_not_found_once_stripe_is_set_up(
    client: TestClient, session: Session, settings: Settings
) -> None:
    course = make_course(session, price_cents=PRICE)
    log_in(client, make_user(session))
    demo = start_demo(client, course.slug)
    settings.stripe_secret_key = SecretStr("sk_test_kern")

    assert client.get(demo).status_code == 404
    assert post_form(client, demo).status_code == 404


def test_a_made_up_demo_address_is_not_found(client: TestClient, session: Session) -> None:
    log_in(client, make_user(session))
    for checkout_id in ["demo_cs_bestaatniet", "cs_test_echt", "1"]:
        assert client.get(f"/checkout/demo/{checkout_id}").status_code == 404


def test_the_demo_success_page_reads_the_order_not_the_address(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, price_cents=PRICE)
    log_in(client, make_user(session))
    in_english(client)
    demo = start_demo(client, course.slug)
    checkout_id = demo.rsplit("/", 1)[1]

    page = client.get(f"/checkout/success?session_id={checkout_id}")

    assert "Payment successful" not in page.text
    assert "still being processed" in page.text
    session.expire_all()
    assert session.exec(select(Enrolment)).all() == []


def test_the_demo_checkout_says_it_takes_no_plan_and_no_code(
    client: TestClient, session: Session
) -> None:
    course = make_course(session, price_cents=PRICE)
    course.plan_instalments = 3
    session.add(course)
    log_in(client, make_user(session))
    in_english(client)
    assert (
        "instalments and discount codes are not available"
        in client.get(f"/courses/{course.slug}").text
    )

    refused = post_form(
        client, f"/courses/{course.slug}/checkout", {"pay": "plan", "code": "ZOMER10"} | WAIVER
    )

    assert refused.status_code == 422
    assert "Paying in instalments is only possible with online payment" in refused.text
    assert field_error(refused.text, "code") == (
        "Discount codes only work with online payment, which is not set up here. "
        "Leave the field empty."
    )
    assert 'value="ZOMER10"' in refused.text  # what she typed stays
    assert session.exec(select(Order)).all() == []
