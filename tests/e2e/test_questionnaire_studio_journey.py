"""Marit, a therapist, writes a check-in questionnaire on her laptop: she makes a course with a
module, a questionnaire with a 0–10 scale and a choice with points, sees what is still missing
listed with links to the part, adds the bands, makes it a self-test too, publishes it and asks
it at enrolment and after the first module.

The texts come from the Dutch catalog by their English msgids, as in the studio journey.
"""

import re
from collections.abc import Callable

import pyotp
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import nl, screenshot
from tests.e2e.test_consent_journey import PASSWORD, new_learner

__all__ = ["new_learner"]  # the fixture that makes her account


def sign_in_as_new_instructor(page: Page, live_server: str, email: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label(nl("Email address")).fill(email)
    page.get_by_label(nl("Password")).fill(PASSWORD)
    page.get_by_role("button", name=nl("Log in")).click()
    expect(page).to_have_url(re.compile(r"/account/two-factor"))
    secret = page.locator(".secret").inner_text().replace(" ", "")
    page.get_by_label(nl("Code")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=nl("Switch on")).click()
    expect(page.locator(".recovery-codes, ol, ul").first).to_be_visible()


def test_she_writes_a_questionnaire_and_asks_it_at_check_ins(
    browser: Browser, live_server: str, new_learner: Callable[..., str]
) -> None:
    email = new_learner("Marit", role="instructor")
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in_as_new_instructor(page, live_server, email)

    page.goto(live_server + "/studio/courses/new")
    page.get_by_label(nl("Title"), exact=True).fill("Bekkenbodem na de bevalling")
    page.get_by_label(nl("Price in euros")).fill("0")
    page.get_by_role("button", name=nl("Create course")).click()
    page.locator("#f-new-module-title").fill("Week 1 — Voelen")
    page.get_by_role("button", name=nl("Add module")).click()

    page.locator("#f-new-questionnaire-title").fill("Check-in bekkenbodem")
    page.get_by_role("button", name=nl("Make questionnaire")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-in bekkenbodem")
    problems = page.locator(".q-problems")
    expect(problems).to_contain_text(nl("Add at least one question."))

    page.locator("#f-new-item-text").fill("Hoeveel last had je deze week?")
    page.get_by_role("button", name=nl("Add question")).click()
    page.locator("#f-new-item-kind").select_option("single")
    page.locator("#f-new-item-text").fill("Hoe vaak verloor je urine?")
    page.get_by_role("button", name=nl("Add question")).click()
    # The new choice is open to fill in; it is a problem until its options have points.
    expect(problems).to_contain_text(nl("A choice needs at least two options."))
    choice = page.locator("#item-1")
    screenshot(page, "studio-questionnaire-new-choice")
    for row, (label, points) in enumerate([("Nooit", "0"), ("Soms", "1"), ("Elke dag", "3")]):
        choice.locator(f"#f-item-1-option-{row}").fill(label)
        choice.locator(f"#f-item-1-points-{row}").fill(points)
    choice.get_by_role("button", name=nl("Save question")).click()
    expect(page.get_by_text(nl("The question has been saved."))).to_be_visible()

    page.get_by_role("link", name=re.compile(nl("Add at least one band for the result."))).click()
    page.locator("#f-new-band-max").fill("6")
    page.locator("#f-new-band-title").fill("Weinig last")
    page.get_by_role("button", name=nl("Add band")).click()
    expect(problems).to_contain_text("7–13")
    screenshot(page, "studio-questionnaire-problems")

    page.get_by_text(nl("Add a band")).click()
    page.locator("#f-new-band-title").fill("Veel last")
    page.get_by_role("button", name=nl("Add band")).click()
    expect(page.locator(".q-ready")).to_be_visible()
    # Also a free self-test: its page then shows the anonymous results per week.
    settings = page.locator("#settings")
    settings.locator("summary").first.click()
    settings.get_by_label(re.compile(nl("A self-test"))).check()
    settings.get_by_label(nl("Meaningful change")).fill("2")
    settings.get_by_role("button", name=nl("Save")).click()
    expect(page.locator("#tally tbody tr")).to_have_count(12)
    page.get_by_role("button", name=nl("Publish")).click()
    published = nl(
        "The questionnaire is published: the course can use it for check-ins, and as a "
        "self-test it is open to everyone."
    )
    expect(page.get_by_text(published)).to_be_visible()
    screenshot(page, "studio-questionnaire")

    page.get_by_role("link", name=nl("Course"), exact=True).click()
    add = page.locator("#check-ins form.add-module")
    add.get_by_label(nl("When")).select_option("enrolment")
    add.get_by_role("button", name=nl("Add check-in")).click()
    add = page.locator("#check-ins form.add-module")
    add.get_by_label(nl("When")).select_option("module")
    add.get_by_label(nl("After module"), exact=True).select_option("1")
    add.get_by_role("button", name=nl("Add check-in")).click()
    check_ins = page.locator(".q-check-ins > li")
    expect(check_ins).to_have_count(2)
    expect(check_ins.nth(1)).to_contain_text(nl("After module %(num)s") % {"num": 1})
    page.locator("#questionnaires").scroll_into_view_if_needed()
    screenshot(page, "studio-course-questionnaires")
    context.close()
