"""Kern wired to the Stripe test server, and the steps of a purchase as a learner takes them."""

import html
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, delete, func, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, col, select

from api import i18n
from api.accounts.models import User
from api.catalog.models import Course
from api.config import Settings
from api.enrolment.models import Enrolment
from api.invoices.models import Invoice, InvoiceCounter
from api.mail.models import OutboxMessage
from api.main import create_app
from api.payments import stripe_client
from api.payments.models import Order, StripeEvent
from api.reminders.models import MailPreference
from tests.factories import WAIVER, log_in, make_course, make_user, post_form
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


@contextmanager
def stripe_down(settings: Settings) -> Iterator[str]:
    """Stripe unreachable: Kern's API address is a port where nothing listens (connection
    refused), unlike a slow or failing Stripe that answers. Yields that address."""
    with socket.socket() as sock:
        # Bound but never listening: connections are refused, and no other process can take the
        # port while the test runs.
        sock.bind(("127.0.0.1", 0))
        working = settings.stripe_api_base
        settings.stripe_api_base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        try:
            yield settings.stripe_api_base
        finally:
            settings.stripe_api_base = working


def write_elsewhere(database_url: str, *, user_id: int) -> str:
    """Another learner's write, on a connection of its own that does not wait for a lock:
    "written", or why it could not."""
    sqlite = database_url.startswith("sqlite")
    engine = create_engine(
        database_url, poolclass=NullPool, connect_args={"timeout": 0} if sqlite else {}
    )
    try:
        with engine.begin() as connection:
            if not sqlite:
                connection.execute(text("SET LOCAL lock_timeout = '100ms'"))
            connection.execute(
                text("UPDATE user_account SET name = name WHERE id = :id"), {"id": user_id}
            )
        return "written"
    except OperationalError as error:
        return str(error.orig)
    finally:
        engine.dispose()


def watch_stripe_calls(
    monkeypatch: pytest.MonkeyPatch, app_engine: Engine, database_url: str, *, bystander: User
) -> list[tuple[str, int, str]]:
    """Each time Kern asks Stripe, note what for, how many database connections the app holds
    at that moment, and whether another learner (`bystander`) can write meanwhile."""
    seen: list[tuple[str, int, str]] = []
    ask = stripe_client.call

    def call(what: str, request: Callable[[], Any]) -> Any:
        assert bystander.id is not None
        held = app_engine.pool.checkedout()  # type: ignore[attr-defined]
        seen.append((what, held, write_elsewhere(database_url, user_id=bystander.id)))
        return ask(what, request)

    monkeypatch.setattr(stripe_client, "call", call)
    return seen


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
        return post_form(client or self.client, f"/courses/{self.course.slug}/checkout", WAIVER)

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

    def enrolments(self) -> int:
        """How many enrolments she has in the course (there is at most one)."""
        self.session.expire_all()
        return len(
            self.session.exec(
                select(Enrolment).where(
                    Enrolment.user_id == self.learner.id, Enrolment.course_id == self.course.id
                )
            ).all()
        )

    def mails(self, kind: str) -> list[OutboxMessage]:
        """Her messages of a kind in the outbox (e.g. "receipt"), waiting or sent."""
        self.session.expire_all()
        return list(
            self.session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.user_id == self.learner.id, OutboxMessage.kind == kind)
                # In the order they were written: without it PostgreSQL returns heap order,
                # and a message the outbox has since marked sent moves to the end.
                .order_by(col(OutboxMessage.id))
            ).all()
        )

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


@pytest.fixture
def committing_app(
    settings: Settings, stripe_settings: Settings, engine: Engine
) -> Iterator[tuple[TestClient, Session]]:
    """Kern on its own engine, committing for real, so concurrent requests are concurrent
    transactions (the usual app shares the test's one connection); the rows are removed after."""
    settings.db_pool_size = 25
    app = create_app(settings)
    with Session(engine) as session, TestClient(app) as client:
        # Every other test rolls back, so these tables hold no committed rows but this test's,
        # and emptying them afterwards removes exactly what it made.
        for name in ("user_account", "course", "purchase_order", "stripe_event", "invoice"):
            table = SQLModel.metadata.tables[name]
            assert session.execute(select(func.count()).select_from(table)).scalar_one() == 0
        try:
            yield client, session
        finally:
            session.rollback()
            # The receipts and notices these payments queued, or a later test would send them.
            session.execute(delete(OutboxMessage))
            session.execute(delete(StripeEvent))
            # Credit notes first: they name the invoice they cancel.
            session.execute(delete(Invoice).where(col(Invoice.credits_invoice_id).is_not(None)))
            session.execute(delete(Invoice))
            session.execute(delete(InvoiceCounter))
            session.execute(delete(Order))
            session.execute(delete(Enrolment))
            session.execute(delete(Course))
            session.execute(delete(User))
            session.commit()
            app.state.engine.dispose()
