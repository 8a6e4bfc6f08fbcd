"""The check-in API: her due check-ins, sending one (201, a repeat 200 with the first, 409
without consent, 422 per question, 404 for one not open), her measures per questionnaire, and a
learner's read by her instructor through the progress API's access rule; nobody else's."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.clock import current_time
from api.questionnaires.models import Measurement, Questionnaire
from tests.factories import (
    agree_to_health_data,
    csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
)
from tests.questionnaires.checkin_factories import add_check_in, enrol_at, make_questionnaire

ENROLLED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
EN = {"Accept-Language": "en"}

Clock = Callable[[datetime], None]


@pytest.fixture(autouse=True)
def clock(app: FastAPI) -> Clock:
    def set_to(moment: datetime) -> None:
        app.dependency_overrides[current_time] = lambda: moment

    set_to(ENROLLED + timedelta(hours=1))
    return set_to


def as_user(client: TestClient, session: Session, user: User) -> TestClient:
    client.cookies.clear()
    log_in(client, user, secret=enable_totp(session, user) if user.needs_totp else None)
    return client


def send(client: TestClient, url: str, body: Any) -> Response:
    headers = {"X-CSRF-Token": csrf_token(client), **EN}
    response: Response = client.post(url, json=body, headers=headers)
    return response


@pytest.fixture
def course(session: Session) -> Course:
    return make_course(session)


@pytest.fixture
def questionnaire(session: Session, course: Course) -> Questionnaire:
    questionnaire = make_questionnaire(session, course)
    add_check_in(session, course, questionnaire, "enrolment")
    add_check_in(session, course, questionnaire, "every", position=1, every_days=7)
    return questionnaire


@pytest.fixture
def alice(session: Session, course: Course) -> User:
    alice = agree_to_health_data(session, make_user(session, name="Alice", language="en"))
    enrol_at(session, alice, course, ENROLLED)
    return alice


def body(
    how_often: int = 2, bother: int = 6, back_pain: int = 7, numb: bool = False
) -> dict[str, Any]:
    return {
        "answers": {"how-often": how_often, "bother": bother, "back-pain": back_pain, "numb": numb}
    }


def check_in_url(course: Course, questionnaire: Questionnaire, when: str) -> str:
    return f"/api/v1/courses/{course.slug}/check-ins/q{questionnaire.id}-{when}"


def test_she_sends_her_due_check_in_once_and_reads_her_measures(
    client: TestClient, session: Session, questionnaire: Questionnaire, alice: User, clock: Clock
) -> None:
    course = session.get(Course, questionnaire.course_id)
    assert course is not None
    as_user(client, session, alice)
    due = client.get(f"/api/v1/courses/{course.slug}/check-ins").json()
    assert [item["key"] for item in due] == [f"q{questionnaire.id}-enrolment"]
    assert due[0]["moment"] == "enrolment"

    url = check_in_url(course, questionnaire, "enrolment")
    first = send(client, url, body())
    again = send(client, url, body(bother=1))

    assert first.status_code == 201, first.text
    assert again.status_code == 200
    assert again.json()["measurement"] == first.json()["measurement"]
    assert first.json()["measurement"]["score"] == 15
    assert first.json()["advice"] is None
    assert len(session.exec(select(Measurement)).all()) == 1
    assert client.get(f"/api/v1/courses/{course.slug}/check-ins").json() == []

    clock(ENROLLED + timedelta(days=8))
    assert (
        send(client, check_in_url(course, questionnaire, "every-7-1"), body(1, 2, 3)).status_code
        == 201
    )
    measures = client.get(f"/api/v1/courses/{course.slug}/measurements").json()
    series = measures["questionnaires"][0]
    assert measures["learner_id"] == alice.id
    assert series["change"] == "improved"
    assert series["better"] == "lower"
    assert series["meaningful_change"] == 3
    total = series["measures"][0]
    assert total["key"] == "total"
    assert [p["value"] for p in total["points"]] == [15, 6]
    assert total["min"] == 0
    assert total["max"] == 23
    assert [m["key"] for m in series["measures"]] == ["total", "leaking", "back-pain"]


def test_a_warning_sign_answers_with_the_doctor_advice(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire, alice: User
) -> None:
    as_user(client, session, alice)
    sent = send(client, check_in_url(course, questionnaire, "enrolment"), body(numb=True))
    assert sent.status_code == 201
    assert sent.json()["measurement"]["warning_sign"] is True
    assert "GP" in sent.json()["advice"]


def test_without_consent_nothing_is_stored_and_the_answer_says_why(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire
) -> None:
    bob = make_user(session, language="en")
    enrol_at(session, bob, course, ENROLLED)
    as_user(client, session, bob)

    refused = send(client, check_in_url(course, questionnaire, "enrolment"), body())

    assert refused.status_code == 409
    assert refused.json()["error"] == "consent_required"
    assert session.exec(select(Measurement)).all() == []


def test_wrong_answers_are_refused_per_question(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire, alice: User
) -> None:
    as_user(client, session, alice)

    refused = send(
        client,
        check_in_url(course, questionnaire, "enrolment"),
        {"answers": {"how-often": 9, "bother": 11, "numb": "maybe"}},
    )

    assert refused.status_code == 422
    fields = refused.json()["fields"]
    assert fields["how-often"] == "Choose one of the options."
    assert fields["bother"] == "Choose a number from 0 to 10."
    assert fields["back-pain"] == "Please answer this question."
    assert fields["numb"] == "Choose yes or no."
    assert session.exec(select(Measurement)).all() == []


def test_a_check_in_not_open_to_her_is_not_found(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire, alice: User
) -> None:
    as_user(client, session, alice)
    for when in ("every-7-1", "end", "module-0", "bogus"):
        assert send(client, check_in_url(course, questionnaire, when), body()).status_code == 404
    assert session.exec(select(Measurement)).all() == []


def test_without_the_csrf_header_nothing_is_sent(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire, alice: User
) -> None:
    as_user(client, session, alice)
    refused = client.post(check_in_url(course, questionnaire, "enrolment"), json=body())
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf"


def test_her_instructor_reads_her_measures_and_due_check_ins_others_do_not(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire, alice: User
) -> None:
    as_user(client, session, alice)
    send(client, check_in_url(course, questionnaire, "enrolment"), body())
    measures = f"/api/v1/courses/{course.slug}/measurements?learner_id={alice.id}"
    due = f"/api/v1/courses/{course.slug}/check-ins?learner_id={alice.id}"

    instructor = session.get(User, course.instructor_id)
    assert instructor is not None
    as_user(client, session, instructor)
    read = client.get(measures)
    assert read.status_code == 200
    assert read.json()["learner_id"] == alice.id
    assert read.json()["questionnaires"][0]["measurements"][0]["score"] == 15
    assert client.get(due).json() == []

    stranger = make_user(session, role=Role.instructor)
    make_course(session, instructor=stranger)
    as_user(client, session, stranger)
    assert client.get(measures).status_code == 404

    bob = make_user(session)
    enrol_at(session, bob, course, ENROLLED)
    as_user(client, session, bob)
    assert client.get(measures).status_code == 404
    assert client.get(f"/api/v1/courses/{course.slug}/measurements").json()["questionnaires"] == []


def test_the_api_is_described_in_openapi(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/courses/{slug}/measurements" in paths
    assert "/api/v1/courses/{slug}/check-ins" in paths
    send_op = paths["/api/v1/courses/{slug}/check-ins/{key}"]["post"]
    assert {"200", "201", "409", "422"} <= set(send_op["responses"])
