"""Noor follows Sterke basis on her phone. After the lesson on the first gentle squeeze she writes
to its journal question (giving her consent in the same form), then a second entry of her own;
she shares the first with her therapist, who then reads exactly that one on Noor's page in the
studio. Screenshots of
the journal pages at 390 px go to var/screenshots/.

Noor and her enrolment are made in the live server's database; the course is the seeded sample.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, create_engine, select

from api.accounts.models import User
from api.catalog.models import Course, Lesson
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.journal import service as journal
from api.kit.ids import id_of
from tests.e2e.conftest import (
    choose,
    fits_the_phone,
    log_in,
    nl,
    screenshot,
    sign_in_demo_instructor,
)
from tests.factories import make_user

COURSE = "sterke-basis"
LESSON = "de-eerste-zachte-aanspanning"


@dataclass(frozen=True)
class Stage:
    email: str
    prompt: str
    database_url: str


# Session-wide, like the live server whose database it writes to: xdist may split this
# module's tests, and a module fixture set up twice would write its rows twice.
@pytest.fixture(scope="session")
def stage(server_env: dict[str, Any], live_server: str) -> Iterator[Stage]:
    """Noor, enrolled in the seeded Sterke basis, without health-data consent yet."""
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == COURSE)).one()
        lesson = session.exec(
            select(Lesson).where(Lesson.course_id == course.id, Lesson.slug == LESSON)
        ).one()
        noor = make_user(session, name="Noor Visser")
        enrolment_service.grant(
            session, user_id=noor.id, course_id=course.id, source=EnrolmentSource.manual
        )
        session.commit()
        assert lesson.journal_prompt
        yield Stage(noor.email, lesson.journal_prompt, server_env["DATABASE_URL"])
    engine.dispose()


def test_she_writes_two_entries_and_shares_one(
    *, page: Page, browser: Browser, live_server: str, stage: Stage, demo_instructor_secret: str
) -> None:
    log_in(page, live_server, stage.email)
    expect(page).to_have_url(re.compile(r"/today"))
    page.get_by_role("link", name=nl("Write in your journal")).click()
    expect(page.get_by_role("heading", name=nl("My journal"))).to_be_visible()
    screenshot(page, "journal-empty")

    # The lesson's question, after the lesson.
    page.goto(f"{live_server}/courses/{COURSE}/lessons/{LESSON}")
    card = page.locator(".journal-card")
    expect(card).to_contain_text(stage.prompt)
    card.scroll_into_view_if_needed()
    screenshot(page, "journal-lesson-card")
    card.get_by_role("link", name=nl("Write about it")).click()
    expect(page.locator(".journal-prompt")).to_contain_text(stage.prompt)
    fits_the_phone(page)

    # Without her consent ticked, what she wrote stays.
    text = nl("What would you like to write down?")
    page.get_by_label(text).fill("Het loslaten ging beter dan het aanspannen.\nIk voelde rust.")
    choose(page, nl("How tense do you feel?"), "3")
    page.get_by_role("button", name=nl("Keep in my journal")).click()
    expect(page.locator("#f-agree-error")).to_be_visible()
    expect(page.get_by_label(text)).to_have_value(
        "Het loslaten ging beter dan het aanspannen.\nIk voelde rust."
    )
    screenshot(page, "journal-write-consent")
    page.locator("#f-agree").check()
    page.get_by_role("button", name=nl("Keep in my journal")).click()
    expect(page.get_by_role("status")).to_contain_text(nl("Kept in your journal."))

    # A second entry of her own.
    page.get_by_role("link", name=nl("Write in your journal")).click()
    page.get_by_label(text).fill("Vandaag was ik moe, maar ik heb toch geoefend.")
    choose(page, nl("How much pain do you feel?"), "2")
    fits_the_phone(page)
    screenshot(page, "journal-write")
    page.get_by_role("button", name=nl("Keep in my journal")).click()

    entries = page.locator(".journal-entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(0)).to_contain_text("Vandaag was ik moe")
    expect(entries.nth(1)).to_contain_text(stage.prompt)
    expect(page.get_by_text(nl("Only you can read this"))).to_have_count(2)

    # She shares the lesson entry.
    entries.nth(1).get_by_role("button", name=nl("Share with your therapist")).click()
    expect(page.get_by_role("status")).to_contain_text(
        nl("Shared: your therapist can now read this entry.")
    )
    shared = page.locator(".journal-entry--shared")
    expect(shared).to_have_count(1)
    expect(shared).to_contain_text(nl("Shared with your therapist of"))
    expect(shared).to_contain_text("Het loslaten ging beter")
    fits_the_phone(page)
    screenshot(page, "journal-list")

    # Her therapist has exactly that entry to read.
    engine = create_engine(stage.database_url)
    with Session(engine) as session:
        noor = session.exec(select(User).where(User.email == stage.email)).one()
        course = session.exec(select(Course).where(Course.slug == COURSE)).one()
        readable = journal.shared_entries(session, course_id=id_of(course), learner_id=id_of(noor))
    engine.dispose()
    assert [entry.text for entry in readable] == [
        "Het loslaten ging beter dan het aanspannen.\nIk voelde rust."
    ]
    assert readable[0].prompt == stage.prompt

    # On her laptop, her therapist reads exactly that entry on Noor's page, not the other one.
    laptop = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    studio = laptop.new_page()
    sign_in_demo_instructor(studio, live_server, demo_instructor_secret)
    studio.goto(f"{live_server}/studio/courses/{COURSE}/learners")
    studio.get_by_role("link", name="Noor Visser").click()
    expect(studio.get_by_role("heading", name="Noor Visser")).to_be_visible()
    expect(studio.get_by_text("Het loslaten ging beter dan het aanspannen.")).to_be_visible()
    expect(studio.get_by_text("Vandaag was ik moe")).to_have_count(0)
    screenshot(studio, "journal-shared-in-studio")
    laptop.close()

    # The edit page, with its delete confirmation.
    entries.nth(0).get_by_role("link", name=nl("Change or delete")).click()
    page.get_by_text(nl("Delete this entry")).click()
    screenshot(page, "journal-edit")
