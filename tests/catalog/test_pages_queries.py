"""Course and lesson pages (and their API) use a fixed, small number of SQL statements, however
large the course: one per table, never one per module, lesson or step."""

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event, text
from sqlmodel import Session, select

from api.accounts.models import Role
from api.catalog.models import Course, Lesson, Step
from api.clock import local_day
from api.cohorts.models import Cohort
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.kit.ids import id_of
from tests.factories import enable_totp, log_in, make_course, make_user, post_form
from tests.questionnaires.selftest_helpers import make_self_test

MAX_STATEMENTS = 6
# The test harness wraps each request's transaction in a savepoint of the test's own
# transaction; those statements are not the request's work.
HARNESS = re.compile(
    r"^\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK TO SAVEPOINT|BEGIN|COMMIT)\b", re.I
)

URLS = {
    "course page": "/courses/{slug}",
    "lesson page": "/courses/{slug}/lessons/les-1-1",
    "course API": "/api/v1/courses/{slug}",
    "lesson API": "/api/v1/courses/{slug}/lessons/les-1-1",
}

Measure = Callable[[str], list[str]]


@contextmanager
def recording(connection: Connection) -> Iterator[list[str]]:
    """The SQL statements run on `connection` inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not HARNESS.match(statement):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", record)


@pytest.fixture
def statements(client: TestClient, connection: Connection) -> Measure:
    """GET a URL (successfully) and return the statements that request ran, and only those."""

    def measure(url: str) -> list[str]:
        with recording(connection) as seen:
            response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.text[:300]}"
        return list(seen)

    return measure


def small_and_large(session: Session, **options: Any) -> tuple[str, str]:
    """The slugs of a course with 1 module/1 lesson/1 step and one with 6 × 4 × 5."""
    small = make_course(session, modules=1, lessons_per_module=1, steps_per_lesson=1, **options)
    large = make_course(session, modules=6, lessons_per_module=4, steps_per_lesson=5, **options)
    return small.slug, large.slug


@pytest.mark.parametrize("page", URLS)
def test_anonymous_visitors_cost_the_same_few_statements_for_any_course_size(
    page: str, session: Session, statements: Measure
) -> None:
    small, large = small_and_large(session, video_provider="youtube")

    for_small = statements(URLS[page].format(slug=small))
    for_large = statements(URLS[page].format(slug=large))

    assert len(for_small) == len(for_large), (for_small, for_large)
    assert len(for_large) <= MAX_STATEMENTS, for_large


@pytest.mark.parametrize("page", URLS)
def test_a_previewing_instructor_costs_the_same_few_statements_for_any_course_size(
    page: str, client: TestClient, session: Session, statements: Measure
) -> None:
    owner = make_user(session, role=Role.instructor)
    small, large = small_and_large(session, instructor=owner, status="draft")
    log_in(client, owner, secret=enable_totp(session, owner))

    for_small = statements(URLS[page].format(slug=small))
    for_large = statements(URLS[page].format(slug=large))

    assert len(for_small) == len(for_large), (for_small, for_large)
    assert len(for_large) <= MAX_STATEMENTS, for_large


def test_the_catalog_is_one_statement_however_many_courses(
    client: TestClient, session: Session, statements: Measure
) -> None:
    """Her session, the courses and the published self-tests it invites to, in one statement
    (api/catalog/course_pages.py), for a stranger and a signed-in learner alike."""
    make_course(session)
    make_self_test(session)
    one = statements("/courses")
    for _ in range(5):
        make_course(session)
    six = statements("/courses")
    log_in(client, make_user(session))
    signed_in = statements("/courses")

    assert len(one) == len(six) == len(signed_in) == 1, signed_in
    assert len(statements("/api/v1/courses")) == 1


def test_the_course_page_is_one_statement_for_an_enrolled_learner(
    client: TestClient, session: Session, statements: Measure
) -> None:
    """Her session, the course, her enrolment and progress, the self-tests and the coming
    cohorts: one statement, however far she is and however many learners follow the course."""
    course = make_course(session, modules=3, lessons_per_module=4, steps_per_lesson=2)
    make_self_test(session, course=course)
    alice = make_user(session)
    enrolment_service.grant(
        session, user_id=alice.id, course_id=course.id, source=EnrolmentSource.manual
    )
    log_in(client, alice)
    url = f"/courses/{course.slug}"
    statements(url)  # the first reader of the course version reads its content
    assert len(statements(url)) == 1

    lesson_url = f"{url}/lessons/les-1-1"
    post_form(client, lesson_url + "/complete", {})
    for _ in range(3):
        other = make_user(session)
        enrolment_service.grant(
            session, user_id=other.id, course_id=course.id, source=EnrolmentSource.manual
        )
    assert len(statements(url)) == 1
    assert "1 van 12 lessen voltooid" in client.get(url).text


def test_a_course_in_cohorts_is_one_statement(
    client: TestClient, session: Session, statements: Measure
) -> None:
    """Its coming cohorts come with the course, for a stranger and a signed-in visitor."""
    course = make_course(session, price_cents=4900)
    course.in_cohorts = True
    session.add(course)
    start = local_day(utcnow()) + timedelta(days=10)
    session.add(Cohort(course_id=id_of(course), starts_on=start, capacity=8, taken=3))
    session.flush()
    url = f"/courses/{course.slug}"
    statements(url)

    assert len(statements(url)) == 1
    assert "5 plaatsen vrij" in client.get(url).text
    log_in(client, make_user(session))
    assert len(statements(url)) == 1


def test_the_measured_counts(session: Session, statements: Measure) -> None:
    """The numbers themselves, so a change shows up here first. The first reader of a course
    version reads its modules, lessons and steps (one statement each); every later request
    reads only the course page's statement (the course with instructor, her session and
    enrolment, the self-tests), however large the course; the lesson page reads the visitor's
    session, the course, her progress and the lesson's public questions and answers in one
    statement."""
    _, large = small_and_large(session)

    first = statements(f"/courses/{large}")
    assert len(first) == 4, first  # the course page's statement, modules, lessons, steps
    assert len(statements(f"/courses/{large}")) == 1
    assert len(statements(f"/courses/{large}/lessons/les-1-1")) == 1
    assert len(statements(f"/api/v1/courses/{large}")) == 1
    assert len(statements(f"/api/v1/courses/{large}/lessons/les-1-1")) == 1


def test_a_changed_lesson_shows_on_the_next_request(
    session: Session, statements: Measure, client: TestClient
) -> None:
    """The cache is per course version: triggers bump the version on any change of a module,
    lesson or step, whoever writes it, and the next request reads the content again."""
    _, large = small_and_large(session)
    url = f"/courses/{large}/lessons/les-1-1"
    statements(url)
    # The course row with the lesson's public questions (never cached: not content).
    assert len(statements(url)) == 1

    course = session.exec(select(Course).where(Course.slug == large)).one()
    lesson = session.exec(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == "les-1-1")
    ).one()
    step = session.exec(select(Step).where(Step.lesson_id == lesson.id)).first()
    assert step is not None
    for change, shown in (
        (
            text("UPDATE lesson SET title = 'Nieuwe titel' WHERE id = :id").bindparams(
                id=lesson.id
            ),
            "Nieuwe titel",
        ),
        (
            text("UPDATE lesson SET body = 'Adem rustig uit.' WHERE id = :id").bindparams(
                id=lesson.id
            ),
            "Adem rustig uit.",
        ),
        (
            text("UPDATE lesson_step SET title = 'Nieuwe stap' WHERE id = :id").bindparams(
                id=step.id
            ),
            "Nieuwe stap",
        ),
        (
            text("UPDATE course_module SET title = 'Nieuw deel' WHERE id = :id").bindparams(
                id=lesson.module_id
            ),
            "Nieuw deel",
        ),
    ):
        session.execute(change)
        session.flush()
        assert len(statements(url)) == 4, change
        assert len(statements(url)) == 1, change
        # The rendered text and steps are kept per version too (web/pages/catalog.py).
        assert shown in client.get(url).text, change

    session.execute(text("DELETE FROM lesson_step WHERE id = :id").bindparams(id=step.id))
    session.flush()
    page = client.get(url).text
    assert "Nieuwe titel" in page
    assert "Nieuw deel" in page
    assert "Nieuwe stap" not in page  # deleted after it was renamed


def test_rendered_lesson_content_is_kept_per_language(session: Session, client: TestClient) -> None:
    """The lesson's heading and steps are rendered once per language: a Dutch reader and an
    English one each get their own words, in either order."""
    _, large = small_and_large(session)
    url = f"/courses/{large}/lessons/les-1-1"
    for _round in range(2):
        dutch = client.get(url, headers={"Accept-Language": "nl"}).text
        english = client.get(url, headers={"Accept-Language": "en"}).text
        assert "Les 1 van 24" in dutch
        assert "Lesson 1 of" not in dutch
        assert "Lesson 1 of 24" in english
        assert "Les 1 van" not in english
