"""Kern wired to the Stripe test server, and the steps of a purchase as a learner takes them."""

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlmodel import Session, select

from api import i18n
from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.enrolment.models import Enrolment
from api.payments.models import Order, StripeEvent
from api.reminders.models import MailPreference
from tests.factories import log_in, make_course, make_user, post_form
from tests.stripe_server import Event, StripeServer

WEBHOOK_SECRET = "whsec_test"
PRICE = 4900


@pytest.fixture
def stripe_settings(settings: Settings, stripe_server: StripeServer) -> Settings:
    """The app's own settings object, pointed at the Stripe test server."""
    settings.stripe_secret_key = SecretStr("sk_test_kern")
    settings.stripe_webhook_secret = SecretStr(WEBHOOK_SECRET)
    settings.stripe_api_base = stripe_server.url
    return settings


@dataclass
class Shop:
    """One learner, one paid course, her browser and the Stripe account behind the shop."""

    client: TestClient
    session: Session
    stripe: StripeServer
    learner: User
    course: Course

    def checkout(self, client: TestClient | None = None) -> httpx.Response:
        """Press the buy button on the course page."""
        return post_form(client or self.client, f"/courses/{self.course.slug}/checkout")

    def start(self) -> str:
        """Go to Stripe's payment page; the Checkout Session's id."""
        response = self.checkout()
        location = stripe_page_of(response)
        assert location.startswith(f"{self.stripe.url}/pay/"), location
        return location.rsplit("/", 1)[1]

    def back_from_stripe(self, session_id: str, client: TestClient | None = None) -> httpx.Response:
        """The browser lands on the success page Stripe sends her to."""
        browser = client or self.client
        response: httpx.Response = browser.get(f"/checkout/success?session_id={session_id}")
        return response

    def deliver(self, events: list[Event], *, times: int = 1) -> list[httpx.Response]:
        """Stripe posts events to the webhook, in the order given."""
        responses: list[httpx.Response] = []
        for event in events:
            responses += self.stripe.deliver(
                event, to=webhook_of(self.client), secret=WEBHOOK_SECRET, times=times
            )
        return responses

    def order(self) -> Order:
        """Her one order for the course (it must be exactly one)."""
        self.session.expire_all()
        [order] = self.session.exec(
            select(Order).where(Order.user_id == self.learner.id, Order.course_id == self.course.id)
        ).all()
        return order

    def orders(self) -> list[Order]:
        self.session.expire_all()
        return list(self.session.exec(select(Order).where(Order.course_id == self.course.id)).all())

    def enrolment(self) -> Enrolment | None:
        self.session.expire_all()
        return self.session.exec(
            select(Enrolment).where(
                Enrolment.user_id == self.learner.id, Enrolment.course_id == self.course.id
            )
        ).first()

    def access(self) -> str | None:
        """Her enrolment's status, or None when she has none."""
        enrolment = self.enrolment()
        return enrolment.status if enrolment else None

    def charge_id(self, session_id: str) -> str:
        intent = self.stripe.get(str(self.stripe.get(session_id)["payment_intent"]))
        return str(intent["latest_charge"])

    def events_of(self, event_type: str) -> list[Event]:
        return [event for event in self.stripe.events if event.type == event_type]

    def recorded_events(self) -> list[StripeEvent]:
        self.session.expire_all()
        return list(self.session.exec(select(StripeEvent)).all())


def stripe_page_of(response: httpx.Response) -> str:
    """Where the page after the buy button sends her on: Stripe's payment page."""
    assert response.status_code == 200, response.text[:500]
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', response.text)
    assert refresh is not None, response.text[:500]
    url = html.unescape(refresh.group(1))
    assert f'href="{refresh.group(1)}"' in response.text  # the button, in case it does not
    return url


def webhook_of(client: TestClient) -> Callable[[bytes, dict[str, str]], Any]:
    """Deliver to the app's webhook through the test client."""

    def post(body: bytes, headers: dict[str, str]) -> httpx.Response:
        response: httpx.Response = client.post("/stripe/webhook", content=body, headers=headers)
        return response

    return post


def in_english(client: TestClient) -> TestClient:
    """Read the pages in English (a login sets the account's language, Dutch)."""
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return client


def switch_to_production(client: TestClient, settings: Settings) -> None:
    """Run the app as production from now on, keeping the browser signed in."""
    token = client.cookies.get("kern_session")
    settings.app_env = "production"
    if token:
        # Production names the cookie with the __Host- prefix.
        client.cookies.set("__Host-kern_session", token)


@pytest.fixture
def shop(
    client: TestClient, session: Session, stripe_settings: Settings, stripe_server: StripeServer
) -> Shop:
    """Alice, signed in, in front of a published course of € 49,00."""
    learner = make_user(session, name="Alice de Vries", email="alice@example.nl")
    course = make_course(session, price_cents=PRICE)
    # These tests read the buyer's mailbox; the instructor's notice of a new learner is
    # tested in tests/notices, so she has turned it off here.
    session.add(MailPreference(user_id=course.instructor_id, new_enrolment=False))
    session.flush()
    log_in(client, learner)
    in_english(client)
    return Shop(client, session, stripe_server, learner, course)
