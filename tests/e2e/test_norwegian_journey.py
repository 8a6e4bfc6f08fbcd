"""Ingrid reads Kern in Norwegian because her browser asks for it: from the home page to the
Norwegian sample course, whose free lesson she breathes along with on the guided player; then
she switches to Dutch, and the catalog names the course's language. On a 390 px phone."""

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, expect

from api import i18n
from tests.e2e.conftest import fits_the_phone, screenshot

COURSE = "Pust og myke hofter"
LESSON = "Finn mellomgulvet"
STEP = "Kjenn pusten under hendene"


def nb(message: str, **values: object) -> str:
    """The Norwegian text she sees for an English msgid."""
    text = str(i18n.translations("nb").ugettext(message))
    return text % values if values else text


def test_a_norwegian_visitor_finds_and_tries_the_norwegian_course(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(locale="nb-NO", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        nb("Stronger from your core, a few minutes a day")
    )

    page.goto(live_server + "/courses")
    card = page.locator(".course-card", has_text=COURSE)
    expect(card).to_contain_text(nb("Free"))
    expect(card).not_to_contain_text("Norsk")  # her own language: nothing to point out
    card.get_by_role("link", name=COURSE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(COURSE)
    fits_the_phone(page)
    screenshot(page, "nb-course-page")

    # The free lesson's breathing, on a clock the test moves: 4 in, 6 out, counted in Norwegian.
    page.clock.install(time=datetime.now(UTC))
    page.get_by_role("link", name=LESSON).first.click()
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    step = page.locator("li.step", has=page.get_by_role("heading", name=STEP))
    step.get_by_role("button", name=f"{nb('Start')} {STEP}").click()
    expect(
        step.get_by_role("group", name=nb("Guided practice: %(title)s", title=STEP))
    ).to_be_visible()
    expect(step.locator(".player__phase")).to_have_text(nb("Breathe in"))
    expect(step.locator(".player__count")).to_have_text("4")
    page.clock.run_for(4000)
    expect(step.locator(".player__phase")).to_have_text(nb("Breathe out"))
    expect(step.locator(".player__count")).to_have_text("6")
    fits_the_phone(page)
    screenshot(page, "nb-breathing")

    # Back in Dutch by her own choice, the catalog says which language the course is in.
    page.goto(live_server + "/courses")
    page.get_by_label(nb("Language")).select_option("nl")
    page.get_by_role("button", name=nb("Change")).click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    # The page to return to sits outside the kept footer, tied to its form (base.html).
    expect(page).to_have_url(live_server + "/courses")
    card = page.locator(".course-card", has_text=COURSE)
    expect(card).to_contain_text(re.compile(r"Taal van de cursus: Norsk"))
    context.close()
