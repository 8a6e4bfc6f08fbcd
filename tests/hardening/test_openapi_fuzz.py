"""Schemathesis against Kern's own API description: whatever a client sends, the JSON API never
answers with a server error, and every answer is one the description promises (its status code,
content type and body).

Each operation gets a small, fixed number of generated requests from a fixed seed, so the run is
quick and the same in CI every time. The requests come from a visitor without an account and from
a signed-in learner with an enrolment, progress and practice, so the routes behind the login are
exercised and not only their 401. A share of the slugs and step ids are real ones from the test
data (Schemathesis' fuzz dictionaries); the rest is generated.
"""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from sqlmodel import Session, col, select

from api.accounts import sessions
from api.accounts.models import User
from api.catalog.models import CourseStatus, Lesson, Step, StepKind
from api.clock import current_time
from api.config import Settings
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.main import create_app
from api.progress import practice
from api.progress import service as progress_service
from api.security import csrf
from tests.factories import agree_to_health_data, make_course, make_user

# Generates hundreds of requests from the OpenAPI description.
pytestmark = pytest.mark.slow

# A fixed moment for every request, so drip dates and the practice window do not move.
NOW = datetime(2026, 5, 14, 10, 0, tzinfo=UTC)
# Generated requests per operation in the fuzzing phase (the examples and coverage phases add
# their own, a fixed set); fifteen operations for two visitors then take about 25 s of CPU per
# backend.
MAX_EXAMPLES = 25
SEED = 20260514
BASE_URL = "http://testserver"
# How often a slug or step id is a real one instead of a generated one.
REAL_VALUE_PROBABILITY = 0.8
PAID, FREE, DRAFT = "fuzz-paid", "fuzz-free", "fuzz-draft"
LESSONS = ["les-1-1", "les-1-2", "les-2-1", "les-2-2"]
# Schemathesis compiles its dictionaries when the module is imported, before any test data
# exists, so the steps of the paid course are stored under these ids: the steps of les-1-1
# (open) and of les-2-1 (module 2, which the drip schedule still holds back).
OPEN_STEPS = [910_001, 910_002, 910_003]
LOCKED_STEPS = [910_011, 910_012, 910_013]
# Recent moments, inside the window a practice may be logged in, and valid ISO 8601 date-times
# whose UTC time falls before year 1 or after 9999 (once a 500 from the practice list).
MOMENTS = [(NOW - timedelta(hours=h)).isoformat() for h in (0, 1, 30)]
EDGE_MOMENTS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


def _config() -> SchemathesisConfig:
    """Few examples, a fixed seed, no example database on disk, and real values mixed in."""
    real = {"probability": REAL_VALUE_PROBABILITY}
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                # Schema-valid input may still break a rule the schema cannot state (a practice
                # from months ago, another learner's log without naming the course): Kern
                # refuses it with the documented 422, which this check would call a failure.
                "positive_data_acceptance": {"enabled": False},
            },
            "dictionaries": {
                "courses": {"values": [PAID, FREE, DRAFT]},
                "lessons": {"values": LESSONS},
                "steps": {"values": OPEN_STEPS + LOCKED_STEPS},
                "moments": {"values": MOMENTS + EDGE_MOMENTS},
            },
            "parameters": {
                "path.slug": {"dictionary": "courses", **real},
                "query.course": {"dictionary": "courses", **real},
                "path.lesson_slug": {"dictionary": "lessons", **real},
                "body.step_id": {"dictionary": "steps", **real},
                "body.practised_at": {"dictionary": "moments", **real},
                "query.before": {"dictionary": "moments", **real},
            },
        }
    )


def _describing_app() -> FastAPI:
    """Kern as it describes itself; the description needs no database."""
    return create_app(
        Settings(
            app_env="test",
            database_url="sqlite://",
            secret_key="fuzz-" + "k" * 40,
            base_url=BASE_URL,
            smtp_url=None,
        )
    )


schema = schemathesis.openapi.from_asgi("/api/openapi.json", _describing_app(), config=_config())


@pytest.fixture
def alice(session: Session) -> User:
    """The learner the fuzzer signs in as: her paid drip course (module 2 opens in a week) with
    a completed lesson and a logged practice, Bob in the same course, a free course she has not
    started, and a draft she may not see."""
    course = make_course(session, slug=PAID, price_cents=4900, steps_per_lesson=3, drip_days=[0, 7])
    make_course(session, slug=FREE)
    make_course(session, slug=DRAFT, status=CourseStatus.draft)
    lessons = {
        lesson.slug: lesson
        for lesson in session.exec(select(Lesson).where(Lesson.course_id == course.id)).all()
    }
    for slug, ids in (("les-1-1", OPEN_STEPS), ("les-2-1", LOCKED_STEPS)):
        steps = session.exec(
            select(Step).where(Step.lesson_id == lessons[slug].id).order_by(col(Step.position))
        ).all()
        for step, step_id in zip(steps, ids, strict=True):
            step.id = step_id
    session.flush()
    alice = agree_to_health_data(session, make_user(session, name="Alice", language="en"))
    for user in (alice, make_user(session, name="Bob", language="en")):
        enrolment = enrolment_service.grant(
            session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
        )
        enrolment.enrolled_at = NOW - timedelta(days=3)
        session.add(enrolment)
    session.flush()
    progress_service.complete(session, user_id=alice.id or 0, lesson=lessons["les-1-1"], now=NOW)
    exercise = session.get(Step, OPEN_STEPS[0])
    assert exercise is not None
    assert exercise.kind == StepKind.exercise
    entry = practice.PracticeInput(
        client_id="fuzz-seed-0001",
        step_id=OPEN_STEPS[0],
        practised_at=NOW - timedelta(hours=2),
        duration_seconds=300,
        sets_done=3,
        reps_done=30,
        effort=3,
    )
    practice.log(session, user=alice, entry=entry, now=NOW)
    return alice


@pytest.fixture(params=["anonymous", "alice"])
def browser(
    request: pytest.FixtureRequest, session: Session, settings: Settings, alice: User
) -> dict[str, str]:
    """The headers a browser sends: its CSRF cookie echoed in the header, its own Origin and,
    for Alice, her session cookie."""
    token = secrets.token_urlsafe(csrf.TOKEN_BYTES)
    cookies = {csrf.cookie_name(production=False): token}
    if request.param == "alice":
        cookies[sessions.cookie_name(settings)] = sessions.start(
            session, settings, user=alice, user_agent="schemathesis", ip_address="127.0.0.1"
        )
    return {
        "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
        "X-CSRF-Token": token,
        "Origin": BASE_URL,
        "Accept-Language": "en",
    }


@pytest.fixture
def kern(app: FastAPI) -> FastAPI:
    """The app on the test's transaction, at a fixed moment."""
    app.dependency_overrides[current_time] = lambda: NOW
    return app


@schema.parametrize()
# One app and transaction serve all of an operation's examples, as one server serves many
# requests; what one request stores, the next may see.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_answers_as_described(case: Case[Any], kern: FastAPI, browser: dict[str, str]) -> None:
    case.call_and_validate(app=kern, headers=browser)


# What the fuzzer found, pinned down so it stays fixed whatever the generator draws next time.


@pytest.mark.parametrize("before", [*EDGE_MOMENTS, "1747200000", "0.5"])
def test_a_moment_without_utc_equivalent_or_a_number_is_refused(
    kern: FastAPI, session: Session, settings: Settings, alice: User, before: str
) -> None:
    token = sessions.start(session, settings, user=alice, user_agent="pytest", ip_address="::1")
    with TestClient(kern, base_url=BASE_URL) as client:
        client.cookies.set(sessions.cookie_name(settings), token)
        response = client.get("/api/v1/practice", params={"before": before})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"before"}
