"""The instructor's view of check-ins: a learner's charts on her page in the studio, and per
course how many improved by the meaningful change, stayed about the same or got worse; only for
the course's instructor and admins, in a fixed number of statements."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.clock import current_time
from api.enrolment.models import Enrolment
from api.questionnaires import checkins
from api.questionnaires.models import Questionnaire
from tests.catalog.test_pages_queries import recording
from tests.factories import agree_to_health_data, enable_totp, log_in, make_course, make_user
from tests.questionnaires.checkin_factories import (
    add_check_in,
    answers,
    enrol_at,
    make_questionnaire,
)
from tests.questionnaires.test_checkins import due_now

ENROLLED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
NOW = ENROLLED + timedelta(days=30)


@pytest.fixture
def teacher(client: TestClient, session: Session) -> User:
    client.app.dependency_overrides[current_time] = lambda: NOW  # type: ignore[attr-defined]
    user = make_user(session, name="Tessa Therapeut", role=Role.instructor, language="en")
    log_in(client, user, secret=enable_totp(session, user))
    return user


@pytest.fixture
def course(session: Session, teacher: User) -> Course:
    return make_course(session, instructor=teacher, slug="sterke-basis")


@pytest.fixture
def questionnaire(session: Session, course: Course) -> Questionnaire:
    questionnaire = make_questionnaire(session, course)
    add_check_in(session, course, questionnaire, "enrolment")
    add_check_in(session, course, questionnaire, "every", position=1, every_days=14)
    return questionnaire


def learner_with(session: Session, course: Course, *totals: tuple[int, int, int]) -> Enrolment:
    """A learner who filled in the baseline and then one check-in per 14 days, as given."""
    learner = agree_to_health_data(session, make_user(session, language="en"))
    enrolment = enrol_at(session, learner, course, ENROLLED)
    for number, values in enumerate(totals):
        moment = ENROLLED + timedelta(days=14 * number, hours=1)
        item = due_now(session, learner, moment)[0]
        checkins.submit(session, user=learner, item=item, raw=answers(*values), now=moment)
    return enrolment


def test_her_page_in_the_studio_shows_her_charts(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire
) -> None:
    enrolment = learner_with(session, course, (2, 6, 7), (1, 4, 5), (1, 3, 4))
    learners = client.get(f"/studio/courses/{course.slug}/learners").text
    url = f"/studio/courses/{course.slug}/learners/{enrolment.id}"
    assert f'href="{url}"' in learners

    page = client.get(url).text

    assert "Score on Bekkenbodem check-in: from 15 to 8." in page
    assert "That is at least 3 points, the change counted as meaningful, in the better" in page
    assert "Pijn: from 7 to 4." in page
    assert page.count('<figure class="measure-chart"') == 3


def test_her_page_is_for_the_course_instructor_and_admins_only(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire
) -> None:
    enrolment = learner_with(session, course, (2, 6, 7))
    url = f"/studio/courses/{course.slug}/learners/{enrolment.id}"
    other_course = make_course(session)
    elsewhere = learner_with(session, other_course)
    assert client.get(f"/studio/courses/{course.slug}/learners/{elsewhere.id}").status_code == 404

    admin = make_user(session, role=Role.admin)
    client.cookies.clear()
    log_in(client, admin, secret=enable_totp(session, admin))
    assert client.get(url).status_code == 200

    stranger = make_user(session, role=Role.instructor)
    client.cookies.clear()
    log_in(client, stranger, secret=enable_totp(session, stranger))
    assert client.get(url).status_code == 403

    learner = make_user(session)
    client.cookies.clear()
    log_in(client, learner)
    assert client.get(url).status_code == 403


def test_the_insight_page_counts_improved_same_and_worse_by_the_meaningful_change(
    client: TestClient, session: Session, course: Course, questionnaire: Questionnaire
) -> None:
    learner_with(session, course, (2, 6, 7), (1, 4, 5), (1, 3, 4))  # 15 → 8: improved
    learner_with(session, course, (2, 6, 7), (2, 5, 7))  # 15 → 14: about the same
    learner_with(session, course, (1, 4, 5), (2, 6, 7))  # 10 → 15: worse
    learner_with(session, course, (1, 4, 5), (1, 1, 1), (1, 4, 4))  # 10 → 9, not 3: same
    learner_with(session, course, (2, 6, 7))  # once: not yet measured twice
    learner_with(session, course)  # not at all
    ended = learner_with(session, course, (2, 6, 7), (0, 0, 0))
    ended.status = "revoked"
    session.add(ended)
    session.flush()

    page = client.get(f"/studio/courses/{course.slug}/insight").text

    assert "How learners are doing" in page
    assert "Improved: at least 3 lower. Worse: at least 3 higher." in page
    counts = {
        kind: page.split(f'data-count="{kind}"><span class="outcome-counts__number">', 1)[1].split(
            "<"
        )[0]
        for kind in ("improved", "same", "worse", "not-yet")
    }
    assert counts == {"improved": "1", "same": "2", "worse": "1", "not-yet": "2"}


def test_the_outcomes_cost_two_statements_whatever_the_number_of_learners(
    client: TestClient,
    session: Session,
    connection: Connection,
    course: Course,
    questionnaire: Questionnaire,
) -> None:
    def measure() -> list[str]:
        with recording(connection) as seen:
            assert client.get(f"/studio/courses/{course.slug}/insight").status_code == 200
        return list(seen)

    learner_with(session, course, (2, 6, 7), (1, 4, 5))
    little = measure()
    for _number in range(12):
        learner_with(session, course, (2, 6, 7), (1, 4, 5), (1, 3, 4))
    much = measure()

    assert len(little) == len(much), (little, much)
    # The page's ten (tests/studio/test_insight.py), the check-ins' questionnaires with the
    # number of learners with access, and each learner's first and latest total.
    assert len(much) == 12, much
