"""Tessa opens her studio on a laptop: "Aandacht" says one learner needs her, Noor, whose latest
check-in is worse than her first by more than the meaningful change. She opens Noor's page
(progress, practice per week, every practice with its note, her charts, the journal entry Noor
shared, her question), reads it on her phone too, and marks the reason handled with a note:
Noor leaves the list.

Everything is made in the live server's database with the models; the check-ins lie in the past
(the clock moved), so the worsening is there when the page is opened. The course is archived, so
the catalog and the other journeys do not meet it.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from sqlmodel import Session, create_engine

from api.accounts.models import Role
from api.clock import local_day
from api.db import utcnow
from api.journal.models import JournalEntry
from api.kit.ids import id_of
from api.messages.models import Message, Thread
from api.progress.models import PracticeLog
from tests.e2e.conftest import fits_the_phone, log_in, nl, screenshot
from tests.e2e.test_checkin_journey import _measure
from tests.factories import agree_to_health_data, enable_totp, make_course, make_user
from tests.questionnaires.checkin_factories import (
    add_check_in,
    answers,
    complete,
    enrol_at,
    lessons_of,
    make_questionnaire,
)


@dataclass(frozen=True)
class Stage:
    course: str
    teacher: str
    secret: str
    enrolment: int


# Session-wide, like the live server whose database it writes to: xdist may split this
# module's tests, and a module fixture set up twice would write its rows twice.
@pytest.fixture(scope="session")
def stage(server_env: dict[str, Any], live_server: str) -> Iterator[Stage]:
    engine = create_engine(server_env["DATABASE_URL"])
    now = utcnow()
    with Session(engine) as session:
        teacher = make_user(session, name="Tessa Aandacht", role=Role.instructor)
        secret = enable_totp(session, teacher)
        course = make_course(session, instructor=teacher, status="archived")
        questionnaire = make_questionnaire(session, course, slug="attention-check-in")
        add_check_in(session, course, questionnaire, "enrolment")
        add_check_in(session, course, questionnaire, "every", position=1, every_days=14)

        noor = agree_to_health_data(session, make_user(session, name="Noor Visser"))
        enrolment = enrol_at(session, noor, course, now - timedelta(days=30))
        _measure(session, noor, questionnaire, when="enrolment", days_ago=30,
                 values=answers(1, 2, 3))  # fmt: skip
        _measure(session, noor, questionnaire, when="every-14-1", days_ago=2,
                 values=answers(2, 6, 7))  # fmt: skip
        complete(session, noor, lessons_of(session, course)[:4], now - timedelta(days=12))
        for number in range(9):
            moment = now - timedelta(days=number * 3, hours=2)
            session.add(
                PracticeLog(
                    user_id=id_of(noor), client_id=f"attention-{number}", course_id=id_of(course),
                    step_title="Langzaam aanspannen", step_kind="exercise", practised_at=moment,
                    practised_on=local_day(moment), duration_seconds=240 + 60 * number,
                    sets_done=2, reps_done=8, effort=2 + number % 3,
                    note="Ging beter liggend." if number == 0 else "",
                )
            )  # fmt: skip
        session.add(
            JournalEntry(
                user_id=id_of(noor), day=local_day(now - timedelta(days=1)),
                text="Meer spanning deze week, vooral 's avonds.", tension=6,
                shared_course_id=course.id, shared_at=now,
            )
        )  # fmt: skip
        thread = Thread(course_id=id_of(course), learner_id=id_of(noor),
                        created_at=now - timedelta(days=4),
                        last_message_at=now - timedelta(days=3))  # fmt: skip
        session.add(thread)
        session.flush()
        session.add_all(
            [
                Message(thread_id=id_of(thread), author_id=id_of(noor),
                        body="Is het normaal dat het meer trekt na de oefening?",
                        created_at=now - timedelta(days=4)),
                Message(thread_id=id_of(thread), author_id=id_of(teacher), from_learner=False,
                        body="Ja, dat kan in het begin. Doe het rustiger aan.",
                        created_at=now - timedelta(days=3)),
            ]
        )  # fmt: skip
        session.commit()
        yield Stage(course.slug, teacher.email, secret, id_of(enrolment))
    engine.dispose()


def test_a_worse_check_in_is_on_the_list_until_handled(
    browser: Browser, live_server: str, stage: Stage
) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server, stage.teacher, secret=stage.secret)

    page.goto(live_server + "/studio")
    page.get_by_role("link", name=re.compile(r"^Aandacht \(1\)")).click()
    expect(page).to_have_url(re.compile(r"/studio/attention$"))
    item = page.locator(".attention-item").filter(has_text="Noor Visser")
    expect(item).to_have_count(1)
    expect(item.locator(".attention-reason")).to_have_count(1)
    expect(item.locator(".attention-reason__label")).to_have_text(nl("Check-in got worse"))
    screenshot(page, "attention-list")

    item.get_by_role("link", name="Noor Visser").click()
    expect(page).to_have_url(re.compile(rf"/learners/{stage.enrolment}$"))
    expect(page.get_by_role("heading", name="Noor Visser")).to_be_visible()
    expect(page.locator(".practice-item")).to_have_count(9)
    expect(page.get_by_text("Ging beter liggend.")).to_be_visible()
    expect(page.get_by_text("Meer spanning deze week")).to_be_visible()
    expect(page.locator(".message-item")).to_have_count(2)
    expect(page.locator(".measure-chart").first).to_be_visible()
    screenshot(page, "attention-learner-1280")

    phone = browser.new_context(
        locale="nl-NL", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone_page = phone.new_page()
    phone_page.context.add_cookies(context.cookies())  # type: ignore[arg-type]
    phone_page.goto(page.url)
    expect(phone_page.get_by_role("heading", name="Noor Visser")).to_be_visible()
    fits_the_phone(phone_page)
    screenshot(phone_page, "attention-learner-390")
    phone_page.goto(live_server + "/studio/attention")
    expect(phone_page.locator(".attention-item")).to_have_count(1)
    fits_the_phone(phone_page)
    screenshot(phone_page, "attention-list-390")
    phone.close()

    page.goto(live_server + "/studio/attention")
    reason = page.locator(".attention-item").filter(has_text="Noor Visser")
    reason.get_by_label(nl("Note (optional)")).fill("Gebeld; ze doet het een week rustiger aan.")
    reason.get_by_role("button", name=re.compile(r"^Afgehandeld")).click()
    expect(page.get_by_text(nl("Marked as handled."))).to_be_visible()
    expect(page.locator(".attention-item").filter(has_text="Noor Visser")).to_have_count(0)
    expect(page.get_by_text(nl("Nobody needs your attention right now."))).to_be_visible()
    screenshot(page, "attention-handled")
    context.close()
