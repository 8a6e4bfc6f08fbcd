"""The "Vandaag" page and a signed-in learner's lesson page cost the same small number of SQL
statements with a little history as with a lot: one per kind of data, never one per course,
lesson, step or logged practice."""

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course, Lesson, Step, StepKind
from api.clock import current_time
from api.consent import service as consent_service
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.kit.ids import id_of
from api.messages.models import LessonQuestion
from api.progress import practice
from api.progress import service as progress_service
from api.questionnaires.models import Measurement, Questionnaire
from tests.catalog.test_pages_queries import recording
from tests.factories import agree_to_health_data, log_in, make_course, make_user
from tests.questionnaires.checkin_factories import add_check_in, make_questionnaire

NOW = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
# One statement reads her session and account, her enrolled courses with her progress in each
# and their check-ins, her practice (the days she practised and today's count per step), the
# answers from her therapist she has not read yet, whether to offer her a practice reminder and
# the check-ins she filled in (api/progress/today.py). The courses' modules, lessons and steps
# come from the per-version content cache (api/catalog/content.py), which the first request
# after a change fills with three more.
TODAY_STATEMENTS = 1
# One statement reads her session and account, the course with its instructor, her enrolment,
# her progress in the course and the lesson's public questions and answers
# (api/catalog/lesson_page.py); a second writes the visit for "continue where you left off" (not
# again within 15 minutes).
LESSON_READ = 1
LESSON_STATEMENTS = LESSON_READ + 1
CONTENT_STATEMENTS = 3

Measure = Callable[[str], list[str]]


@pytest.fixture
def statements(client: TestClient, connection: Connection) -> Measure:
    """GET a URL (successfully) at NOW and return the statements that request ran."""
    client.app.dependency_overrides[current_time] = lambda: NOW  # type: ignore[attr-defined]

    def measure(url: str) -> list[str]:
        with recording(connection) as seen:
            response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.text[:300]}"
        return list(seen)

    return measure


@pytest.fixture
def alice(client: TestClient, session: Session) -> User:
    user = make_user(session)
    log_in(client, user)
    return user


def enrol(session: Session, user: User, course: Course) -> None:
    enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )


def lessons_of(session: Session, course: Course) -> list[Lesson]:
    return list(
        session.exec(
            select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.id))
        ).all()
    )


def practise(session: Session, user: User, steps: list[Step], count: int, days: int) -> None:
    """`count` logs spread over the last `days` days, through the practice service."""
    if not consent_service.has_health_consent(user):
        agree_to_health_data(session, user)
    for n in range(count):
        step = steps[n % len(steps)]
        at = NOW - timedelta(days=n % days, minutes=n)
        entry = practice.PracticeInput(
            client_id=f"load-{user.id}-{n}",
            step_id=step.id or 0,
            practised_at=at,
            duration_seconds=300,
            sets_done=3,
            reps_done=30,
        )
        practice.log(session, user=user, entry=entry, now=NOW)


def practice_steps(session: Session, lessons: list[Lesson]) -> list[Step]:
    kinds = [StepKind.exercise.value, StepKind.breathing.value]
    return list(
        session.exec(
            select(Step).where(
                col(Step.lesson_id).in_([lesson.id for lesson in lessons]),
                col(Step.kind).in_(kinds),
            )
        ).all()
    )


def a_little(session: Session, user: User) -> Course:
    """One course of one lesson she opened, and one logged practice."""
    course = make_course(session, modules=1, lessons_per_module=1, steps_per_lesson=1)
    enrol(session, user, course)
    lessons = lessons_of(session, course)
    progress_service.complete(session, user_id=user.id or 0, lesson=lessons[0], now=NOW)
    practise(session, user, practice_steps(session, lessons), count=1, days=1)
    return course


def a_lot(session: Session, user: User) -> list[Course]:
    """Three courses of 24 lessons, most of them opened or done, and 500 logs over 60 days."""
    courses = [
        make_course(session, modules=6, lessons_per_module=4, steps_per_lesson=3) for _ in range(3)
    ]
    opened: list[Lesson] = []
    for course in courses:
        enrol(session, user, course)
        lessons = lessons_of(session, course)
        for index, lesson in enumerate(lessons[:20]):
            moment = NOW - timedelta(days=30 - index)
            if index % 3:
                progress_service.complete(session, user_id=user.id or 0, lesson=lesson, now=moment)
            else:
                progress_service.save_position(
                    session, user_id=user.id or 0, lesson=lesson, seconds=60, now=moment
                )
        opened.extend(lessons[:20])
    practise(session, user, practice_steps(session, opened), count=500, days=60)
    return courses


def test_today_costs_the_same_statements_with_a_little_and_a_lot_of_history(
    session: Session, alice: User, statements: Measure
) -> None:
    a_little(session, alice)
    first = statements("/today")
    little = statements("/today")

    a_lot(session, alice)
    statements("/today")
    much = statements("/today")

    assert len(first) == TODAY_STATEMENTS + CONTENT_STATEMENTS, first
    assert len(little) == len(much) == TODAY_STATEMENTS, (little, much)


def with_check_ins(session: Session, courses: list[Course]) -> list[Questionnaire]:
    """An enrolment check-in and one every 7 days in each course."""
    made = []
    for course in courses:
        questionnaire = make_questionnaire(session, course, slug=f"check-in-{course.id}")
        add_check_in(session, course, questionnaire, "enrolment")
        add_check_in(session, course, questionnaire, "every", position=1, every_days=7)
        made.append(questionnaire)
    return made


def filled_in(session: Session, user: User, questionnaire: Questionnaire, when: str) -> None:
    """A measurement of the occasion, as a check-in she sent would store it."""
    session.add(
        Measurement(
            user_id=id_of(user),
            questionnaire_id=id_of(questionnaire),
            course_id=questionnaire.course_id,
            occasion=f"c{questionnaire.course_id}:q{questionnaire.id}:{when}",
            score=10,
            taken_at=NOW,
        )
    )
    session.flush()


def test_today_with_check_ins_costs_no_statement_more_whatever_her_history(
    session: Session, alice: User, statements: Measure
) -> None:
    little_course = a_little(session, alice)
    questionnaires = with_check_ins(session, [little_course])
    statements("/today")
    little = statements("/today")

    questionnaires += with_check_ins(session, a_lot(session, alice))
    # She filled in many of them: each course's baseline, and a year of weeks.
    for questionnaire in questionnaires:
        for when in ("enrolment", *(f"every-7-{k}" for k in range(1, 53))):
            filled_in(session, alice, questionnaire, when)
    statements("/today")
    much = statements("/today")

    assert len(little) == len(much) == TODAY_STATEMENTS, (little, much)


def test_a_signed_in_lesson_page_costs_the_same_statements_whatever_her_history(
    session: Session, alice: User, statements: Measure
) -> None:
    a_little(session, alice)
    # A lesson she has not opened yet, so both visits are written.
    extra = make_course(session, modules=1, lessons_per_module=2, steps_per_lesson=1)
    enrol(session, alice, extra)
    statements(f"/courses/{extra.slug}")  # her first look at the course fills the cache
    little = statements(f"/courses/{extra.slug}/lessons/les-1-2")

    large = a_lot(session, alice)[0]
    for position in range(5):
        session.add(
            LessonQuestion(
                lesson_id=id_of(lessons_of(session, large)[-1]),
                position=position,
                question=f"Vraag {position}",
                answer=f"Antwoord {position}",
            )
        )
    session.flush()
    statements(f"/courses/{large.slug}")
    much = statements(f"/courses/{large.slug}/lessons/les-6-4")
    again = statements(f"/courses/{large.slug}/lessons/les-6-4")

    assert len(little) == len(much) == LESSON_STATEMENTS, (little, much)
    # Reading a lesson she is on: one statement, nothing written.
    assert len(again) == LESSON_READ, again
    assert not any(sql.lstrip().upper().startswith(("INSERT", "UPDATE")) for sql in again)


# Today's routine: the session lookup, her enrolled courses and her progress; the steps come
# from the content cache, as on Vandaag.
ROUTINE_STATEMENTS = 3


def test_todays_routine_costs_the_same_statements_whatever_her_history(
    session: Session, alice: User, statements: Measure
) -> None:
    a_little(session, alice)
    statements("/today/routine")
    little = statements("/today/routine")

    a_lot(session, alice)
    statements("/today/routine")
    much = statements("/today/routine")

    assert len(little) == len(much) == ROUTINE_STATEMENTS, (little, much)
