"""The two busiest writes, "mark complete" and "log practice", cost two statements each, however
large the course: one reads her session and account with the course (or the step) she writes to,
one writes (docs/performance.md#the-two-busiest-writes). Who may write what is tested in
tests/progress/test_api.py and tests/test_access_matrix.py; here, that the shortcut keeps the
same answers where the one statement finds no row."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from api import db
from api.accounts import access
from api.accounts.models import User
from api.catalog.models import Course, Lesson, Step, StepKind
from api.clock import current_time
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress.router import router as progress_api
from tests.catalog.test_pages_queries import recording
from tests.factories import agree_to_health_data, csrf_token, log_in, make_course, make_user
from tests.progress.test_api import _practice
from tests.test_db import _dependencies

NOW = datetime(2026, 5, 14, 12, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
# Her session and account with the course, its instructor and her enrolment; then the upsert.
COMPLETE_STATEMENTS = 2
# Her session and account with the step, its lesson, module, course, instructor and her
# enrolment; then the insert (ON CONFLICT DO NOTHING).
PRACTICE_STATEMENTS = 2

Send = Callable[[str, str, Any], tuple[Response, list[str]]]


@pytest.fixture(autouse=True)
def clock(app: FastAPI) -> None:
    app.dependency_overrides[current_time] = lambda: NOW


@pytest.fixture
def send(client: TestClient, connection: Connection) -> Send:
    """Send an API request; its answer and the statements it ran."""

    def run(method: str, url: str, body: Any = None) -> tuple[Response, list[str]]:
        headers = {"X-CSRF-Token": csrf_token(client), "Accept-Language": "en"}
        with recording(connection) as seen:
            response = client.request(method, url, json=body, headers=headers)
        return response, list(seen)

    return run


def _course(session: Session, modules: int, lessons: int) -> Course:
    return make_course(session, modules=modules, lessons_per_module=lessons, steps_per_lesson=3)


@pytest.fixture
def alice(client: TestClient, session: Session) -> User:
    user = agree_to_health_data(session, make_user(session, name="Alice", language="en"))
    log_in(client, user)
    return user


def _enrol(session: Session, user: User, course: Course) -> None:
    enrolment = enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )
    enrolment.enrolled_at = datetime(2026, 5, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))
    session.add(enrolment)
    session.flush()


def _exercise(session: Session, course: Course, lesson_slug: str) -> int:
    step = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(
            Lesson.course_id == course.id,
            Lesson.slug == lesson_slug,
            Step.kind == StepKind.exercise,
        )
    ).one()
    return step.id or 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/courses/{slug}/lessons/{lesson_slug}/completion"),
        ("POST", "/api/v1/practice"),
    ],
)
def test_the_two_writes_read_her_session_with_their_data_in_one_worker_thread(
    method: str, path: str
) -> None:
    # Neither SessionDep nor RequireUser: a session made and ended in the thread that does the
    # work, and the session cookie looked up in the statement that reads the course or step.
    route = next(
        route
        for route in progress_api.routes
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ())
    )
    calls = list(_dependencies(route.dependant))
    assert db.get_session not in calls
    assert access.load_visitor not in calls


@pytest.mark.parametrize(("modules", "lessons"), [(1, 1), (6, 4)])
def test_marking_complete_costs_two_statements_first_and_again(
    modules: int, lessons: int, session: Session, alice: User, send: Send
) -> None:
    course = _course(session, modules, lessons)
    _enrol(session, alice, course)
    url = f"/api/v1/courses/{course.slug}/lessons/les-1-1/completion"
    send("PUT", url, None)  # her first request fills the course's content cache
    send("DELETE", url, None)

    first, first_statements = send("PUT", url, None)
    again, again_statements = send("PUT", url, None)

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["completed"] is True
    assert again.json()["completed_at"] == first.json()["completed_at"]
    assert len(first_statements) == len(again_statements) == COMPLETE_STATEMENTS
    assert first_statements[-1].lstrip().upper().startswith("INSERT")


@pytest.mark.parametrize(("modules", "lessons"), [(1, 1), (6, 4)])
def test_logging_a_practice_costs_two_statements(
    modules: int, lessons: int, session: Session, alice: User, send: Send
) -> None:
    course = _course(session, modules, lessons)
    _enrol(session, alice, course)
    step_id = _exercise(session, course, "les-1-1")
    send("POST", "/api/v1/practice", _practice(step_id, "log-warm-up"))

    response, statements = send("POST", "/api/v1/practice", _practice(step_id, "log-0001"))
    repeat, _statements = send("POST", "/api/v1/practice", _practice(step_id, "log-0001"))

    assert response.status_code == 201
    assert len(statements) == PRACTICE_STATEMENTS
    assert statements[-1].lstrip().upper().startswith("INSERT")
    # A repeat finds the stored log: the same answer, as a 200.
    assert (repeat.status_code, repeat.json()) == (200, response.json())


def test_an_unknown_course_is_a_404_to_her_and_a_401_to_a_visitor_without_a_session(
    client: TestClient, session: Session, alice: User, send: Send
) -> None:
    url = "/api/v1/courses/no-such-course/lessons/les-1-1/completion"

    hers, _statements = send("PUT", url, None)
    client.cookies.delete("kern_session")
    anonymous, _statements = send("PUT", url, None)

    assert (hers.status_code, hers.json()["error"]) == (404, "not_found")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "login_required")


def test_an_unknown_step_is_a_404_to_her_and_a_401_to_a_visitor_without_a_session(
    client: TestClient, session: Session, alice: User, send: Send
) -> None:
    hers, _statements = send("POST", "/api/v1/practice", _practice(99_999_999, "log-0001"))
    client.cookies.delete("kern_session")
    anonymous, _statements = send("POST", "/api/v1/practice", _practice(99_999_999, "log-0001"))

    assert (hers.status_code, hers.json()["error"]) == (404, "not_found")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "login_required")


def test_a_wrong_body_is_a_422_to_her_and_a_401_to_a_visitor_without_a_session(
    client: TestClient, alice: User, send: Send
) -> None:
    wrong = {"client_id": "log-0001"}

    hers, _statements = send("POST", "/api/v1/practice", wrong)
    client.cookies.delete("kern_session")
    anonymous, _statements = send("POST", "/api/v1/practice", wrong)

    assert (hers.status_code, hers.json()["error"]) == (422, "invalid")
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "login_required")
