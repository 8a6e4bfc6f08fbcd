"""Lotte, four weeks into a course, finds her third check-in as the first card on "Vandaag",
answers it on one phone page, and sees on her progress page how her scores went from the first
check-in to this one; Mira says yes to a warning sign and is told to see her doctor first. Their
therapist sees Lotte's charts and the course's improved, same and worse counts on her laptop.

The course, its check-ins and the earlier answers are made in the live server's database with
the models (the course package format is not needed for this). The course is archived, so the
catalog and the other journeys do not meet it; its learners keep it.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, create_engine

from api.accounts.models import Role, User
from api.catalog.models import Course
from api.db import utcnow
from api.questionnaires import service
from api.questionnaires.models import Questionnaire
from api.questionnaires.scoring import read_answers, score
from tests.e2e.conftest import choose, fits_the_phone, log_in, nl, screenshot
from tests.factories import (
    agree_to_health_data,
    enable_totp,
    make_course,
    make_user,
)
from tests.questionnaires.checkin_factories import (
    add_check_in,
    answers,
    enrol_at,
    make_questionnaire,
)


@dataclass(frozen=True)
class Stage:
    course: str
    lotte: str
    mira: str
    teacher: str
    secret: str


def _measure(
    session: Session, user: User, questionnaire: Questionnaire, *, when: str, days_ago: int,
    values: dict[str, str],
) -> None:  # fmt: skip
    definition = service.definition_of(questionnaire)
    found, errors = read_answers(definition, values)
    assert not errors
    service.record(
        session, user=user, questionnaire=questionnaire, answers=found,
        result=score(definition, found),
        occasion=f"c{questionnaire.course_id}:q{questionnaire.id}:{when}",
        course_id=questionnaire.course_id, now=utcnow() - timedelta(days=days_ago),
    )  # fmt: skip


# Session-wide, like the live server whose database it writes to: xdist may split this
# module's tests, and a module fixture set up twice would write its rows twice.
@pytest.fixture(scope="session")
def stage(server_env: dict[str, Any], live_server: str) -> Iterator[Stage]:
    engine = create_engine(server_env["DATABASE_URL"])
    now = utcnow()
    with Session(engine) as session:
        teacher = make_user(session, name="Tessa Therapeut", role=Role.instructor)
        secret = enable_totp(session, teacher)
        course: Course = make_course(session, instructor=teacher, status="archived")
        questionnaire = make_questionnaire(session, course, slug="journey-check-in")
        add_check_in(session, course, questionnaire, "enrolment")
        add_check_in(session, course, questionnaire, "every", position=1, every_days=14)

        lotte = agree_to_health_data(session, make_user(session, name="Lotte Bakker"))
        enrol_at(session, lotte, course, now - timedelta(days=29))
        _measure(
            session, lotte, questionnaire, when="enrolment", days_ago=29, values=answers(2, 6, 7)
        )
        _measure(
            session, lotte, questionnaire, when="every-14-1", days_ago=15, values=answers(1, 4, 5)
        )

        mira = agree_to_health_data(session, make_user(session, name="Mira de Boer"))
        enrol_at(session, mira, course, now - timedelta(days=1))

        for number, (first, latest) in enumerate([((2, 6, 7), (2, 6, 6)), ((1, 2, 3), (2, 6, 7))]):
            other = agree_to_health_data(session, make_user(session, name=f"Deelnemer {number}"))
            enrol_at(session, other, course, now - timedelta(days=20))
            _measure(
                session, other, questionnaire, when="enrolment", days_ago=20, values=answers(*first)
            )
            _measure(
                session,
                other,
                questionnaire,
                when="every-14-1",
                days_ago=5,
                values=answers(*latest),
            )
        session.commit()
        yield Stage(course.slug, lotte.email, mira.email, teacher.email, secret)
    engine.dispose()


def test_her_check_in_comes_first_and_her_chart_shows_the_change(
    page: Page, live_server: str, stage: Stage
) -> None:
    log_in(page, live_server, stage.lotte)
    expect(page).to_have_url(re.compile(r"/today$"))
    card = page.locator(".checkin-card")
    expect(card).to_contain_text(nl("Check-in: how are you now?"))
    fits_the_phone(page)
    screenshot(page, "checkin-today")

    card.get_by_role("link", name=nl("Start the check-in")).click()
    expect(page).to_have_url(re.compile(r"/check-ins/q\d+-every-14-2$"))
    choose(page, "Hoe vaak verlies je urine?", "een keer per week")
    choose(page, "Hoeveel last heb je ervan?", "3")
    fits_the_phone(page)
    page.get_by_role("button", name=nl("Save my check-in")).click()
    # One question left open: she is told which, and keeps what she chose.
    expect(page.locator("#q-back-pain-error")).to_be_visible()
    expect(page.locator('input[name="bother"][value="3"]')).to_be_checked()
    choose(page, "Hoeveel rugpijn heb je nu?", "4")
    choose(page, "Voelt je kruis ineens gevoelloos?", nl("No"))
    screenshot(page, "checkin-form")
    page.get_by_role("button", name=nl("Save my check-in")).click()

    expect(page).to_have_url(re.compile(r"/today\?notice=check-in-saved$"))
    expect(page.get_by_text(nl("Thank you, your check-in is saved."))).to_be_visible()
    expect(page.locator(".checkin-card")).to_have_count(0)

    page.goto(live_server + "/practice#measurements")
    changes = page.locator(".measure-chart__change")
    expect(
        changes.filter(has_text="Je score op Bekkenbodem check-in ging van 15 naar 8.")
    ).to_be_visible()
    expect(changes.filter(has_text="Je pijn ging van 7 naar 4.")).to_be_visible()
    expect(page.locator(".measure-chart")).to_have_count(3)
    fits_the_phone(page)
    screenshot(page, "checkin-charts")


def test_a_warning_sign_ends_with_the_advice_to_see_a_doctor(
    page: Page, live_server: str, stage: Stage
) -> None:
    log_in(page, live_server, stage.mira)
    page.locator(".checkin-card").get_by_role("link", name=nl("Start the check-in")).click()
    choose(page, "Hoe vaak verlies je urine?", "elke dag")
    choose(page, "Hoeveel last heb je ervan?", "5")
    choose(page, "Hoeveel rugpijn heb je nu?", "6")
    choose(page, "Voelt je kruis ineens gevoelloos?", nl("Yes"))
    page.get_by_role("button", name=nl("Save my check-in")).click()

    expect(page.get_by_role("heading", name=nl("Please see your doctor first"))).to_be_visible()
    expect(page.locator("main a[href*='checkout'], main .course-card")).to_have_count(0)
    fits_the_phone(page)
    screenshot(page, "checkin-warning")


def test_her_therapist_sees_her_charts_and_the_course_counts(
    browser: Browser, live_server: str, stage: Stage
) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live_server, stage.teacher, secret=stage.secret)

    page.goto(f"{live_server}/studio/courses/{stage.course}/learners")
    page.get_by_role("link", name="Lotte Bakker").click()
    expect(page.get_by_role("heading", name="Lotte Bakker")).to_be_visible()
    expect(page.locator(".measure-chart")).to_have_count(3)
    screenshot(page, "checkin-studio-learner")

    page.goto(f"{live_server}/studio/courses/{stage.course}/insight#outcomes-title")
    outcome = page.locator(".outcome")
    expect(outcome.locator('[data-count="improved"] .outcome-counts__number')).to_have_text("1")
    expect(outcome.locator('[data-count="worse"] .outcome-counts__number')).to_have_text("1")
    screenshot(page, "checkin-studio-insight")
    context.close()
