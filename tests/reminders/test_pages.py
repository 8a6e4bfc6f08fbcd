"""/account/mail: the days and times of her reminders, and the other emails she receives."""

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session

from api.accounts.models import Role
from api.clock import current_time
from api.mail.unsubscribe import Topic
from api.reminders import service
from api.reminders.models import MailPreference
from tests.factories import csrf_token, enable_totp, log_in, make_user
from tests.reminders.people import SAVED_AT, preference


@pytest.fixture(autouse=True)
def _clock(app: FastAPI) -> Iterator[None]:
    app.dependency_overrides[current_time] = lambda: SAVED_AT
    yield
    app.dependency_overrides.clear()


def save(client: TestClient, data: dict[str, str | list[str]]) -> Response:
    response: Response = client.post(
        "/account/mail", data={"csrf_token": csrf_token(client), **data}, follow_redirects=False
    )
    return response


def checked_days(html: str) -> list[str]:
    return re.findall(r'name="weekdays" value="(\d)" checked', html)


def time_values(html: str) -> list[str]:
    return re.findall(r'type="time" name="times" value="([^"]*)"', html)


def test_the_page_needs_a_login(client: TestClient) -> None:
    response = client.get("/account/mail", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%2Fmail"


def test_the_account_page_links_to_it(client: TestClient, session: Session) -> None:
    log_in(client, make_user(session))

    assert 'href="/account/mail"' in client.get("/account").text


def test_days_are_named_in_her_language(client: TestClient, session: Session) -> None:
    log_in(client, make_user(session))

    dutch = client.get("/account/mail").text
    client.cookies.set("kern_lang", "en")
    english = client.get("/account/mail").text

    assert "Maandag" in dutch
    assert "Zondag" in dutch
    assert "Monday" in english
    assert "Sunday" in english
    assert time_values(dutch) == ["", "", ""]


def test_she_saves_days_and_times(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)

    response = save(
        client, {"weekdays": ["0", "2"], "times": ["19:30", "08:00", ""], "module_opened": "on"}
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account/mail?notice=saved"
    row = preference(session, alice)
    assert (service.weekdays_of(row), service.times_of(row)) == ([0, 2], ["08:00", "19:30"])
    assert row.module_opened is True
    page = client.get(response.headers["location"]).text
    assert 'role="status"' in page
    assert checked_days(page) == ["0", "2"]
    assert time_values(page) == ["08:00", "19:30", ""]


def test_an_unticked_box_turns_a_notice_off(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)

    assert save(client, {}).status_code == 303

    row = preference(session, alice)
    assert (row.module_opened, row.next_reminder_at) == (False, None)


def test_a_mistake_keeps_what_she_typed(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)

    response = save(
        client,
        {"weekdays": ["1", "4"], "times": ["", "", ""], "module_opened": "on"},
    )

    assert response.status_code == 422
    assert re.search(r'<p class="field__error" id="f-times-error">[^<]+</p>', response.text)
    assert checked_days(response.text) == ["1", "4"]
    assert 'name="module_opened" value="on" checked' in response.text
    assert session.get(MailPreference, alice.id) is None


def test_a_time_that_is_not_a_time_is_shown_back(client: TestClient, session: Session) -> None:
    log_in(client, make_user(session))

    response = save(client, {"weekdays": ["6"], "times": ["25:61", "07:00"]})

    assert response.status_code == 422
    assert time_values(response.text) == ["25:61", "07:00", ""]
    assert checked_days(response.text) == ["6"]


def test_saving_needs_the_csrf_token(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    log_in(client, alice)

    response = client.post("/account/mail", data={"weekdays": "0", "times": "08:00"})

    assert response.status_code == 403
    assert session.get(MailPreference, alice.id) is None


def test_only_instructors_are_asked_about_enrolments(client: TestClient, session: Session) -> None:
    log_in(client, make_user(session))
    assert 'name="new_enrolment"' not in client.get("/account/mail").text

    therapist = make_user(session, role=Role.instructor)
    other = TestClient(client.app, base_url=str(client.base_url))
    log_in(other, therapist, secret=enable_totp(session, therapist))
    assert 'name="new_enrolment"' in other.get("/account/mail").text


def test_she_sees_that_she_stopped_them_by_mail(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    assert alice.id is not None
    log_in(client, alice)
    save(client, {"weekdays": ["0"], "times": ["08:00"]})
    service.stop(session, user_id=alice.id, topic=Topic.reminders, now=SAVED_AT)

    client.cookies.set("kern_lang", "en")
    page = client.get("/account/mail").text

    assert "You stopped the practice reminders" in page
    assert checked_days(page) == ["0"]
    assert save(client, {"weekdays": ["0"], "times": ["08:00"]}).status_code == 303
    assert preference(session, alice).next_reminder_at is not None
