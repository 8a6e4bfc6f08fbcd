"""Nobody learns from Kern's answers whether an address has an account: signing up, asking for a
reset link or a sign-in link answer alike and run the same SQL statements for a known and an
unknown address. The mail worker does the rest, off the request path."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from api.accounts.models import AccountRequest
from api.accounts.requests import MAX_AGE, answer_waiting
from api.config import Settings
from tests.catalog.test_pages_queries import recording
from tests.factories import PASSWORD, csrf_token, make_user, new_browser, post_form, sign_up
from tests.smtp import Mailbox

# Two addresses of the same length, so even the Content-Length cannot differ.
KNOWN, UNKNOWN = "bert@example.nl", "anna@example.nl"
# Random per response or per browser: the CSP nonce and the CSRF token.
RANDOM = re.compile(r'nonce-[A-Za-z0-9+/=_-]+|nonce="[^"]+"|name="csrf_token" value="[^"]+"')


def comparable(response: Response, address: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and page, with the typed address and the random tokens taken out."""
    headers = {name: RANDOM.sub("random", value) for name, value in response.headers.items()}
    return response.status_code, headers, RANDOM.sub("random", response.text.replace(address, "X"))


Send = Callable[[TestClient, str], Response]

FORMS: dict[str, Send] = {
    "sign up": lambda browser, email: sign_up(browser, name="Iemand", email=email),
    "reset link": lambda browser, email: post_form(browser, "/forgot-password", {"email": email}),
    "sign-in link": lambda browser, email: post_form(browser, "/login/link", {"email": email}),
}


@pytest.fixture
def bert(session: Session) -> None:
    make_user(session, name="Bert", email=KNOWN)


def fresh_browser(client: TestClient) -> TestClient:
    """A browser with its CSRF cookie already set, so both requests carry the same cookies. It
    takes pages uncompressed: gzipped, the random tokens alone change their length a little."""
    browser = new_browser(client)
    browser.headers["Accept-Encoding"] = "identity"
    csrf_token(browser)
    return browser


@pytest.mark.usefixtures("bert")
@pytest.mark.parametrize("form", FORMS)
def test_a_known_and_an_unknown_address_get_the_same_answer(client: TestClient, form: str) -> None:
    known = FORMS[form](fresh_browser(client), KNOWN)
    unknown = FORMS[form](fresh_browser(client), UNKNOWN)

    assert known.status_code == 200
    assert comparable(known, KNOWN) == comparable(unknown, UNKNOWN)
    assert "set-cookie" not in known.headers


@pytest.mark.usefixtures("bert")
@pytest.mark.parametrize("form", FORMS)
def test_a_known_and_an_unknown_address_run_the_same_statements(
    client: TestClient, connection: Connection, form: str
) -> None:
    runs = []
    for address in (KNOWN, UNKNOWN):
        browser = fresh_browser(client)
        with recording(connection) as seen:
            assert FORMS[form](browser, address).status_code == 200
        runs.append(seen)

    assert runs[0] == runs[1]
    # What an account changes happens later, in the mail worker: the request never reads it.
    assert not any("user_account" in statement for statement in runs[0]), runs[0]


def test_the_worker_answers_a_sign_up_with_one_mail_either_way(
    client: TestClient, session: Session, mailbox: Mailbox
) -> None:
    make_user(session, name="Bert", email=KNOWN)

    sign_up(fresh_browser(client), name="Bert Twee", email=KNOWN)
    sign_up(fresh_browser(client), name="Anna", email=UNKNOWN, password=PASSWORD)

    subjects = {str(m["To"]): str(m["Subject"]) for m in mailbox.wait_for(2)}
    assert subjects == {
        KNOWN: "Je hebt al een account bij Kern",
        UNKNOWN: "Bevestig je e-mailadres voor Kern",
    }
    assert len(mailbox.messages) == 2


def test_a_request_the_worker_could_not_answer_within_a_day_is_dropped_unanswered(
    client: TestClient,
    session: Session,
    settings: Settings,
    outbox_sessions: sessionmaker[Session],
    mailbox: Mailbox,
) -> None:
    make_user(session, email=KNOWN)
    post_form(fresh_browser(client), "/login/link", {"email": KNOWN})
    [waiting] = session.exec(select(AccountRequest)).all()
    a_day_later = waiting.created_at + MAX_AGE + timedelta(seconds=1)

    answered = answer_waiting(outbox_sessions, settings, now=a_day_later)

    assert answered == 1
    assert session.exec(select(AccountRequest)).all() == []
    assert mailbox.messages == []
