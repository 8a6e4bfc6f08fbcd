"""The attention list ("Aandacht"): each reason a learner needs attention now (inactive for the
course's days, a check-in that got worse by the meaningful change, a warning sign, a question
waiting more than 48 hours, consent withdrawn), only for active enrolments and only for her own
instructor and admins; marking a reason handled takes her off until a new event of that kind;
a fixed number of statements however many learners; the link with its count in the studio."""

import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, select

from api.accounts.models import Role, User
from api.attention import service as attention
from api.attention.models import AttentionHandled
from api.catalog.models import Course
from api.clock import current_time
from api.enrolment import service as enrolment_service
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.kit.ids import id_of
from api.messages.models import Message, Thread
from api.progress.models import PracticeLog
from api.questionnaires.models import Measurement, Questionnaire
from tests.catalog.test_pages_queries import recording
from tests.factories import enable_totp, log_in, make_course, make_user, post_form
from tests.questionnaires.checkin_factories import enrol_at, make_questionnaire

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 19, 10, 0, tzinfo=AMSTERDAM)  # a Thursday
# The session lookup, the enrolments with their activity and threads, the check-ins ranked,
# and the handled marks.
LIST_STATEMENTS = 4
_occasions = itertools.count(1)


@pytest.fixture
def clock(app: FastAPI) -> Iterator[list[datetime]]:
    """Requests happen at moment[0]; a test moves it by assigning."""
    moment = [NOW]
    app.dependency_overrides[current_time] = lambda: moment[0]
    yield moment
    app.dependency_overrides.pop(current_time, None)


@pytest.fixture
def teacher(client: TestClient, session: Session, clock: list[datetime]) -> User:
    user = make_user(session, name="Tessa Therapeut", role=Role.instructor)
    log_in(client, user, secret=enable_totp(session, user))
    return user


@pytest.fixture
def course(session: Session, teacher: User) -> Course:
    return make_course(session, instructor=teacher, modules=1, lessons_per_module=2)


@pytest.fixture
def questionnaire(session: Session, course: Course) -> Questionnaire:
    return make_questionnaire(session, course)


def learner_in(
    session: Session, course: Course, *, name: str = "Anna", days_ago: float = 2
) -> tuple[User, Enrolment]:
    learner = make_user(session, name=name)
    return learner, enrol_at(session, learner, course, NOW - timedelta(days=days_ago))


def measure(
    session: Session,
    learner: User,
    course: Course,
    questionnaire: Questionnaire,
    *,
    score: float,
    at: datetime,
    warning: bool = False,
) -> Measurement:
    row = Measurement(
        user_id=id_of(learner),
        questionnaire_id=id_of(questionnaire),
        course_id=id_of(course),
        occasion=f"test:{next(_occasions)}",
        answers={},
        score=score,
        warning=warning,
        taken_at=at,
    )
    session.add(row)
    session.flush()
    return row


def ask(session: Session, learner: User, course: Course, *, waiting_since: datetime) -> Thread:
    thread = Thread(
        course_id=id_of(course),
        learner_id=id_of(learner),
        created_at=waiting_since,
        last_message_at=waiting_since,
        awaiting_reply_since=waiting_since,
    )
    session.add(thread)
    session.flush()
    session.add(
        Message(
            thread_id=id_of(thread),
            author_id=id_of(learner),
            from_learner=True,
            body="Mag ik de oefening ook liggend doen?",
            created_at=waiting_since,
        )
    )
    session.flush()
    return thread


def reasons(session: Session, viewer: User, now: datetime = NOW) -> dict[str, list[str]]:
    """Learner name → the keys of her reasons on the viewer's list."""
    return {
        entry.learner.name: [reason.key for reason in entry.reasons]
        for entry in attention.waiting(session, viewer=viewer, now=now)
    }


# --- each reason ----------------------------------------------------------------------------


def test_a_learner_quiet_for_the_courses_days_needs_attention(
    session: Session, teacher: User, course: Course
) -> None:
    _learner, _enrolment = learner_in(session, course, days_ago=8)
    assert reasons(session, teacher) == {"Anna": ["inactive:2026-11-11"]}
    course.inactive_after_days = 14
    session.add(course)
    session.flush()
    assert reasons(session, teacher) == {}


def test_any_recent_activity_keeps_her_off_the_list(
    session: Session, teacher: User, course: Course
) -> None:
    learner, _enrolment = learner_in(session, course, days_ago=30)
    session.add(
        PracticeLog(
            user_id=id_of(learner),
            client_id="p1",
            course_id=id_of(course),
            step_kind="exercise",
            practised_at=NOW - timedelta(days=3),
            practised_on=(NOW - timedelta(days=3)).date(),
            duration_seconds=120,
        )
    )
    session.flush()
    assert reasons(session, teacher) == {}
    # Eight days later the same practice is her last activity.
    later = NOW + timedelta(days=5)
    assert reasons(session, teacher, later) == {"Anna": ["inactive:2026-11-16"]}


def test_a_check_in_worse_by_the_meaningful_change_needs_attention(
    session: Session, teacher: User, course: Course, questionnaire: Questionnaire
) -> None:
    learner, _enrolment = learner_in(session, course, days_ago=6)
    measure(session, learner, course, questionnaire, score=5, at=NOW - timedelta(days=5))
    latest = measure(session, learner, course, questionnaire, score=8, at=NOW - timedelta(days=1))
    assert reasons(session, teacher) == {"Anna": [f"worse:{latest.id}"]}


def test_a_change_below_the_meaningful_change_is_not_worse(
    session: Session, teacher: User, course: Course, questionnaire: Questionnaire
) -> None:
    learner, _enrolment = learner_in(session, course, days_ago=6)
    measure(session, learner, course, questionnaire, score=5, at=NOW - timedelta(days=5))
    measure(session, learner, course, questionnaire, score=7, at=NOW - timedelta(days=1))
    # Lower is better here: a drop is an improvement, never a reason.
    measure(session, learner, course, questionnaire, score=1, at=NOW - timedelta(hours=1))
    assert reasons(session, teacher) == {}


def test_a_warning_sign_in_a_check_in_needs_attention(
    session: Session, teacher: User, course: Course, questionnaire: Questionnaire
) -> None:
    learner, _enrolment = learner_in(session, course)
    found = measure(
        session, learner, course, questionnaire, score=4, at=NOW - timedelta(days=1), warning=True
    )
    assert reasons(session, teacher) == {"Anna": [f"warning:{found.id}"]}


def test_a_question_waiting_more_than_48_hours_needs_attention(
    session: Session, teacher: User, course: Course
) -> None:
    learner, _enrolment = learner_in(session, course, days_ago=3)
    since = NOW - timedelta(hours=47)
    thread = ask(session, learner, course, waiting_since=since)
    assert reasons(session, teacher) == {}
    later = NOW + timedelta(hours=2)
    assert reasons(session, teacher, later) == {
        "Anna": [f"question:{thread.id}:2026-11-17T10:00:00"]
    }


def test_withdrawn_consent_needs_attention(session: Session, teacher: User, course: Course) -> None:
    learner, _enrolment = learner_in(session, course)
    learner.health_consent_withdrawn_at = NOW - timedelta(hours=5)
    learner.health_consent_version = None
    session.add(learner)
    session.flush()
    assert reasons(session, teacher) == {"Anna": ["consent:2026-11-19T04:00:00"]}


def test_ended_enrolments_are_not_on_the_list(
    session: Session, teacher: User, course: Course
) -> None:
    _learner, enrolment = learner_in(session, course, days_ago=30)
    enrolment_service.set_status(session, enrolment=enrolment, status=EnrolmentStatus.revoked)
    assert reasons(session, teacher) == {}


# --- the page, handled marks, access --------------------------------------------------------


def test_the_page_lists_her_with_the_reason_and_a_link_to_her_page(
    client: TestClient, session: Session, teacher: User, course: Course
) -> None:
    _learner, enrolment = learner_in(session, course, days_ago=9)
    html = client.get("/studio/attention").text
    assert f'href="/studio/courses/{course.slug}/learners/{enrolment.id}">Anna</a>' in html
    assert "Niet actief" in html
    studio = client.get("/studio").text
    assert re.search(r'href="/studio/attention">Aandacht <span class="count">\(1\)', studio)


def test_handled_takes_her_off_until_a_new_event_of_that_kind(
    client: TestClient,
    session: Session,
    teacher: User,
    course: Course,
    questionnaire: Questionnaire,
) -> None:
    learner, enrolment = learner_in(session, course)
    first = measure(
        session, learner, course, questionnaire, score=4, at=NOW - timedelta(days=1), warning=True
    )
    response = post_form(
        client,
        f"/studio/attention/{enrolment.id}/handled",
        {"reason_key": f"warning:{first.id}", "note": "Gebeld, ze gaat naar de huisarts."},
    )
    assert response.status_code == 303
    assert "Anna" not in client.get("/studio/attention").text
    mark = session.exec(select(AttentionHandled)).one()
    assert (mark.note, mark.handled_by_id) == ("Gebeld, ze gaat naar de huisarts.", teacher.id)
    again = measure(session, learner, course, questionnaire, score=4, at=NOW, warning=True)
    assert reasons(session, teacher) == {"Anna": [f"warning:{again.id}"]}


def test_marking_the_same_reason_twice_keeps_one_mark(
    client: TestClient, session: Session, teacher: User, course: Course
) -> None:
    _learner, enrolment = learner_in(session, course, days_ago=9)
    for _ in range(2):
        response = post_form(
            client,
            f"/studio/attention/{enrolment.id}/handled",
            {"reason_key": "inactive:2026-11-10"},
        )
        assert response.status_code == 303
    assert len(session.exec(select(AttentionHandled)).all()) == 1
    assert reasons(session, teacher) == {}


def test_a_long_note_is_refused_in_dutch_keeping_what_she_typed(
    client: TestClient, session: Session, teacher: User, course: Course
) -> None:
    _learner, enrolment = learner_in(session, course, days_ago=9)
    note = "lang " * 70
    response = post_form(
        client,
        f"/studio/attention/{enrolment.id}/handled",
        {"reason_key": "inactive:2026-11-10", "note": note},
    )
    assert response.status_code == 422
    assert "Houd de notitie kort: hoogstens 300 tekens." in response.text
    assert note.strip()[:40] in response.text
    assert session.exec(select(AttentionHandled)).all() == []


def test_another_instructor_neither_sees_nor_handles_her(
    client: TestClient, session: Session, teacher: User, course: Course
) -> None:
    _learner, enrolment = learner_in(session, course, days_ago=9)
    other = make_user(session, name="Olga Ander", role=Role.instructor)
    assert reasons(session, other) == {}
    client.cookies.clear()
    log_in(client, other, secret=enable_totp(session, other))
    assert "Anna" not in client.get("/studio/attention").text
    response = post_form(
        client,
        f"/studio/attention/{enrolment.id}/handled",
        {"reason_key": "inactive:2026-11-10"},
    )
    assert response.status_code == 404
    assert session.exec(select(AttentionHandled)).all() == []


def test_an_admin_sees_every_courses_learners(
    session: Session, teacher: User, course: Course
) -> None:
    learner_in(session, course, days_ago=9)
    admin = make_user(session, role=Role.admin)
    assert list(reasons(session, admin)) == ["Anna"]


def test_the_list_costs_the_same_statements_for_one_learner_or_many(
    client: TestClient,
    session: Session,
    connection: Connection,
    teacher: User,
    course: Course,
) -> None:
    questionnaire = make_questionnaire(session, course)

    def count() -> int:
        with recording(connection) as seen:
            assert client.get("/studio/attention").status_code == 200
        return len(seen)

    learner_in(session, course, name="Een", days_ago=9)
    few = count()
    for number in range(5):
        learner, _enrolment = learner_in(session, course, name=f"Veel {number}", days_ago=9)
        measure(session, learner, course, questionnaire, score=4, at=NOW - timedelta(days=8))
        measure(session, learner, course, questionnaire, score=9, at=NOW, warning=True)
        ask(session, learner, course, waiting_since=NOW - timedelta(days=3))
    many = count()
    assert few == many == LIST_STATEMENTS
    assert len(attention.waiting(session, viewer=teacher, now=NOW)) == 6
