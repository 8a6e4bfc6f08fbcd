"""Sanne does today's exercises in one go on her phone: from Vandaag she starts the routine, and
the guided player plays her three exercises one after another, each after a count-in, while the
tab bar stays at the bottom; at the end the summary says what was done, and three practices are
stored. The browser's clock is Playwright's fake one and the doses are tiny, so the routine runs
in moments. Screenshots go to var/screenshots/routine-*.png.

Sanne, her course of one lesson with three steps, her visit to it and her consent are made in
the live server's database.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, col, create_engine, func, select

from api.catalog.models import Lesson, Step, StepKind
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress import service as progress_service
from api.progress.models import PracticeLog
from tests.e2e.conftest import fits_the_phone, log_in, nl, screenshot
from tests.factories import agree_to_health_data, make_course, make_user

TITLES = ("Bekken kantelen", "Rustig ademen", "Snel aanspannen")
# A 5-second count-in, then a 1-second tighten cue, hold 1, relax 1 (or in 1, out 1).
EXERCISE_MS = 8_000


@dataclass(frozen=True)
class Stage:
    email: str
    user_id: int


# Session-wide, like the live server whose database it writes to.
@pytest.fixture(scope="session")
def stage(server_env: dict[str, Any], live_server: str) -> Iterator[Stage]:
    """Sanne, enrolled in a course whose one lesson she opened: two exercises and a breath."""
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        course = make_course(session, modules=1, lessons_per_module=1, steps_per_lesson=3)
        lesson = session.exec(select(Lesson).where(Lesson.course_id == course.id)).one()
        steps = session.exec(
            select(Step).where(Step.lesson_id == lesson.id).order_by(col(Step.position))
        ).all()
        for step, title in zip(steps, TITLES, strict=True):
            step.title = title
            if step.kind == StepKind.breathing:
                step.inhale_seconds, step.hold_seconds, step.exhale_seconds = 1, None, 1
                step.cycles = 1
            else:
                step.kind = StepKind.exercise
                step.hold_seconds, step.relax_seconds, step.reps, step.sets = 1, 1, 1, 1
                step.rest_seconds = None
            session.add(step)
        sanne = make_user(session, name="Sanne Bakker")
        enrolment_service.grant(
            session, user_id=sanne.id, course_id=course.id, source=EnrolmentSource.manual
        )
        agree_to_health_data(session, sanne)
        progress_service.complete(session, user_id=sanne.id or 0, lesson=lesson, now=utcnow())
        session.commit()
        yield Stage(sanne.email, sanne.id or 0)
    engine.dispose()


def test_she_does_todays_three_exercises_in_one_go(
    page: Page, live_server: str, server_env: dict[str, Any], stage: Stage
) -> None:
    log_in(page, live_server, stage.email)
    page.clock.install(time=datetime.now(UTC))
    start = page.get_by_role(
        "link", name=nl("Start today's exercises (≈ %(minutes)s min)") % {"minutes": 1}
    )
    fits_the_phone(page)
    screenshot(page, "routine-today")
    start.click()
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    expect(page.locator(".tab-bar")).to_be_visible()
    for title in TITLES:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    fits_the_phone(page)
    screenshot(page, "routine-start")

    page.get_by_role("button", name=nl("Start now")).click()
    player = page.locator(".routine-stage")
    expect(player.locator(".routine-stage__position")).to_have_text("Oefening 1 van 3")
    expect(player.locator(".player__phase")).to_have_text(nl("Get ready"))
    expect(player.locator(".player__count")).to_have_text("5")
    page.clock.run_for(6_500)
    expect(player.locator(".player__phase")).to_have_text(nl("Hold"))
    expect(player.locator(".player__count")).to_have_text("1")
    expect(page.locator(".tab-bar")).to_be_visible()
    fits_the_phone(page)
    screenshot(page, "routine-mid")

    page.clock.run_for(EXERCISE_MS)
    expect(player.locator(".routine-stage__position")).to_have_text("Oefening 2 van 3")
    expect(player.get_by_role("heading", name=TITLES[1])).to_be_visible()
    page.clock.run_for(2 * EXERCISE_MS)

    done = page.get_by_role("heading", name=nl("Well done: all of today's exercises are done"))
    expect(done).to_be_focused()
    expect(player.locator('[data-outcome="done"]')).to_have_count(3)
    expect(player.locator("[data-player-status]")).to_contain_text(
        nl("Saved in your practice log.")
    )
    expect(page.locator(".tab-bar")).to_be_visible()
    fits_the_phone(page)
    screenshot(page, "routine-summary")

    # The player sends each exercise as it ends; the last one may still be on its way when the
    # summary shows, so the count is read until it settles (a bound for waiting, not a measure).
    engine = create_engine(server_env["DATABASE_URL"])
    logged = 0
    for _ in range(100):
        with Session(engine) as session:
            logged = session.exec(
                select(func.count()).where(PracticeLog.user_id == stage.user_id)
            ).one()
        if logged >= 3:
            break
        page.wait_for_timeout(100)
    engine.dispose()
    assert logged == 3
