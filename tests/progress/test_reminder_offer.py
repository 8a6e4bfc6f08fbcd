"""Vandaag offers a learner who follows a course to set a practice reminder, until she sets one
or says "No, thank you" (kept on her mail preferences, so it does not come back)."""

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlmodel import Session

from api import i18n
from api.accounts.models import User
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.reminders import service as reminders
from api.reminders.models import MailPreference
from tests.factories import log_in, make_course, make_user, post_form

EN = {"Accept-Language": "en"}
OFFER = "A reminder to practise?"


def signed_in(client: TestClient, session: Session) -> User:
    user = make_user(session, name="Alice de Vries")
    log_in(client, user)
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    return user


def enrolled(session: Session, user: User) -> None:
    course = make_course(session)
    enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )


def today(client: TestClient) -> str:
    response = client.get("/today", headers=EN)
    assert response.status_code == 200
    return str(response.text)


def test_after_enrolling_today_offers_a_reminder(client: TestClient, session: Session) -> None:
    alice = signed_in(client, session)
    assert OFFER not in today(client)  # no course yet: nothing to be reminded of

    enrolled(session, alice)
    page = today(client)

    assert OFFER in page
    # Both ways a reminder can reach her; the settings page says whether this browser can notify.
    assert "a short mail or a notification on your phone" in page
    assert '<a class="button" href="/account/mail">Set a reminder</a>' in page
    assert 'action="/today/reminder-offer/close"' in page


def test_no_thank_you_closes_the_offer_for_good(client: TestClient, session: Session) -> None:
    alice = signed_in(client, session)
    enrolled(session, alice)

    response = post_form(client, "/today/reminder-offer/close")

    assert response.status_code == 303
    assert response.headers["location"] == "/today"
    assert OFFER not in today(client)
    session.expire_all()
    preference = session.get(MailPreference, alice.id)
    assert preference is not None
    # Saying no changes nothing else: no reminders, every notice still on.
    assert (preference.reminder_offer_closed, preference.reminder_weekdays) == (True, 0)
    assert (preference.module_opened, preference.new_message) == (True, True)
    assert reminders.export(session, user=alice)["reminder_offer_closed"] is True  # type: ignore[index]


def test_a_learner_with_reminders_is_not_offered_one(client: TestClient, session: Session) -> None:
    alice = signed_in(client, session)
    enrolled(session, alice)
    reminders.save(
        session,
        user=alice,
        weekdays=["0", "3"],
        times=["08:00"],
        module_opened=True,
        new_enrolment=True,
        now=datetime(2026, 11, 19, 9, 0, tzinfo=UTC),
    )

    assert OFFER not in today(client)


def test_closing_the_offer_needs_the_form_token(client: TestClient, session: Session) -> None:
    alice = signed_in(client, session)
    enrolled(session, alice)

    response = client.post("/today/reminder-offer/close", follow_redirects=False)

    assert response.status_code == 403
    assert OFFER in today(client)
