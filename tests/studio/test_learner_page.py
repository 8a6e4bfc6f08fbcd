"""One learner at a glance in the studio: her enrolment and last activity, lessons done per
module, practice days and minutes per week with a table, every practice newest first in pages,
the journal entries she shared with this course (only those) and her questions with a link to
the conversation; a fixed number of statements however long her history; her instructor and
admins only."""

import itertools
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session

from api.accounts.models import Role, User
from api.attention.models import AttentionHandled
from api.catalog.models import Course
from api.clock import current_time, local_day
from api.enrolment.models import Enrolment
from api.journal.models import JournalEntry
from api.kit.ids import id_of
from api.messages.models import Message, Thread
from api.progress.models import PracticeLog
from tests.catalog.test_pages_queries import recording
from tests.factories import enable_totp, log_in, make_course, make_user
from tests.questionnaires.checkin_factories import complete, enrol_at, lessons_of

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 19, 10, 0, tzinfo=AMSTERDAM)  # a Thursday
# The session lookup, the course, her enrolment with her account, her practices (one page),
# her conversation, her last activity, lessons per module, practice per week, her check-ins
# her shared journal entries and what was marked handled about her on the attention list.
PAGE_STATEMENTS = 11
_clients = itertools.count(1)


@pytest.fixture
def clock(app: FastAPI) -> Iterator[datetime]:
    app.dependency_overrides[current_time] = lambda: NOW
    yield NOW
    app.dependency_overrides.pop(current_time, None)


@pytest.fixture
def teacher(client: TestClient, session: Session, clock: datetime) -> User:
    user = make_user(session, name="Tessa Therapeut", role=Role.instructor)
    log_in(client, user, secret=enable_totp(session, user))
    return user


@pytest.fixture
def course(session: Session, teacher: User) -> Course:
    return make_course(session, instructor=teacher, modules=2, lessons_per_module=3)


@pytest.fixture
def anna(session: Session, course: Course) -> tuple[User, Enrolment]:
    learner = make_user(session, name="Anna de Boer")
    return learner, enrol_at(session, learner, course, NOW - timedelta(days=40))


def practise(
    session: Session, learner: User, course: Course, at: datetime, *, note: str = ""
) -> PracticeLog:
    row = PracticeLog(
        user_id=id_of(learner),
        client_id=f"c{next(_clients)}",
        course_id=id_of(course),
        step_title="Langzaam aanspannen",
        step_kind="exercise",
        practised_at=at,
        practised_on=local_day(at),
        duration_seconds=300,
        sets_done=2,
        reps_done=8,
        effort=3,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def write(session: Session, learner: User, day: date, text: str, shared: Course | None) -> None:
    session.add(
        JournalEntry(
            user_id=id_of(learner),
            day=day,
            text=text,
            tension=4,
            shared_course_id=shared.id if shared else None,
            shared_at=NOW if shared else None,
        )
    )
    session.flush()


def url_of(course: Course, enrolment: Enrolment) -> str:
    return f"/studio/courses/{course.slug}/learners/{enrolment.id}"


def test_her_page_shows_progress_practice_journal_and_questions(
    client: TestClient, session: Session, course: Course, anna: tuple[User, Enrolment]
) -> None:
    learner, enrolment = anna
    complete(session, learner, lessons_of(session, course)[:2], NOW - timedelta(days=20))
    practise(session, learner, course, NOW - timedelta(days=1), note="Voelde goed, rustig.")
    practise(session, learner, course, NOW - timedelta(days=8))
    write(session, learner, date(2026, 11, 18), "Vandaag minder spanning.", shared=course)
    write(session, learner, date(2026, 11, 17), "Privé: alleen voor mij.", shared=None)
    other = make_course(session)
    write(session, learner, date(2026, 11, 16), "Gedeeld met een andere cursus.", shared=other)
    thread = Thread(
        course_id=id_of(course),
        learner_id=id_of(learner),
        awaiting_reply_since=NOW - timedelta(hours=3),
    )
    session.add(thread)
    session.flush()
    session.add(
        Message(
            thread_id=id_of(thread),
            author_id=id_of(learner),
            body="Mag ik dit ook staand doen?",
            created_at=NOW - timedelta(hours=3),
        )
    )
    session.flush()

    html = client.get(url_of(course, enrolment)).text

    assert "<h1>Anna de Boer</h1>" in html
    assert "Laatst actief" in html
    assert "18 november 2026" in html
    assert html.count("2 van 3 lessen") == 1
    assert html.count("0 van 3 lessen") == 1
    assert html.count('class="practice-item"') == 2
    assert "Voelde goed, rustig." in html
    assert "Inspanning 3 van 5" in html
    # The week of 16 November: one day, five minutes; the week before: the same.
    assert 'data-week="2026-11-16">16 nov – 22 nov</th><td>1</td><td>5</td>' in html
    assert 'data-week="2026-11-09">9 nov – 15 nov</th><td>1</td><td>5</td>' in html
    assert 'data-minutes="5"' in html
    assert "Vandaag minder spanning." in html
    assert "Privé" not in html
    assert "andere cursus" not in html
    assert "Mag ik dit ook staand doen?" in html
    assert f'href="/studio/courses/{course.slug}/questions/{thread.id}"' in html
    assert "Afgehandeld op de aandachtslijst" not in html


def test_her_page_shows_what_was_handled_about_her_with_the_note(
    client: TestClient,
    session: Session,
    teacher: User,
    course: Course,
    anna: tuple[User, Enrolment],
) -> None:
    learner, enrolment = anna
    session.add(
        AttentionHandled(
            course_id=id_of(course),
            learner_id=id_of(learner),
            reason_key="inactive:2026-11-01",
            note="Ze was op vakantie.",
            handled_by_id=id_of(teacher),
        )
    )
    session.flush()
    html = client.get(url_of(course, enrolment)).text
    assert "Afgehandeld op de aandachtslijst" in html
    assert "Niet actief" in html
    assert "Ze was op vakantie." in html


def test_her_practices_come_in_pages_newest_first(
    client: TestClient, session: Session, course: Course, anna: tuple[User, Enrolment]
) -> None:
    learner, enrolment = anna
    for number in range(35):
        practise(session, learner, course, NOW - timedelta(hours=number + 1), note=f"nr {number}")
    first = client.get(url_of(course, enrolment)).text
    assert first.count('class="practice-item"') == 30
    assert first.index("nr 0<") < first.index("nr 1<")
    older = re.search(r'href="([^"]+\?after=[^"#]+)#practices"', first)
    assert older is not None
    second = client.get(older.group(1)).text
    assert second.count('class="practice-item"') == 5
    assert "nr 30<" in second
    assert "nr 29<" not in second


def test_her_page_costs_the_same_statements_with_a_long_history(
    client: TestClient,
    session: Session,
    connection: Connection,
    course: Course,
    anna: tuple[User, Enrolment],
) -> None:
    learner, enrolment = anna

    def count() -> int:
        with recording(connection) as seen:
            assert client.get(url_of(course, enrolment)).status_code == 200
        return len(seen)

    empty = count()
    complete(session, learner, lessons_of(session, course), NOW - timedelta(days=30))
    for number in range(40):
        practise(session, learner, course, NOW - timedelta(days=number, hours=1))
        write(session, learner, date(2026, 11, 18) - timedelta(days=number), "x", shared=course)
    assert count() == empty == PAGE_STATEMENTS


def test_another_instructor_does_not_reach_her_page(
    client: TestClient, session: Session, course: Course, anna: tuple[User, Enrolment]
) -> None:
    _learner, enrolment = anna
    stranger = make_user(session, role=Role.instructor)
    client.cookies.clear()
    log_in(client, stranger, secret=enable_totp(session, stranger))
    assert client.get(url_of(course, enrolment)).status_code == 403
    own = make_course(session, instructor=stranger)
    assert client.get(f"/studio/courses/{own.slug}/learners/{enrolment.id}").status_code == 404
