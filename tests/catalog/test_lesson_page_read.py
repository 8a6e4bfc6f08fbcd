"""The lesson page reads her session with the page's data in one statement
(api/catalog/lesson_page.py): what it finds must be as current as a separate session lookup
would be. A logout, an expired session, a revoked enrolment and an edited question show on the
very next request; so must Vandaag, which reads her session with its data too."""

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api import i18n
from api.accounts.models import AuthSession, Role, User
from api.catalog.models import Course, Lesson
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.kit.ids import id_of
from api.messages.models import LessonQuestion
from tests.factories import log_in, make_course, make_user, post_form

COMPLETE_BUTTON = "/complete"


def setup(session: Session, client: TestClient) -> tuple[User, Course, str]:
    """Alice, signed in and enrolled in a course, and the address of its second lesson (not a
    free preview)."""
    alice = make_user(session)
    course = make_course(session, modules=1, lessons_per_module=2)
    enrolment_service.grant(
        session, user_id=alice.id, course_id=course.id, source=EnrolmentSource.manual
    )
    log_in(client, alice)
    return alice, course, f"/courses/{course.slug}/lessons/les-1-2"


def lesson(session: Session, course: Course, slug: str) -> Lesson:
    return session.exec(
        select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == slug)
    ).one()


def test_a_logout_and_an_expired_session_show_on_the_next_lesson_page(
    client: TestClient, session: Session
) -> None:
    alice, _course, url = setup(session, client)
    page = client.get(url)
    assert page.status_code == 200
    assert COMPLETE_BUTTON in page.text

    post_form(client, "/logout", {})
    assert client.get(url).status_code == 403  # locked: she is nobody now

    log_in(client, alice)
    assert client.get(url).status_code == 200
    row = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).one()
    row.expires_at = row.created_at
    session.add(row)
    session.flush()
    assert client.get(url).status_code == 403
    session.expire_all()
    # The lesson page removed the expired session, as every other page does.
    assert session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all() == []


def test_a_revoked_enrolment_locks_the_next_lesson_page(
    client: TestClient, session: Session
) -> None:
    alice, course, url = setup(session, client)
    assert client.get(url).status_code == 200

    enrolment = enrolment_service.find(session, user_id=id_of(alice), course_id=id_of(course))
    assert enrolment is not None
    admin = make_user(session, role=Role.admin)
    enrolment_service.revoke(session, enrolment=enrolment, by=admin, note="Terugbetaald")
    session.flush()

    assert client.get(url).status_code == 403


def test_public_questions_show_in_their_order_and_an_edit_at_once(
    client: TestClient, session: Session
) -> None:
    _alice, course, url = setup(session, client)
    lesson_id = id_of(lesson(session, course, "les-1-2"))
    for position, word in ((2, "Derde"), (0, "Eerste"), (1, "Tweede")):
        session.add(
            LessonQuestion(
                lesson_id=lesson_id, position=position, question=f"{word} vraag?", answer="Ja."
            )
        )
    # Another lesson's question is not this lesson's.
    session.add(
        LessonQuestion(
            lesson_id=id_of(lesson(session, course, "les-1-1")), question="Elders?", answer="Nee."
        )
    )
    session.flush()

    text = client.get(url).text
    shown = [text.index(f"{word} vraag?") for word in ("Eerste", "Tweede", "Derde")]
    assert shown == sorted(shown)
    assert "Elders?" not in text
    # Anonymous visitors of a free preview see its questions too.
    assert "Elders?" in client.get(f"/courses/{course.slug}/lessons/les-1-1").text

    first = session.exec(
        select(LessonQuestion).where(
            LessonQuestion.lesson_id == lesson_id, LessonQuestion.position == 0
        )
    ).one()
    first.question = "Herschreven vraag?"
    session.add(first)
    session.flush()
    assert "Herschreven vraag?" in client.get(url).text


def test_her_progress_is_read_with_its_moments(client: TestClient, session: Session) -> None:
    """Her progress comes as JSON beside the row; its moments must survive the trip on both
    databases (the page says when she completed the lesson)."""
    _alice, _course, url = setup(session, client)
    post_form(client, url + "/complete", {})
    client.cookies.set(i18n.LOCALE_COOKIE, "en")
    page = client.get(url).text
    assert re.search(rf"Completed on \d{{1,2}} [A-Z][a-z]+ {utcnow().year}", page), page


def test_vandaag_sees_a_logout_and_an_expired_session_at_once(
    client: TestClient, session: Session
) -> None:
    """Vandaag reads her session with its data too (api/progress/today.py)."""
    alice, _course, _url = setup(session, client)
    assert client.get("/today").status_code == 200

    post_form(client, "/logout", {})
    assert client.get("/today", follow_redirects=False).status_code == 303

    log_in(client, alice)
    row = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).one()
    row.expires_at = row.created_at
    session.add(row)
    session.flush()
    assert client.get("/today", follow_redirects=False).status_code == 303
