"""Lotte starts her day on "Vandaag", opens the lesson it suggests, marks it done and sees her
progress move; next week's lessons wait, with the day they open; her practice log shows her week.
All on a phone, in Dutch, and no page is wider than the phone.

The demo learner from `kern seed` was enrolled in "sterke-basis" nine days before the seed ran,
so weeks 1 and 2 are open and week 3 opens in a few days.
"""

import re

from playwright.sync_api import Page, expect

from api.seed import DEMO_PASSWORD_LEARNER
from tests.e2e.conftest import fits_the_phone, log_in, screenshot

EMAIL = "deelnemer@kern.test"
PERCENT = re.compile(r"(\d+)% van de cursus")


def percent_done(page: Page) -> int:
    text = page.locator(".lesson-progress").inner_text()
    found = PERCENT.search(text)
    assert found, text
    return int(found.group(1))


def test_her_day_starts_on_vandaag_and_the_lesson_she_completes_moves_her_progress(
    page: Page, live_server: str
) -> None:
    log_in(page, live_server, EMAIL, DEMO_PASSWORD_LEARNER)

    # After logging in, her home is today's page: where to go on, what to practise, her week.
    expect(page).to_have_url(re.compile(r"/today$"))
    expect(page.get_by_role("heading", name="Oefenen vandaag")).to_be_visible()
    expect(page.get_by_role("heading", name="Je week")).to_be_visible()
    expect(page.locator(".week__day")).to_have_count(7)
    fits_the_phone(page)
    screenshot(page, "today")

    page.get_by_role("link", name="Open de les").click()
    expect(page).to_have_url(re.compile(r"/courses/[a-z0-9-]+/lessons/"))
    before = percent_done(page)
    page.get_by_role("button", name="Markeer als voltooid").click()
    expect(page.get_by_text(re.compile(r"Voltooid op \d+ \w+ 20\d\d"))).to_be_visible()
    assert percent_done(page) > before
    fits_the_phone(page)
    screenshot(page, "lesson-completed")

    # Week 3 has not opened yet: the course page says when, and the lesson itself is refused.
    page.goto(live_server + "/courses/sterke-basis")
    expect(page.locator(".module__opens--date").first).to_have_text(
        re.compile(r"Gaat open op \d+ \w+ 20\d\d")
    )
    locked = page.locator(".lesson-row--locked a").first
    response = page.request.get(live_server + (locked.get_attribute("href") or ""))
    assert response.status == 403
    locked.click()
    expect(page.get_by_text(re.compile(r"Deze les gaat open op \d+ \w+ 20\d\d"))).to_be_visible()
    screenshot(page, "lesson-not-open-yet")

    page.goto(live_server + "/practice")
    expect(page.get_by_role("heading", name="Mijn oefenlog")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Minuten oefenen per dag"))).to_be_visible()
    fits_the_phone(page)
    screenshot(page, "practice-log")
