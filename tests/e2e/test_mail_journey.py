"""Sanne chooses when Kern reminds her to practise, on her phone, in Dutch; a mistake keeps what
she chose. Later the link in a reminder and one button stop them without logging in, and one
more turns them back on; a changed link changes nothing."""

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from api.config import Settings
from api.mail.unsubscribe import Topic, make_link
from api.seed import DEMO_PASSWORD_LEARNER
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import log_in, screenshot

EMAIL = "deelnemer@kern.test"


def _user_id(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT id FROM user_account WHERE email = :email"), {"email": EMAIL}
            ).scalar_one()
    finally:
        engine.dispose()
    return int(found)


def test_she_chooses_reminder_days_and_stops_them_from_the_mail(
    page: Page, browser: Browser, live_server: str, server_env: dict[str, str]
) -> None:
    log_in(page, live_server, EMAIL, DEMO_PASSWORD_LEARNER)
    expect(page).to_have_url(re.compile(r"/today$"))

    page.goto(live_server + "/account")
    page.get_by_role("link", name=re.compile("e-mails", re.IGNORECASE)).first.click()
    expect(page).to_have_url(re.compile(r"/account/mail$"))
    expect(page.get_by_role("heading", name="Oefenherinneringen")).to_be_visible()

    # A time without a day is explained, and what she chose stays.
    page.get_by_label("Tijd 1").fill("19:30")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Kies minstens één dag voor je herinnering")).to_be_visible()
    expect(page.get_by_label("Tijd 1")).to_have_value("19:30")
    screenshot(page, "mail-preferences-error")

    page.get_by_label("Maandag").check()
    page.get_by_label("Donderdag").check()
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("Je keuzes zijn opgeslagen.")).to_be_visible()
    expect(page.get_by_label("Maandag")).to_be_checked()
    expect(page.get_by_label("Donderdag")).to_be_checked()
    expect(page.get_by_label("Dinsdag")).not_to_be_checked()
    expect(page.get_by_label("Tijd 1")).to_have_value("19:30")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    screenshot(page, "mail-preferences-saved")

    # The stop link in a reminder works in a browser where she is not logged in.
    settings = Settings(secret_key=TEST_SECRET_KEY, base_url=live_server)
    user_id = _user_id(server_env["DATABASE_URL"])
    link = make_link(settings, user_id=user_id, topic=Topic.reminders)
    stranger = browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844})
    try:
        mail_page = stranger.new_page()
        mail_page.goto(link)
        # Opening the link only asks: mail scanners open links too.
        expect(mail_page.get_by_role("heading", name="Oefenherinneringen stoppen?")).to_be_visible()
        mail_page.get_by_role("button", name="Deze e-mails stoppen").click()
        expect(mail_page.get_by_role("heading", name="Herinneringen gestopt")).to_be_visible()
        screenshot(mail_page, "reminders-stopped")

        page.reload()
        expect(page.get_by_text("Je hebt de oefenherinneringen gestopt")).to_be_visible()

        mail_page.get_by_role("button", name="Weer aanzetten").click()
        expect(
            mail_page.get_by_role("heading", name="Herinneringen staan weer aan")
        ).to_be_visible()
        page.reload()
        expect(page.get_by_text("Je hebt de oefenherinneringen gestopt")).to_have_count(0)

        # A link for someone else, or one that was changed, changes nothing.
        forged = link.replace(f"/{user_id}.", f"/{user_id + 1}.")
        response = mail_page.goto(forged)
        assert response is not None
        assert response.status == 400
        expect(mail_page.get_by_role("heading", name="Deze link werkt niet")).to_be_visible()
    finally:
        stranger.close()
