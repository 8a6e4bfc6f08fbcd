"""Fenna follows Sterke basis on her phone. The tab bar at the bottom takes her through Vandaag,
Cursussen, Oefenlog and Account; on every page she reads, at 320, 360, 390 and 430 px, the header
and the bar stay on one line and nothing is wider than the screen; on Vandaag her streak and the
first card show without scrolling. Screenshots go to var/screenshots/shell-*.png.

Fenna, her enrolment and two days of practice are made in the live server's database; the course
is the seeded sample.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, create_engine, select

from api import i18n
from api.catalog.models import Course, Lesson, Step, StepKind
from api.db import utcnow
from api.enrolment import service as enrolment_service
from api.enrolment.models import EnrolmentSource
from api.progress import practice
from tests.e2e.conftest import SCREENSHOTS, nl, screenshot, sign_in_demo_instructor
from tests.factories import PASSWORD, agree_to_health_data, make_user

COURSE = "sterke-basis"
LESSON = "de-eerste-zachte-aanspanning"
WIDTHS = (320, 360, 390, 430)
PAGES = (
    "/today",
    f"/courses/{COURSE}",
    f"/courses/{COURSE}/lessons/{LESSON}",
    "/practice",
    "/account",
    "/journal",
)


@dataclass(frozen=True)
class Stage:
    email: str


# Session-wide, like the live server whose database it writes to: xdist may split this
# module's tests, and a module fixture set up twice would write its rows twice.
@pytest.fixture(scope="session")
def stage(server_env: dict[str, Any], live_server: str) -> Iterator[Stage]:
    """Fenna, enrolled in the seeded Sterke basis, who practised yesterday and today."""
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        course = session.exec(select(Course).where(Course.slug == COURSE)).one()
        step = session.exec(
            select(Step)
            .join(Lesson, col(Lesson.id) == Step.lesson_id)
            .where(Lesson.course_id == course.id, Lesson.slug == LESSON)
            .where(Step.kind == StepKind.exercise.value)
            .order_by(col(Step.id))
        ).first()
        assert step is not None
        assert step.id is not None
        fenna = make_user(session, name="Fenna de Wit")
        now = utcnow()
        enrolment = enrolment_service.grant(
            session, user_id=fenna.id, course_id=course.id, source=EnrolmentSource.manual
        )
        enrolment.enrolled_at = now - timedelta(days=2)  # so that she could practise yesterday
        agree_to_health_data(session, fenna)
        for days_ago in (1, 0):
            at = now - timedelta(days=days_ago)
            entry = practice.PracticeInput(
                client_id=f"shell-{days_ago}",
                step_id=step.id,
                practised_at=at,
                duration_seconds=240,
                sets_done=2,
                reps_done=16,
            )
            practice.log(session, user=fenna, entry=entry, now=at)
        session.commit()
        yield Stage(fenna.email)
    engine.dispose()


@pytest.fixture
def signed_in(page: Page, live_server: str, stage: Stage) -> Page:
    page.goto(live_server + "/login")
    page.get_by_label(nl("Email address")).fill(stage.email)
    page.get_by_label(nl("Password")).fill(PASSWORD)
    page.get_by_role("button", name=nl("Log in")).click()
    expect(page).to_have_url(re.compile(r"/today"))
    return page


# One row: every visible item of the header (or the bar) has its middle at the same height, and
# no item's text is cut or spills out of it.
ROWS = """(selector) => {
  const items = [...document.querySelectorAll(selector)].filter(e => e.getClientRects().length);
  const middles = items.map(e => {
    const r = e.getBoundingClientRect();
    return r.top + r.height / 2;
  });
  const spilled = items.filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim());
  return {count: items.length, spread: Math.max(...middles) - Math.min(...middles), spilled};
}"""


def assert_fits(page: Page, where: str, *, signed_in: bool = True) -> None:
    """The header and the bar on one line each, and the page no wider than the screen."""
    width = page.evaluate("innerWidth")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{where}: {scroll_width} px wide on a {width} px screen"
    header = page.evaluate(ROWS, ".site-header .brand, .site-nav li")
    assert header["spread"] <= 2, f"{where}: the header wraps ({header})"
    assert header["count"] == (2 if signed_in else 4), f"{where}: {header}"
    assert header["spilled"] == [], f"{where}: {header}"
    height = page.locator(".site-header").bounding_box()
    assert height is not None
    assert height["height"] <= 64, f"{where}: the header is {height['height']} px high"
    bar = page.locator(".tab-bar")
    if not signed_in:
        expect(bar).to_be_hidden()
        return
    expect(bar).to_be_visible()
    tabs = page.evaluate(ROWS, ".tab-bar a")
    assert tabs["count"] == 4, f"{where}: {tabs}"
    assert tabs["spread"] <= 2, f"{where}: the tab bar wraps ({tabs})"
    assert tabs["spilled"] == [], f"{where}: a tab's label does not fit ({tabs})"
    labels = page.evaluate(
        "[...document.querySelectorAll('.tab-bar__label')]"
        ".map(e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))"
    )
    assert max(labels) < 1.5, f"{where}: a tab's label takes two lines ({labels})"


def assert_nothing_hides_behind_the_bar(page: Page, where: str) -> None:
    """At the very bottom of the page the footer ends above the bar."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    footer = page.locator(".site-footer").bounding_box()
    bar = page.locator(".tab-bar").bounding_box()
    assert footer is not None
    assert bar is not None
    assert footer["y"] + footer["height"] <= bar["y"] + 1, f"{where}: the bar covers the footer"


def test_she_walks_the_four_tabs_on_her_phone(signed_in: Page, live_server: str) -> None:
    page = signed_in
    bar = page.get_by_role("navigation", name=nl("Quick menu"))
    tabs = [
        (nl("Today"), "/today"),
        (nl("Courses"), "/courses"),
        (nl("Practice log"), "/practice"),
        (nl("Account"), "/account"),
    ]
    page.goto(f"{live_server}/courses/{COURSE}")
    for label, path in tabs:
        bar.get_by_role("link", name=label).click()
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
        expect(bar).to_be_visible()
        expect(bar.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        expect(bar.locator("[aria-current]")).to_have_count(1)
        # The header's own button (the account page lists her other devices with one each).
        header = page.locator("header.site-header")
        expect(header.get_by_role("button", name=nl("Log out"), exact=True)).to_be_visible()
        assert_fits(page, path)
        screenshot(page, f"shell-tab-{path.strip('/')}")
        assert_nothing_hides_behind_the_bar(page, path)


def test_vandaag_shows_her_streak_and_the_first_card_without_scrolling(signed_in: Page) -> None:
    page = signed_in
    glance = page.locator(".glance")
    in_a_row = i18n.translations("nl").ungettext("%(num)s day in a row", "%(num)s days in a row", 2)
    expect(glance).to_contain_text(in_a_row % {"num": 2})
    first_card = page.locator(".today-card").first
    bar = page.locator(".tab-bar").bounding_box()
    assert bar is not None
    for part in (glance, first_card):
        box = part.bounding_box()
        assert box is not None
        assert box["y"] >= 0
        assert box["y"] + box["height"] <= bar["y"], f"{part} is below the first screen"
    # What she sees before she scrolls.
    page.screenshot(path=str(SCREENSHOTS / "shell-today-first-screen.png"))


@pytest.mark.parametrize("width", WIDTHS)
def test_nothing_wraps_on_her_pages_at_phone_widths(
    signed_in: Page, live_server: str, width: int
) -> None:
    page = signed_in
    page.set_viewport_size({"width": width, "height": 800})
    for path in PAGES:
        page.goto(live_server + path)
        assert_fits(page, f"{path} at {width} px")
        if width in (320, 430):
            screenshot(page, f"shell-{width}-{path.strip('/').replace('/', '-')}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_visitor_keeps_a_short_header_without_the_bar(
    browser: Browser, live_server: str, width: int
) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": width, "height": 800})
    page = context.new_page()
    for path in ("/", "/courses", f"/courses/{COURSE}"):
        page.goto(live_server + path)
        assert_fits(page, f"{path} at {width} px", signed_in=False)
    header = page.get_by_role("navigation", name=nl("Main menu"))
    expect(header.get_by_role("link", name=nl("Log in"))).to_be_visible()
    expect(header.get_by_role("link", name=nl("Create account"))).to_be_hidden()
    if width == 320:
        screenshot(page, "shell-visitor-320")
    context.close()


def test_her_therapist_has_the_studio_in_her_bar(
    page: Page, live_server: str, demo_instructor_secret: str
) -> None:
    sign_in_demo_instructor(page, live_server, demo_instructor_secret)
    page.goto(live_server + "/studio")
    bar = page.get_by_role("navigation", name=nl("Quick menu"))
    # The demo instructor follows no course: no Vandaag, and no practice log.
    expect(bar.get_by_role("link")).to_have_text([nl("Studio"), nl("Courses"), nl("Account")])
    expect(bar.get_by_role("link", name=nl("Studio"))).to_have_attribute("aria-current", "page")
    header = page.evaluate(ROWS, ".site-header .brand, .site-nav li")
    assert header["count"] == 2
    assert header["spread"] <= 2
    screenshot(page, "shell-studio")
    bar.get_by_role("link", name=nl("Courses")).click()
    expect(page).to_have_url(re.compile(r"/courses$"))
    expect(bar.get_by_role("link", name=nl("Courses"))).to_have_attribute("aria-current", "page")
