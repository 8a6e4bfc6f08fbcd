"""Long Dutch words on the smallest phones: headings keep a word whole, text hyphenates in its
own language."""

from playwright.sync_api import Browser, expect

from api.seed import DEMO_LEARNER_EMAIL, DEMO_PASSWORD_LEARNER
from tests.e2e.conftest import log_in, screenshot

LESSON = "/courses/sterke-basis/lessons/de-eerste-zachte-aanspanning"
# Lines a heading takes: its height over its line height, rounded.
LINES = (
    "e => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))"
)


def test_a_long_word_in_a_heading_fits_whole_on_a_320_px_phone(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 320, "height": 640})
    page = context.new_page()
    log_in(page, live_server, DEMO_LEARNER_EMAIL, DEMO_PASSWORD_LEARNER)

    page.goto(live_server + "/account/two-factor")
    heading = page.locator("main h1")
    expect(heading).to_have_text("Tweestapsverificatie")
    # One line, not "Tweestapsverifica" and "tie" under it.
    assert heading.evaluate(LINES) == 1
    assert heading.evaluate("e => e.scrollWidth <= e.clientWidth")
    screenshot(page, "two-factor-320")

    # Vandaag fits too: her week's seven day marks shrink instead of pushing the page sideways.
    page.goto(live_server + "/today")
    expect(page.locator(".week__day")).to_have_count(7)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "today-320")

    # The lesson text hyphenates as Dutch: it carries the course's language.
    page.goto(live_server + LESSON)
    prose = page.locator("main .prose").first
    assert prose.evaluate("e => e.closest('[lang]').lang") == "nl"
    assert prose.evaluate("e => getComputedStyle(e).hyphens") == "auto"
    context.close()
