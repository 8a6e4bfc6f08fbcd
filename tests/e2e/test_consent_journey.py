"""Sanne, new to Kern, signs up on her phone and practises with the guided player. Before her
first practice is stored she is asked, in plain Dutch, whether Kern may keep it; she agrees and
sees it saved, later withdraws on her account page, downloads everything Kern holds about her,
and deletes her practice log. Eva, another newcomer, says "not now": her practice stays on her
phone and she can still use the player.

Each walk uses an account of its own, so the demo learner's consent, which other journeys rely
on, is left alone.
"""

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pyotp
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import ROOT, log_in, screenshot
from tests.e2e.test_player_journey import (
    LESSON,
    QUEUE,
    REPETITION_MS,
    STEP,
    open_lesson_on_a_fake_clock,
    start,
)
from tests.e2e.test_purchase_journey import sign_up
from tests.smtp import SmtpServer

PASSWORD = "rustig oefenen op de mat"
COURSE = "/courses/adem-en-ontspan"
QUESTION = "Mag Kern bewaren wat je over je lichaam vastlegt?"


@pytest.fixture
def new_learner(server_env: dict[str, str], live_server: str) -> Callable[..., str]:
    """Make an account (a learner unless `role` says otherwise) on the live server's database;
    returns its email address."""

    def make(name: str, role: str = "learner") -> str:
        email = f"{name.lower()}-{uuid4().hex[:8]}@kern.test"
        command = [sys.executable, "-m", "api", "users", "create", "--email", email]
        subprocess.run(
            [*command, "--name", name, "--role", role],
            input=PASSWORD + "\n",
            text=True,
            env=server_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        return email

    return make


def enrol_and_practise(page: Page, live_server: str, email: str | None = None) -> Locator:
    """Sign in (unless she is), join the free course, run the exercise to the end and save."""
    if email is not None:
        log_in(page, live_server, email, PASSWORD)
    page.goto(live_server + COURSE)
    page.get_by_role("button", name="Gratis inschrijven").click()
    expect(page).to_have_url(re.compile(r"/lessons/"))  # enrolled, she lands in lesson 1
    step = open_lesson_on_a_fake_clock(page, live_server)
    start(page, step)
    page.clock.run_for(5 * REPETITION_MS)
    expect(step.get_by_role("heading", name="Klaar!")).to_be_focused()
    step.get_by_role("radio", name="2").check()
    step.get_by_role("button", name="Bewaar in mijn oefenlog").click()
    return step


def test_she_signs_up_is_asked_before_her_first_practice_is_kept_withdraws_and_takes_her_data(
    page: Page, live_server: str, mail_server: SmtpServer
) -> None:
    email = f"sanne-{uuid4().hex[:8]}@kern.test"
    sign_up(page, live_server, mail_server, name="Sanne", email=email)
    step = enrol_and_practise(page, live_server)

    # Nothing was sent: the question stands under the exercise, its box not ticked.
    question = step.get_by_role("region", name=QUESTION)
    expect(question.get_by_role("heading", name=QUESTION)).to_be_focused()
    expect(question.get_by_text("Wie het ziet")).to_be_visible()
    agree = question.get_by_role("checkbox")
    expect(agree).not_to_be_checked()
    assert page.evaluate(QUEUE) == 1
    expect(question.get_by_role("link", name="Lees dit op een aparte pagina")).to_have_attribute(
        "href", "/account/health-consent?next=" + LESSON.replace("/", "%2F")
    )
    screenshot(page, "consent-question")

    # Pressing the button without ticking says what is missing and sends nothing.
    question.get_by_role("button", name="Mijn keuze opslaan").click()
    expect(question.get_by_text("Vink het vakje aan als je toestemming geeft.")).to_be_visible()
    expect(agree).to_be_focused()
    assert page.evaluate(QUEUE) == 1
    screenshot(page, "consent-unticked")

    agree.check()
    question.get_by_role("button", name="Mijn keuze opslaan").click()
    expect(question).to_have_count(0)
    expect(step.locator("[data-player-status]")).to_contain_text("Bewaard in je oefenlog.")
    assert page.evaluate(QUEUE) == 0
    screenshot(page, "consent-saved")

    page.goto(live_server + "/practice")
    expect(page.get_by_text(STEP).first).to_be_visible()

    # Later, on her account page, she withdraws; what is kept can be deleted separately.
    page.goto(live_server + "/account#health-data")
    section = page.locator("#health-data")
    expect(section).to_contain_text(
        "toestemming dat Kern je oefenlog (gezondheidsgegevens) bewaart"
    )
    section.get_by_role("button", name="Mijn toestemming intrekken").click()
    expect(section).to_contain_text("Je toestemming is ingetrokken.")
    expect(section).to_contain_text("Er staat 1 oefening in je oefenlog.")
    screenshot(page, "consent-withdrawn")

    # Before deleting anything she takes a copy of all Kern holds about her.
    with page.expect_download() as download:
        page.get_by_role("link", name="Mijn gegevens downloaden").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["account"]["email"] == email
    assert data["account"]["name"] == "Sanne"
    assert [e["course"] for e in data["enrolments"]] == ["Adem en ontspan"]
    assert [log["step"] for log in data["practice"]] == [STEP]
    assert data["practice"][0]["effort"] == 2
    [consent] = data["consents"]
    assert consent["kind"] == "health_data"
    assert consent["withdrawn_at"] is not None
    assert data["devices"]["sessions"], "the phone she is signed in on"
    subjects = [mail["subject"] for mail in data["mails"]]
    assert "Bevestig je e-mailadres voor Kern" in subjects
    assert "mail_preferences" in data
    assert data["progress"], "the lesson she opened"

    section.get_by_role("link", name="Mijn oefenlog verwijderen").click()
    expect(page.get_by_role("heading", name="Mijn oefenlog verwijderen")).to_be_visible()
    screenshot(page, "consent-delete-practice-log")
    page.get_by_role("button", name="Ja, verwijder mijn oefenlog").click()
    expect(page.locator("#health-data")).to_contain_text("Je oefenlog is verwijderd.")

    # Every page's footer leads to the privacy statement, which names the practice.
    page.get_by_role("contentinfo").get_by_role("link", name="Privacyverklaring").click()
    expect(page.get_by_role("heading", name="Privacyverklaring", exact=True)).to_be_visible()
    expect(page.locator(".practice-card")).to_contain_text("Bekkenpraktijk De Kern (demo)")
    expect(page.locator(".practice-card")).to_contain_text("12345678")
    screenshot(page, "privacy-statement")

    # The player works on, and asks again before anything is kept.
    step = open_lesson_on_a_fake_clock(page, live_server)
    start(page, step)
    page.clock.run_for(5 * REPETITION_MS)
    step.get_by_role("button", name="Bewaar in mijn oefenlog").click()
    expect(step.get_by_role("region", name=QUESTION)).to_be_visible()
    assert page.evaluate(QUEUE) == 1


def test_not_now_keeps_her_practice_on_the_phone_until_she_decides(
    page: Page, live_server: str, new_learner: Callable[..., str]
) -> None:
    email = new_learner("Eva")
    step = enrol_and_practise(page, live_server, email)

    question = step.get_by_role("region", name=QUESTION)
    question.get_by_role("button", name="Nu niet").click()

    expect(question).to_have_count(0)
    expect(step.locator("[data-player-status]")).to_have_text(
        "Er is niets verstuurd. Je oefening blijft op dit apparaat tot je beslist; "
        "je kunt gewoon verder oefenen."
    )
    expect(step.get_by_role("button", name=f"Begin {STEP}")).to_be_focused()
    waiting = page.locator("[data-practice-status]")
    expect(waiting).to_contain_text(
        "1 oefening wacht op dit apparaat tot je beslist of Kern hem mag bewaren."
    )
    assert page.evaluate(QUEUE) == 1
    screenshot(page, "consent-not-now")

    # A new visit: still nothing sent, and the question is one tap away.
    page.goto(live_server + LESSON)
    expect(waiting).to_contain_text("1 oefening wacht op dit apparaat")
    assert page.evaluate(QUEUE) == 1
    waiting.get_by_role("button", name="Nu beslissen").click()
    question = page.get_by_role("region", name=QUESTION)
    expect(question.get_by_role("heading", name=QUESTION)).to_be_focused()
    question.get_by_role("checkbox").check()
    question.get_by_role("button", name="Mijn keuze opslaan").click()

    expect(page.locator("[data-practice-status]")).to_contain_text(
        "Je eerdere oefening staat nu in je oefenlog."
    )
    assert page.evaluate(QUEUE) == 0


def test_an_admin_corrects_the_practice_details_shown_in_every_footer(
    page: Page, live_server: str, new_learner: Callable[..., str]
) -> None:
    """Aart, who runs the site, mistypes the KvK number, reads why it is refused, and fixes it."""
    email = new_learner("Aart", role="admin")
    log_in(page, live_server, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/account/two-factor"))
    secret = page.locator(".secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Aanzetten").click()

    page.goto(live_server + "/studio")
    page.get_by_role("link", name="Praktijkgegevens").click()
    expect(page.get_by_label("Handelsnaam")).to_have_value("Bekkenpraktijk De Kern (demo)")
    page.get_by_label("Telefoonnummer (niet verplicht)").fill("030 765 43 21")
    page.get_by_label("KvK-nummer").fill("1234567")
    page.get_by_role("button", name="Opslaan").click()

    expect(page.get_by_text("Een KvK-nummer heeft precies 8 cijfers")).to_be_visible()
    expect(page.get_by_label("Telefoonnummer (niet verplicht)")).to_have_value("030 765 43 21")
    screenshot(page, "practice-details-refused")

    page.get_by_label("KvK-nummer").fill("1234 5678")
    page.get_by_role("button", name="Opslaan").click()
    expect(page.get_by_text("De praktijkgegevens zijn opgeslagen.")).to_be_visible()
    expect(page.get_by_role("contentinfo")).to_contain_text("030 765 43 21")
    expect(page.get_by_role("contentinfo")).to_contain_text("KvK 12345678")
    screenshot(page, "practice-details-saved")
