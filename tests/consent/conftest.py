"""A learner in a course with an exercise, her browser, and what she has stored."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, Lesson, Step, StepKind
from api.clock import current_time
from api.consent.models import Consent
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress.models import PracticeLog
from tests.factories import csrf_token, log_in, make_course, make_user

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


@dataclass
class Learner:
    """Lotte: enrolled in a course, signed in in her own browser, not asked anything yet."""

    user: User
    client: TestClient
    course: Course
    step: Step

    def practise(self, client_id: str) -> Response:
        """Send a practice of the exercise, as the guided player does."""
        response: Response = self.client.post(
            "/api/v1/practice",
            json={
                "client_id": client_id,
                "step_id": self.step.id,
                "practised_at": NOW.isoformat(),
                "duration_seconds": 90,
                "sets_done": 1,
                "reps_done": 8,
                "effort": 3,
                "note": "Ging goed",
            },
            headers={"X-CSRF-Token": csrf_token(self.client)},
        )
        return response


@pytest.fixture(autouse=True)
def fixed_time(app: FastAPI) -> None:
    app.dependency_overrides[current_time] = lambda: NOW


def enrolled_learner(session: Session, client: TestClient, name: str = "Lotte") -> Learner:
    user = make_user(session, name=name)
    course = make_course(session, modules=1, lessons_per_module=2, steps_per_lesson=2)
    enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )
    step = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == course.id, Step.kind == StepKind.exercise)
    ).first()
    assert step is not None
    log_in(client, user)
    return Learner(user, client, course, step)


@pytest.fixture
def lotte(session: Session, client: TestClient) -> Learner:
    return enrolled_learner(session, client)


def logs_of(session: Session, user: User) -> int:
    return int(session.exec(select(func.count()).where(col(PracticeLog.user_id) == user.id)).one())


def consents_of(session: Session, user: User) -> list[Consent]:
    session.expire_all()
    return list(
        session.exec(
            select(Consent).where(Consent.user_id == user.id).order_by(col(Consent.id))
        ).all()
    )


def fresh(session: Session, user: User) -> User:
    """The account row as the database has it now."""
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return found
