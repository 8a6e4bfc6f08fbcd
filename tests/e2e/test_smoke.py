"""A visitor opens Kern on her phone and sees a calm Dutch home page."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot


def test_home_page_in_dutch(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    expect(page).to_have_title(re.compile("Kern"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Sterker vanuit je kern, een paar minuten per dag"
    )
    expect(page.get_by_role("heading", name="Zo werkt het")).to_be_visible()
    expect(page.get_by_text("Kern leert je oefeningen; het stelt geen diagnose.")).to_be_visible()
    # The page fits a phone: nothing sticks out sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "home-nl")


def test_visitor_switches_to_english(page: Page, live_server: str) -> None:
    page.goto(live_server + "/")
    page.get_by_label("Taal").select_option("en")
    page.get_by_role("button", name="Wijzig").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Stronger from your core")
    screenshot(page, "home-en")
