"""Sanne asks her therapist a question from a lesson on her phone, with her consent in the
same form; Tessa gets a mail that says only that there is a question, opens her inbox on her
laptop, answers; Sanne gets a mail just as quiet and finds the answer on "Vandaag". Tessa then
makes a public question of it, rewritten, and it shows under the lesson.

The people and the course are made in the live server's database with the factories; the course
is archived, so the catalog and the other journeys do not meet it; its learners keep it.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, create_engine

from api.accounts.models import Role
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from tests.e2e.conftest import fits_the_phone, log_in, nl, screenshot
from tests.factories import enable_totp, make_course, make_user
from tests.smtp import SmtpServer, links_in, text_of

QUESTION = "Ik voel de oefening vooral in mijn rug.\nDoe ik iets verkeerd?"
ANSWER = "Goed dat je het vraagt. Leg een kussen onder je knieën en adem rustig uit."


@dataclass(frozen=True)
class Stage:
    course: str
    sanne: str
    teacher: str
    secret: str


# Session-wide, like the live server whose database it writes to: xdist may split this
# module's tests, and a module fixture set up twice would write its rows twice.
@pytest.fixture(scope="session")
def stage(server_env: dict[str, Any], live_server: str) -> Iterator[Stage]:
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        teacher = make_user(session, name="Tessa Therapeut", role=Role.instructor)
        secret = enable_totp(session, teacher)
        course = make_course(session, instructor=teacher, status="archived")
        # No health-data consent yet: the question's form asks for it.
        sanne = make_user(session, name="Sanne Visser")
        enrolment_service.grant(
            session, user_id=sanne.id, course_id=course.id, source=EnrolmentSource.manual
        )
        session.commit()
        yield Stage(course.slug, sanne.email, teacher.email, secret)
    engine.dispose()


def quiet(mail: Any, *names: str) -> str:
    """The mail's text, after checking it tells nothing of the conversation (nor `names`)."""
    text = text_of(mail)
    for word in ("rug", "kussen", "verkeerd", *names):
        assert word not in text, f"{word!r} is in the mail"
        assert word not in str(mail["Subject"])
    return text


def test_a_question_from_a_lesson_is_answered_and_found_on_vandaag(
    browser: Browser, page: Page, live_server: str, stage: Stage, mail_server: SmtpServer
) -> None:
    # Sanne, on her phone, asks from the second lesson.
    log_in(page, live_server, stage.sanne)
    page.goto(f"{live_server}/courses/{stage.course}/lessons/les-1-2")
    ask = page.locator("#ask")
    expect(ask.get_by_role("heading", name=nl("Ask a question"))).to_be_visible()
    ask.get_by_label(nl("Your question about this lesson")).fill(QUESTION)
    ask.get_by_role("button", name=nl("Send my question")).click()
    # Without her consent the form asks for it and keeps what she wrote.
    expect(
        page.get_by_text(nl("Tick the box to let Kern keep your message. Your text is still here."))
    ).to_be_visible()
    expect(page.get_by_role("textbox", name=nl("Your message"))).to_have_value(QUESTION)
    fits_the_phone(page)
    screenshot(page, "question-consent")
    page.locator("input[name=agree]").check()
    page.get_by_role("button", name=nl("Send")).click()
    expect(page).to_have_url(re.compile(rf"/courses/{stage.course}/questions\?notice=sent"))
    expect(page.locator(".message__body")).to_have_text(QUESTION)
    expect(page.locator(".message__lesson")).to_contain_text("Les 1.2")
    fits_the_phone(page)
    screenshot(page, "question-sent")

    # Tessa's mail: discreet, with the link to the conversation.
    mail = mail_server.wait_for_mail_to(stage.teacher)
    assert mail["Subject"] == "Nieuwe vraag in Kern"
    quiet(mail, "Sanne")
    link = links_in(mail)[0]
    assert "/studio/courses/" in link

    # Tessa, on her laptop: the inbox shows it waiting, she answers.
    studio = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    desk = studio.new_page()
    log_in(desk, live_server, stage.teacher, secret=stage.secret)
    desk.goto(live_server + "/studio")
    expect(desk.get_by_role("link", name=re.compile(r"Inbox.*1 wachtend"))).to_be_visible()
    desk.get_by_role("link", name=re.compile("Inbox")).click()
    row = desk.locator(".inbox__row").filter(has_text="Sanne Visser")
    expect(row.locator(".inbox__wait")).to_contain_text("wacht")
    expect(row).to_contain_text(nl("Unread"))
    screenshot(desk, "question-inbox")
    row.get_by_role("link", name="Sanne Visser").click()
    expect(desk.locator(".message__body").first).to_have_text(QUESTION)
    desk.get_by_label("Antwoord aan Sanne Visser").fill(ANSWER)
    desk.get_by_role("button", name=nl("Send the answer")).click()
    expect(desk.locator(".notice")).to_contain_text("Je antwoord is verstuurd")
    screenshot(desk, "question-answered")

    # Sanne's mail is just as quiet; the answer waits on "Vandaag".
    mail = mail_server.wait_for_mail_to(stage.sanne)
    assert mail["Subject"] == "Je hebt een nieuw bericht in Kern"
    quiet(mail, "Tessa")
    page.goto(live_server + "/today")
    card = page.locator(".answer-card")
    expect(card).to_contain_text("Je therapeut heeft geantwoord")
    fits_the_phone(page)
    screenshot(page, "question-today")
    card.get_by_role("link", name=nl("Read the answer")).click()
    expect(page.locator(".message--instructor .message__body")).to_have_text(ANSWER)
    screenshot(page, "question-thread")
    page.goto(live_server + "/today")
    expect(page.locator(".answer-card")).to_have_count(0)

    # Tessa makes a public question of it, rewritten, for the lesson.
    desk.get_by_role("link", name=nl("Make it a public question")).click()
    expect(desk.get_by_label(nl("The question, rewritten"))).to_have_value(QUESTION)
    desk.get_by_label(nl("The question, rewritten")).fill(
        "Ik voel deze oefening in mijn onderrug. Hoe kan dat?"
    )
    desk.get_by_label(nl("I have removed everything by which someone could recognise her")).check()
    screenshot(desk, "question-public-form")
    desk.get_by_role("button", name=nl("Put it on the lesson")).click()
    expect(desk.locator(".notice")).to_contain_text(nl("Questions from others"))
    studio.close()

    page.goto(f"{live_server}/courses/{stage.course}/lessons/les-1-2")
    others = page.locator(".lesson-questions")
    expect(others).to_contain_text("Ik voel deze oefening in mijn onderrug. Hoe kan dat?")
    expect(others).to_contain_text(ANSWER)
    fits_the_phone(page)
    screenshot(page, "question-public-lesson")
