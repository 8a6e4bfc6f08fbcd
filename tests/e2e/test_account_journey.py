"""Lotte makes an account on her phone, confirms it from her mail (which signs her in), resets her
password, and later signs in with a link by mail."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in, screenshot
from tests.smtp import SmtpServer, links_in

EMAIL = "lotte.e2e@example.nl"
FIRST_PASSWORD = "zachtjes uitademen 6"
NEW_PASSWORD = "rustig inademen op 4"


def _log_in(page: Page, live_server: str, password: str) -> None:
    log_in(page, live_server, EMAIL, password)


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").first.click()
    expect(page.get_by_text("Je bent uitgelogd.")).to_be_visible()


def test_register_verify_log_out_in_reset_password_and_sign_in_by_link(
    page: Page, live_server: str, mail_server: SmtpServer
) -> None:
    mail_server.clear()

    # She registers; a typo in the email first keeps what she typed.
    page.goto(live_server + "/register")
    page.get_by_label("Je naam").fill("Lotte")
    page.get_by_label("E-mailadres").fill("lotte.e2e@")
    page.get_by_label("Wachtwoord").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Account aanmaken").click()
    expect(page.get_by_text("Dit is geen geldig e-mailadres")).to_be_visible()
    expect(page.get_by_label("Je naam")).to_have_value("Lotte")
    expect(page.get_by_label("Wachtwoord")).to_have_value("")
    screenshot(page, "register-error")
    page.get_by_label("E-mailadres").fill(EMAIL)
    page.get_by_label("Wachtwoord").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Account aanmaken").click()
    expect(page.get_by_role("heading", name="Kijk in je mail")).to_be_visible()
    expect(page.get_by_text(f"We hebben een e-mail gestuurd naar {EMAIL}")).to_be_visible()
    screenshot(page, "register-check-mail")

    # The link in the real mail opens a page with one button; it confirms and signs her in.
    mail = mail_server.wait_for_mail_to(EMAIL)
    assert mail["Subject"] == "Bevestig je e-mailadres voor Kern"
    [link] = links_in(mail)
    page.goto(link)
    page.get_by_role("button", name="Bevestig mijn e-mailadres").click()
    expect(page).to_have_url(re.compile(r"/today\?notice=welcome$"))
    expect(page.get_by_text("Welkom bij Kern! Je e-mailadres is bevestigd.")).to_be_visible()
    screenshot(page, "account-welcome")

    _log_out(page)
    _log_in(page, live_server, FIRST_PASSWORD)
    expect(page).to_have_url(re.compile(r"/today$"))
    _log_out(page)

    # She forgot her password: the reset link arrives by mail and works once.
    mail_server.clear()
    page.get_by_role("link", name="Wachtwoord vergeten?").click()
    page.get_by_label("E-mailadres").fill(EMAIL)
    page.get_by_role("button", name="Link versturen").click()
    expect(page.get_by_text("De link werkt een uur")).to_be_visible()
    [reset_mail] = mail_server.wait_for(1)
    [reset_link] = links_in(reset_mail)
    page.goto(reset_link)
    page.get_by_label("Nieuw wachtwoord").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Nieuw wachtwoord opslaan").click()
    expect(page.get_by_text("Je nieuwe wachtwoord is ingesteld.")).to_be_visible()
    screenshot(page, "password-reset")

    # The old password no longer works; the new one does.
    _log_in(page, live_server, FIRST_PASSWORD)
    expect(page.get_by_text("horen niet bij elkaar")).to_be_visible()
    _log_in(page, live_server, NEW_PASSWORD)
    expect(page).to_have_url(re.compile(r"/today$"))
    screenshot(page, "account")

    # The used link is refused with a clear message.
    page.goto(reset_link)
    expect(page.get_by_role("heading", name="Link werkt niet meer")).to_be_visible()

    # Without her password at hand she asks for a sign-in link from the login page.
    page.goto(live_server + "/account")
    _log_out(page)
    mail_server.clear()
    page.get_by_role("link", name="Stuur me een inloglink").click()
    page.get_by_label("E-mailadres").fill(EMAIL)
    page.get_by_role("button", name="Stuur me een inloglink").click()
    expect(page.get_by_text("is er een inloglink onderweg")).to_be_visible()
    [sign_in_link] = links_in(mail_server.wait_for_mail_to(EMAIL))
    page.goto(sign_in_link)
    page.get_by_role("button", name="Log me in").click()
    expect(page).to_have_url(re.compile(r"/today$"))
    screenshot(page, "signed-in-by-link")
