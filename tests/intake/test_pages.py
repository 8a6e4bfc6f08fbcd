"""The booking pages answer bad input with a plain message and keep what she typed; her intake
answers are kept only when she ticks the box, and only she and the instructor see them."""

import html

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.accounts.models import Role
from api.clock import current_time
from api.intake import service as intake
from api.intake.models import IntakeBooking
from api.mail.models import OutboxMessage
from tests.factories import enable_totp, field_error, log_in, make_course, make_user, post_form
from tests.intake.test_service import BEFORE_SPRING, therapist
from tests.questionnaires.checkin_factories import make_questionnaire


@pytest.fixture(autouse=True)
def _clock(app: FastAPI) -> None:
    app.dependency_overrides[current_time] = lambda: BEFORE_SPRING


def _form(slot: str, **fields: str) -> dict[str, str]:
    return {"slot": slot, "name": "Sanne", "email": "sanne@example.nl", **fields}


def _page_text(response_text: str) -> str:
    return html.unescape(response_text)


def test_bad_input_is_a_plain_message_and_keeps_what_she_typed(
    client: TestClient, session: Session
) -> None:
    ingrid = therapist(session)
    first, second, *_ = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    path = f"/intake/{ingrid.id}"

    too_long = post_form(client, path, _form(intake.slot_value(first), message="x" * 1001))
    assert too_long.status_code == 422
    assert "1000" in (field_error(too_long.text, "message") or "")
    assert 'value="Sanne"' in too_long.text
    assert f'value="{intake.slot_value(first)}" checked' in too_long.text

    past = post_form(client, path, _form("2027-03-24T08:00Z"))
    assert past.status_code == 409
    assert "Deze tijd is niet (meer) beschikbaar." in _page_text(past.text)

    assert post_form(client, path, _form(intake.slot_value(first))).status_code == 303
    taken = post_form(client, path, _form(intake.slot_value(first), name="Bob"))
    assert taken.status_code == 409
    assert "De eerstvolgende vrije tijden:" in _page_text(taken.text)
    assert 'value="Bob"' in taken.text
    assert f'value="{intake.slot_value(second)}"' in taken.text

    forged = client.get("/intake/booking/1.nietecht")
    assert forged.status_code == 400


def test_her_answers_are_kept_only_with_her_tick_and_never_mailed(
    client: TestClient, session: Session
) -> None:
    ingrid = therapist(session)
    course = make_course(session, instructor=ingrid)
    questionnaire = make_questionnaire(session, course)
    intake.save_setting(
        session,
        instructor=ingrid,
        slot_minutes=30,
        video_link="",
        questionnaire_id=questionnaire.id,
    )
    [slot, *_] = intake.free_slots(session, instructor_id=ingrid.id or 0, now=BEFORE_SPRING)
    answers = {
        "how-often": "2",
        "bother": "6",
        "back-pain": "3",
        "numb": "no",
        "note": "Vooral bij hardlopen",
    }
    path = f"/intake/{ingrid.id}"

    unticked = post_form(client, path, _form(intake.slot_value(slot), **answers))
    assert unticked.status_code == 422
    assert session.exec(select(IntakeBooking)).all() == []
    assert "Vooral bij hardlopen" in unticked.text

    booked = post_form(client, path, _form(intake.slot_value(slot), agree="yes", **answers))
    assert booked.status_code == 303
    [booking] = session.exec(select(IntakeBooking)).all()
    assert booking.answers is not None
    assert booking.consent_at == BEFORE_SPRING
    own = client.get(booked.headers["location"])
    assert "Vooral bij hardlopen" in own.text
    for mail in session.exec(select(OutboxMessage)).all():
        assert "hardlopen" not in (mail.text_body or "")

    secret = enable_totp(session, ingrid)
    studio = TestClient(client.app, base_url=str(client.base_url))
    log_in(studio, ingrid, secret=secret)
    assert "Vooral bij hardlopen" in studio.get("/studio/intake").text


def test_the_course_page_offers_an_intake_only_when_she_has_times(
    client: TestClient, session: Session
) -> None:
    """The clock stands on Thursday 25 March 2027."""
    nora = make_user(session, name="Nora", role=Role.instructor)
    course = make_course(session, instructor=nora)
    link = f'href="/intake/{nora.id}"'

    assert link not in client.get(f"/courses/{course.slug}").text
    # An extra time that has passed is nothing to book.
    intake.add_exception(
        session, instructor=nora, day="2027-03-24", kind="extra", starts="09:00", ends="10:00"
    )
    assert link not in client.get(f"/courses/{course.slug}").text
    intake.add_exception(
        session, instructor=nora, day="2027-03-26", kind="extra", starts="09:00", ends="10:00"
    )
    page = client.get(f"/courses/{course.slug}").text
    assert link in page
    assert "Plan een intakegesprek" in page
    # Weekly hours are enough as well (the course of another instructor who has them).
    other = make_course(session, instructor=therapist(session))
    assert "/intake/" in client.get(f"/courses/{other.slug}").text
