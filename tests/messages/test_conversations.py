# ruff: noqa: PLR0917 (tests take their people and course as fixtures)
"""Private questions: alice asks her therapist (ingrid) from a lesson or from "Vandaag", sees
the answer; ingrid's inbox puts the longest waiting first; mails say only that there is a
message; bob and another instructor reach none of it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, Lesson
from api.clock import current_time
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.kit.ids import id_of
from api.messages.models import LessonQuestion, Message, Thread
from api.messages.service import PER_HOUR
from api.reminders.models import MailPreference
from tests.catalog.test_pages_queries import recording
from tests.factories import (
    agree_to_health_data,
    carries_csrf_token,
    enable_totp,
    log_in,
    make_course,
    make_user,
    new_browser,
    post_form,
)
from tests.smtp import Mailbox, links_in, text_of

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
QUESTION = "Mag ik de oefening ook liggend doen?\nIk voel het vooral links."


@pytest.fixture
def ingrid(session: Session) -> User:
    return make_user(session, name="Ingrid Docent", role=Role.instructor)


@pytest.fixture
def course(session: Session, ingrid: User) -> Course:
    return make_course(session, instructor=ingrid)


def enrolled(session: Session, course: Course, name: str, *, consent: bool = True) -> User:
    user = make_user(session, name=name)
    enrolment_service.grant(
        session, user_id=user.id, course_id=course.id, source=EnrolmentSource.manual
    )
    return agree_to_health_data(session, user) if consent else user


@pytest.fixture
def alice(session: Session, course: Course) -> User:
    return enrolled(session, course, "Alice de Vries")


@pytest.fixture
def at_now(client: TestClient) -> None:
    client.app.dependency_overrides[current_time] = lambda: NOW  # type: ignore[attr-defined]


def as_staff(client: TestClient, session: Session, user: User) -> TestClient:
    browser = new_browser(client)
    log_in(browser, user, secret=enable_totp(session, user))
    return browser


def ask(client: TestClient, course: Course, body: str = QUESTION, **extra: str):  # type: ignore[no-untyped-def]
    return post_form(client, f"/courses/{course.slug}/questions", {"body": body, **extra})


def thread_of(session: Session, user: User) -> Thread:
    return session.exec(select(Thread).where(Thread.learner_id == user.id)).one()


def test_she_asks_from_a_lesson_and_the_lesson_is_remembered(
    client: TestClient, session: Session, course: Course, alice: User, mailbox: Mailbox,
    ingrid: User,
) -> None:  # fmt: skip
    log_in(client, alice)
    page = client.get(f"/courses/{course.slug}/lessons/les-1-2")
    assert "Stel een vraag" in page.text
    assert 'name="lesson" value="les-1-2"' in page.text

    sent = ask(client, course, lesson="les-1-2")
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/courses/{course.slug}/questions?notice=sent#latest"
    thread = client.get(f"/courses/{course.slug}/questions")
    assert "Mag ik de oefening ook liggend doen?\nIk voel het vooral links." in thread.text
    assert "Les 1.2" in thread.text
    message = session.exec(select(Message)).one()
    lesson = session.get(Lesson, message.lesson_id)
    assert lesson is not None
    assert lesson.slug == "les-1-2"

    [mail] = mailbox.wait_for(1)
    assert mail["To"] == ingrid.email
    assert mail["Subject"] == "Nieuwe vraag in Kern"
    text = text_of(mail)
    assert "liggend" not in text
    assert "Alice" not in text
    assert "liggend" not in str(mail)
    thread_id = thread_of(session, alice).id
    assert links_in(mail)[0] == (
        f"http://testserver/studio/courses/{course.slug}/questions/{thread_id}"
    )


def test_from_vandaag_she_picks_the_course_when_she_has_several(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    other = make_course(session)
    enrolment_service.grant(
        session, user_id=alice.id, course_id=other.id, source=EnrolmentSource.manual
    )
    log_in(client, alice)
    today = client.get("/today")
    assert 'name="course"' in today.text
    assert other.title in today.text

    refused = post_form(client, "/questions", {"body": "Een vraag"})
    assert refused.status_code == 422
    assert "Kies de cursus" in refused.text
    assert "Een vraag" in refused.text

    sent = post_form(client, "/questions", {"body": "Een vraag", "course": other.slug})
    assert sent.headers["location"].startswith(f"/courses/{other.slug}/questions")
    thread = session.exec(select(Thread)).one()
    assert thread.course_id == other.id


def test_vandaags_question_form_offers_each_learner_her_own_courses(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    """The form is rendered once and kept by the courses it offers: another learner with
    other courses gets her own form, with her own browser's token."""
    other_course = make_course(session)
    enrolment_service.grant(
        session, user_id=alice.id, course_id=other_course.id, source=EnrolmentSource.manual
    )
    bob = enrolled(session, course, "Bob")
    bobs_browser = new_browser(client)
    log_in(client, alice)
    log_in(bobs_browser, bob)

    hers, his = client.get("/today").text, bobs_browser.get("/today").text

    assert 'name="course"' in hers
    assert f'<option value="{other_course.slug}"' in hers
    assert f'<input type="hidden" name="course" value="{course.slug}">' in his
    assert other_course.slug not in his
    assert carries_csrf_token(client, hers)
    assert carries_csrf_token(bobs_browser, his)


def test_without_consent_the_form_asks_for_it_and_keeps_her_text(
    client: TestClient, session: Session, course: Course
) -> None:
    noor = enrolled(session, course, "Noor", consent=False)
    log_in(client, noor)
    assert 'name="agree"' in client.get(f"/courses/{course.slug}/lessons/les-1-1").text

    refused = ask(client, course)
    assert refused.status_code == 409
    assert "Vink het vakje aan" in refused.text
    assert "Mag ik de oefening ook liggend doen?" in refused.text
    assert session.exec(select(Message)).first() is None

    page = client.get(f"/courses/{course.slug}/questions")
    version = page.text.split('name="version" value="')[1].split('"')[0]
    assert ask(client, course, agree="yes", version=version).status_code == 303
    assert session.exec(select(Message)).one().body == QUESTION


def test_the_lesson_form_asks_consent_only_of_who_has_not_given_it(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    """The lesson's question form is rendered once and kept: with her consent and without it
    are two forms, and each page carries its own browser's token."""
    noor = enrolled(session, course, "Noor", consent=False)
    other = new_browser(client)
    log_in(client, alice)
    log_in(other, noor)
    lesson = f"/courses/{course.slug}/lessons/les-1-1"

    hers, noors, again = client.get(lesson).text, other.get(lesson).text, client.get(lesson).text

    assert 'name="agree"' not in hers
    assert 'name="agree"' in noors
    assert 'name="agree"' not in again
    assert carries_csrf_token(client, hers)
    assert carries_csrf_token(other, noors)
    version = noors.split('name="version" value="')[1].split('"')[0]
    assert ask(other, course, agree="yes", version=version).status_code == 303


@pytest.mark.parametrize(("body", "message"), [("   \n ", "Schrijf eerst"), ("a" * 4001, "4001")])
def test_an_empty_or_too_long_message_is_refused_and_kept(
    client: TestClient, session: Session, course: Course, alice: User, body: str, message: str
) -> None:
    log_in(client, alice)
    refused = ask(client, course, body=body)
    assert refused.status_code == 422
    assert message in refused.text
    assert session.exec(select(Message)).first() is None
    assert ask(client, course, body="a" * 4000).status_code == 303


def test_too_many_messages_in_an_hour_are_refused_with_a_clear_message(
    client: TestClient, session: Session, course: Course, alice: User, at_now: None
) -> None:
    log_in(client, alice)
    for _ in range(PER_HOUR.attempts):
        assert ask(client, course, body="Nog een vraag").status_code == 303
    refused = ask(client, course, body="Deze is te veel")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "veel berichten" in refused.text
    assert "Deze is te veel" in refused.text
    assert len(session.exec(select(Message)).all()) == PER_HOUR.attempts


def test_her_text_is_shown_as_text(
    client: TestClient, session: Session, course: Course, alice: User, ingrid: User
) -> None:
    log_in(client, alice)
    ask(client, course, body="<script>alert(1)</script> & <b>vet</b>")
    page = client.get(f"/courses/{course.slug}/questions")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;vet&lt;/b&gt;" in page.text
    assert "<script>alert" not in page.text
    studio = as_staff(client, session, ingrid)
    thread = thread_of(session, alice)
    shown = studio.get(f"/studio/courses/{course.slug}/questions/{thread.id}")
    assert "&lt;script&gt;alert(1)" in shown.text
    assert "<script>alert" not in shown.text


def test_the_answer_shows_on_vandaag_until_she_reads_it(
    client: TestClient, session: Session, course: Course, alice: User, ingrid: User,
    mailbox: Mailbox,
) -> None:  # fmt: skip
    log_in(client, alice)
    ask(client, course)
    mailbox.wait_for(1)
    mailbox.clear()
    thread = thread_of(session, alice)
    assert thread.awaiting_reply_since is not None
    studio = as_staff(client, session, ingrid)
    path = f"/studio/courses/{course.slug}/questions/{thread.id}"
    studio.get(path)
    session.refresh(thread)
    assert thread.instructor_read_at is not None

    answered = post_form(studio, path, {"body": "Ja, liggend mag ook.\nBegin rustig."})
    assert answered.status_code == 303
    session.refresh(thread)
    assert thread.awaiting_reply_since is None

    [mail] = mailbox.wait_for(1)
    assert mail["To"] == alice.email
    assert mail["Subject"] == "Je hebt een nieuw bericht in Kern"
    assert "liggend" not in text_of(mail)
    assert "Ingrid" not in text_of(mail)
    assert links_in(mail)[0] == f"http://testserver/courses/{course.slug}/questions"

    assert "Je therapeut heeft geantwoord" in client.get("/today").text
    page = client.get(f"/courses/{course.slug}/questions")
    assert "Ja, liggend mag ook.\nBegin rustig." in page.text
    assert "Je therapeut heeft geantwoord" not in client.get("/today").text


def test_a_learner_who_turned_message_mails_off_gets_none(
    client: TestClient, session: Session, course: Course, alice: User, ingrid: User,
    mailbox: Mailbox,
) -> None:  # fmt: skip
    session.add(MailPreference(user_id=id_of(ingrid), new_message=False))
    session.flush()
    log_in(client, alice)
    ask(client, course)
    assert mailbox.deliver().handled == 0
    assert mailbox.messages == []

    log_in(client, alice)
    page = client.get("/account/mail")
    assert 'name="new_message"' in page.text
    saved = post_form(client, "/account/mail", {"module_opened": "on"})
    assert saved.status_code == 303
    preference = session.get(MailPreference, alice.id)
    assert preference is not None
    session.refresh(preference)
    assert preference.new_message is False


def test_a_second_message_before_she_reads_is_not_mailed_again(
    client: TestClient, session: Session, course: Course, alice: User, mailbox: Mailbox
) -> None:
    log_in(client, alice)
    ask(client, course)
    ask(client, course, body="En nog iets.")
    mailbox.deliver()
    assert len(mailbox.messages) == 1


def test_the_inbox_puts_the_longest_waiting_first_in_few_statements(
    client: TestClient, session: Session, connection: Connection, course: Course,
    ingrid: User, at_now: None,
) -> None:  # fmt: skip
    names = ["Anna", "Britt", "Carla", "Dewi"]
    learners = [enrolled(session, course, name) for name in names]
    hours = [5, 50, None, 1]  # None: answered
    for learner, waited in zip(learners, hours, strict=True):
        thread = Thread(
            course_id=id_of(course), learner_id=id_of(learner),
            last_message_at=NOW - timedelta(hours=waited or 3),
            awaiting_reply_since=NOW - timedelta(hours=waited) if waited else None,
        )  # fmt: skip
        session.add(thread)
        session.flush()
        session.add(Message(thread_id=id_of(thread), author_id=learner.id, body="Vraag",
                            created_at=thread.last_message_at))  # fmt: skip
    session.flush()
    studio = as_staff(client, session, ingrid)
    with recording(connection) as seen:
        page = studio.get("/studio/inbox")
    assert page.status_code == 200
    order = [page.text.index(name) for name in ("Britt", "Anna", "Dewi", "Carla")]
    assert order == sorted(order)
    assert "wacht 2 dagen" in page.text
    assert "wacht 5 uur" in page.text
    # The session lookup and the inbox.
    assert len(seen) == 2, seen
    assert "3 wachtend" in studio.get("/studio").text

    anna = id_of(session.exec(select(Thread).where(Thread.learner_id == id_of(learners[0]))).one())
    with recording(connection) as seen:
        studio.get(f"/studio/courses/{course.slug}/questions/{anna}")
    # The session lookup, the conversation with its course and learner, its messages (in one
    # statement, however many), and the read mark.
    assert len(seen) == 4, seen


def test_another_learner_and_another_instructor_reach_nothing(
    client: TestClient, session: Session, course: Course, alice: User
) -> None:
    log_in(client, alice)
    ask(client, course)
    thread = thread_of(session, alice)
    bob = make_user(session, name="Bob")
    other = make_user(session, name="Olga", role=Role.instructor)
    path = f"/studio/courses/{course.slug}/questions/{thread.id}"

    bobs = new_browser(client)
    log_in(bobs, bob)
    assert bobs.get(f"/courses/{course.slug}/questions").status_code == 404
    assert post_form(bobs, f"/courses/{course.slug}/questions", {"body": "x"}).status_code == 404
    assert "Mag ik" not in bobs.get("/today").text

    olgas = as_staff(client, session, other)
    assert olgas.get(path).status_code == 404
    assert post_form(olgas, path, {"body": "Hallo"}).status_code == 404
    assert olgas.get(f"{path}/public").status_code == 404
    assert "Alice" not in olgas.get("/studio/inbox").text

    admin = as_staff(client, session, make_user(session, role=Role.admin))
    assert admin.get(path).status_code == 200
    assert "Alice" in admin.get("/studio/inbox").text


def test_a_public_question_must_be_rewritten_and_checked(
    client: TestClient, session: Session, course: Course, alice: User, ingrid: User
) -> None:
    log_in(client, alice)
    ask(client, course, lesson="les-1-2")
    thread = thread_of(session, alice)
    studio = as_staff(client, session, ingrid)
    path = f"/studio/courses/{course.slug}/questions/{thread.id}"
    post_form(studio, path, {"body": "Ja, dat mag."})
    message = session.exec(select(Message).where(col(Message.from_learner))).one()
    form = studio.get(f"{path}/public?message={message.id}")
    assert "Mag ik de oefening ook liggend doen?" in form.text
    assert "Ja, dat mag." in form.text
    lesson_id = str(message.lesson_id)
    assert f'value="{lesson_id}" selected' in form.text

    fields = {"message": str(message.id), "lesson_id": lesson_id, "answer": "Ja, dat mag."}
    unchecked = post_form(studio, f"{path}/public", {**fields, "question": "Mag liggend ook?"})
    assert unchecked.status_code == 422
    assert "Mag liggend ook?" in unchecked.text
    unchanged = post_form(
        studio, f"{path}/public", {**fields, "question": QUESTION, "anonymous": "yes"}
    )
    assert unchanged.status_code == 422
    assert "nog haar eigen bericht" in unchanged.text
    assert session.exec(select(LessonQuestion)).first() is None

    saved = post_form(
        studio, f"{path}/public", {**fields, "question": "Mag <liggend> ook?", "anonymous": "yes"}
    )
    assert saved.status_code == 303
    item = session.exec(select(LessonQuestion)).one()
    assert str(item.lesson_id) == lesson_id

    bob = make_user(session, name="Bob")
    enrolment_service.grant(
        session, user_id=bob.id, course_id=course.id, source=EnrolmentSource.manual
    )
    bobs = new_browser(client)
    log_in(bobs, bob)
    lesson_page = bobs.get(f"/courses/{course.slug}/lessons/les-1-2")
    assert "Vragen van anderen" in lesson_page.text
    assert "Mag &lt;liggend&gt; ook?" in lesson_page.text
    assert "Alice" not in lesson_page.text.split("Vragen van anderen")[1].split("</section>")[0]

    edit = f"/studio/courses/{course.slug}/lesson-questions/{item.id}"
    assert (
        post_form(studio, edit, {"question": "Liggend oefenen?", "answer": "Ja."}).status_code
        == 303
    )
    session.refresh(item)
    assert item.question == "Liggend oefenen?"
    emptied = post_form(studio, edit, {"question": "", "answer": "Nog steeds ja."})
    assert emptied.status_code == 422
    assert "Nog steeds ja." in emptied.text
    session.refresh(item)
    assert item.answer == "Ja."
    assert post_form(studio, f"{edit}/delete", {"confirm": "yes"}).status_code == 303
    assert session.exec(select(LessonQuestion)).first() is None


def test_her_conversation_page_costs_the_same_few_statements_however_long(
    client: TestClient, session: Session, connection: Connection, course: Course, alice: User
) -> None:
    log_in(client, alice)
    url = f"/courses/{course.slug}/questions"
    ask(client, course)
    client.get(url)
    with recording(connection) as short:
        client.get(url)
    for number in range(5):
        ask(client, course, body=f"Vraag {number}", lesson="les-1-1")
    client.get(url)
    with recording(connection) as long:
        page = client.get(url)
    assert page.text.count('class="message ') == 6
    # The session lookup, the course with her enrolment, her conversation, its messages with
    # their lessons and authors; the read mark is written only when there is something new.
    assert len(short) == len(long) == 4, long


def test_the_stop_link_in_the_mail_turns_message_mails_off(
    client: TestClient, session: Session, course: Course, alice: User, mailbox: Mailbox,
    ingrid: User,
) -> None:  # fmt: skip
    log_in(client, alice)
    ask(client, course)
    [mail] = mailbox.wait_for(1)
    stop = links_in(mail)[1]
    assert "/unsubscribe/" in stop
    path = stop.removeprefix("http://testserver")
    assert "Mails over nieuwe berichten stoppen?" in client.get(path).text
    assert client.post(path).status_code == 200
    preference = session.get(MailPreference, ingrid.id)
    assert preference is not None
    session.refresh(preference)
    assert preference.new_message is False
