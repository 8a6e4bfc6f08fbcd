"""Cohorts in the browser. Mila buys a place in a group that starts next week: until the start
day week 1 stays closed and the course page shows the day and what to prepare; on the start day
(the group's start and her drip moved back in the live database, as the calendar would) week 1
opens. Then two buyers press "buy" for the last place at the same moment: one goes on to
Stripe, the other reads that the group is full and is offered the next. Her therapist sees the
group's learners together in the studio.
"""

import re
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from playwright.sync_api import Error as PlaywrightError
from sqlmodel import Session, create_engine, select

from api.accounts.models import User
from api.clock import local_day, midnight
from api.cohorts import service as cohorts
from api.cohorts.models import Cohort
from api.db import utcnow
from api.enrolment.models import Enrolment
from api.seed import DEMO_INSTRUCTOR_EMAIL
from tests.e2e.conftest import log_in, nl, screenshot, sign_in_demo_instructor
from tests.factories import PASSWORD, make_course, make_user
from tests.stripe_server import StripeServer

SHOTS = "cohorts"


@pytest.fixture
def database(server_env: dict[str, str], live_server: str) -> Iterator[Session]:
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        yield session
    engine.dispose()


def _phone(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        locale="nl-NL", viewport={"width": 390, "height": 844}, device_scale_factor=1
    )
    return context, context.new_page()


def _course_in_groups(database: Session) -> tuple[str, Cohort, Cohort, list[str]]:
    """A paid drip course of the demo instructor in two groups: next week (two places) and a
    month later; and three learners' addresses."""
    instructor = database.exec(select(User).where(User.email == DEMO_INSTRUCTOR_EMAIL)).one()
    course = make_course(database, instructor=instructor, price_cents=4900, drip_days=[0, 7])
    course.in_cohorts = True
    course.cohort_preparation = "Leg een **yogamat** klaar en kies een rustig moment."
    today = local_day(utcnow())
    soon = cohorts.create(
        database,
        course=course,
        data=cohorts.CohortInput(today + timedelta(days=7), 2, None, None),
    )
    later = cohorts.create(
        database,
        course=course,
        data=cohorts.CohortInput(today + timedelta(days=35), 10, None, None),
    )
    tag = uuid4().hex[:6]
    emails = [make_user(database, email=f"{name}.{tag}@example.nl").email for name in "mab"]
    database.commit()
    return course.slug, soon, later, emails


def _buy(page: Page, live_stripe: StripeServer) -> None:
    page.get_by_role("button", name="Betalen").click()
    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_test_"))


def _settle(buyer: Page, stripe_url: str) -> bool:
    """Wait until the buyer reached Stripe's page (True) or her page says the group is full
    (False). The way to Stripe passes a page that moves on by itself, so neither the click nor
    the first load tells yet."""
    full = buyer.get_by_role("alert").filter(has_text=nl("This group is full.").rstrip("."))
    for _ in range(300):  # a bound for waiting on a busy machine, not a measure
        if buyer.url.startswith(stripe_url):
            return True
        try:
            if full.count():
                return False
        except PlaywrightError:
            pass  # the page is between two documents
        buyer.wait_for_timeout(100)
    raise AssertionError(f"the buyer neither reached Stripe nor was told: {buyer.url}")


def _days_pass(database: Session, cohort: Cohort, days: int) -> None:
    """As if `days` went by: the group's start and its learners' drip move that far back."""
    database.refresh(cohort)
    cohort.starts_on -= timedelta(days=days)
    database.add(cohort)
    for enrolment in database.exec(select(Enrolment).where(Enrolment.cohort_id == cohort.id)):
        enrolment.drip_from = midnight(cohort.starts_on)
        database.add(enrolment)
    database.commit()


def test_a_place_in_a_group_and_a_race_for_the_last_one(
    browser: Browser,
    live_server: str,
    live_stripe: StripeServer,
    database: Session,
    demo_instructor_secret: str,
) -> None:
    slug, soon, later, (mila, anna, bo) = _course_in_groups(database)
    course_url = f"{live_server}/courses/{slug}"
    week_1 = f"{course_url}/lessons/les-1-2"
    context, page = _phone(browser)

    # Mila sees the groups, buys a place in next week's and pays at Stripe.
    log_in(page, live_server, mila, PASSWORD)
    page.goto(course_url)
    expect(page.locator("#cohorts")).to_contain_text(nl("Groups"))
    screenshot(page, f"{SHOTS}/course-with-groups")
    page.locator("#f-withdrawal-waiver").check()  # access to start now, as the law asks
    page.locator(f'form[action="/courses/{slug}/checkout"] button[type="submit"]').click()
    _buy(page, live_stripe)

    # Before the start: the day and what to prepare; week 1 is not open yet.
    page.goto(course_url)
    expect(page.get_by_text("yogamat")).to_be_visible()
    _days_pass(database, soon, 6)
    assert page.goto(week_1).status == 403  # type: ignore[union-attr]
    _days_pass(database, soon, 1)  # the start day
    assert page.goto(week_1).status == 200  # type: ignore[union-attr]
    assert page.goto(f"{course_url}/lessons/les-2-1").status == 403  # type: ignore[union-attr]
    context.close()

    # One place left: Anna and Bo both open the page and press buy at the same moment.
    buyers = [_phone(browser) for _ in range(2)]
    for (_, buyer), email in zip(buyers, (anna, bo), strict=True):
        log_in(buyer, live_server, email, PASSWORD)
        buyer.goto(course_url)
        buyer.locator("#f-withdrawal-waiver").check()
    buttons = [
        buyer.locator(f'form[action="/courses/{slug}/checkout"] button[type="submit"]')
        for _, buyer in buyers
    ]
    for button in buttons:
        button.click(no_wait_after=True)
    settled = [_settle(buyer, live_stripe.url) for _, buyer in buyers]
    at_stripe = [buyer for (_, buyer), paying in zip(buyers, settled, strict=True) if paying]
    offered = [buyer for (_, buyer), paying in zip(buyers, settled, strict=True) if not paying]
    assert (len(at_stripe), len(offered)) == (1, 1)
    full = offered[0]
    expect(full.get_by_role("alert")).to_contain_text(nl("This group is full.").rstrip("."))
    next_start = full.locator('input[name="cohort"]')
    expect(next_start).to_have_value(str(later.id))
    screenshot(full, f"{SHOTS}/group-full-next-offered")
    for buyer_context, _ in buyers:
        buyer_context.close()

    # Her therapist sees the group's learners together, on her laptop.
    studio = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    laptop = studio.new_page()
    sign_in_demo_instructor(laptop, live_server, demo_instructor_secret)
    laptop.goto(f"{live_server}/studio/courses/{slug}/cohorts/{soon.id}")
    expect(laptop.locator("table")).to_contain_text("Persoon")
    screenshot(laptop, f"{SHOTS}/studio-group")
    studio.close()
