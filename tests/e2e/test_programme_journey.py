"""The programme from the first tap to the evidence, on the sample content from `kern seed`.

A stranger takes the Pijntest on her phone: a warning sign gets her the advice to see a doctor
and nothing to buy; her honest answers get a band and Sterke basis as a suggestion. She keeps
that result by making an account, buys the course, and finds her baseline check-in first on
Vandaag. Weeks pass (her enrolment and answers are moved back in the live database, as the
calendar would) and she finishes week 3 and then the course; each time a check-in is due, and
her practice log shows how her scores went down. Her therapist sees her charts and the course's
counts on her laptop, and downloads the course package with its questionnaires and imports it
again without a change.
"""

import re
from collections.abc import Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect
from sqlmodel import Session, create_engine, select

from api.accounts.models import User
from api.enrolment.models import Enrolment
from api.questionnaires.models import Measurement
from api.security.csrf import HEADER, cookie_name
from tests.e2e.conftest import nl, screenshot, sign_in_demo_instructor
from tests.smtp import SmtpServer, links_in
from tests.stripe_server import StripeServer

PHONE: ViewportSize = {"width": 390, "height": 844}
COURSE = "sterke-basis"
PASSWORD = "elke ochtend even ademen"

# The Pijntest's screens, in order, and what she taps on each.
HONEST = [
    ("scale", "5"),  # pain now
    ("scale", "5"),  # pain on average last week
    ("choice", "3 maanden tot een jaar"),
    ("choice", "Lang zitten"),
    ("scale", "6"),  # tension
    ("choice", "Redelijk, soms wat onrustig"),
    ("choice", "Nee"),
    ("choice", "Nee"),
    ("choice", "Nee"),
    ("choice", "Nee"),
    ("choice", "Nee"),
]
# The same, but she does have pain at night that does not ease (the tenth screen).
WITH_NIGHT_PAIN = [*HONEST[:9], ("choice", "Ja"), HONEST[10]]


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="nl-NL", viewport=PHONE, device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def database(server_env: dict[str, str], live_server: str) -> Iterator[Session]:
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        yield session
    engine.dispose()


def take_the_test(page: Page, live_server: str, answers: list[tuple[str, str]]) -> None:
    page.goto(live_server + "/")
    page.locator(".selftest-cta").get_by_role("link", name="Pijntest").click()
    page.get_by_role("button", name="Begin met de test").click()
    for number, (kind, answer) in enumerate(answers, start=1):
        expect(page.get_by_text(f"Vraag {number} van {len(answers)}")).to_be_visible()
        if kind == "scale":
            page.locator("label.scale__option").filter(
                has_text=re.compile(rf"^\s*{answer}\s*$")
            ).click()
        else:
            page.get_by_text(answer, exact=True).click()
        last = number == len(answers)
        page.get_by_role("button", name="Bekijk mijn uitslag" if last else "Volgende").click()


def check_in(page: Page, live_server: str, taps: list[int], values: list[int]) -> None:
    """From Vandaag: the check-in card, then an option of each choice and a number on each
    scale (in the questionnaire's order), no warning sign, and save."""
    page.goto(live_server + "/today")
    card = page.locator(".checkin-card")
    expect(card).to_be_visible()
    card.get_by_role("link", name=nl("Start the check-in")).click()
    questions = page.locator("fieldset.question")
    for index, option in enumerate(taps):
        questions.nth(index).locator("label").nth(option).click()
    for offset, value in enumerate(values, start=len(taps)):
        questions.nth(offset).locator("label.scale__choice").nth(value).click()
    questions.nth(len(taps) + len(values)).get_by_text(nl("No"), exact=True).click()
    page.get_by_role("button", name=nl("Save my check-in")).click()
    expect(page).to_have_url(re.compile(r"/today\?notice=check-in-saved$"))


def weeks_pass(database: Session, email: str, days: int) -> None:
    """Move her enrolment and what she answered `days` back, as if that time had passed."""
    user = database.exec(select(User).where(User.email == email)).one()
    shift = timedelta(days=days)
    for enrolment in database.exec(select(Enrolment).where(Enrolment.user_id == user.id)):
        enrolment.enrolled_at -= shift
        database.add(enrolment)
    for measurement in database.exec(select(Measurement).where(Measurement.user_id == user.id)):
        measurement.taken_at -= shift
        database.add(measurement)
    database.commit()


def complete_weeks(page: Page, live_server: str, weeks: int) -> None:
    """Mark the lessons of the first `weeks` modules done, as the lesson pages' button does."""
    outline = page.request.get(f"{live_server}/api/v1/courses/{COURSE}").json()
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    headers = {HEADER: cookies[cookie_name(production=False)], "Origin": live_server}
    for module in outline["modules"][:weeks]:
        for lesson in module["lessons"]:
            url = f"{live_server}/api/v1/courses/{COURSE}/lessons/{lesson['slug']}/completion"
            response = page.request.put(url, headers=headers)
            assert response.status == 200, (lesson["slug"], response.status, response.text())


def test_from_the_pijntest_to_the_evidence(
    *,
    browser: Browser,
    phone: Page,
    live_server: str,
    live_stripe: StripeServer,
    mail_server: SmtpServer,
    database: Session,
    demo_instructor_secret: str,
) -> None:
    page = phone
    email = f"femke-{uuid4().hex[:8]}@kern.test"

    # A warning sign: the advice to see a doctor first, and nothing to buy.
    take_the_test(page, live_server, WITH_NIGHT_PAIN)
    expect(page.get_by_role("heading", name="Ga eerst naar je huisarts")).to_be_visible()
    main = page.locator("main")
    expect(main.locator(".course-card")).to_have_count(0)
    expect(main.locator("form[action$='/checkout']")).to_have_count(0)
    assert "€" not in main.inner_text()
    screenshot(page, "programme-pijntest-warning")

    # Her honest answers: 5 + 5 + 2 + 1 + 6 + 1 = 20, "Duidelijk last", and Sterke basis.
    take_the_test(page, live_server, HONEST)
    expect(page.get_by_role("heading", level=1)).to_have_text("Duidelijk last")
    expect(page.get_by_text("Je score is 20, op een schaal van 0 tot 42.")).to_be_visible()
    suggestion = main.locator(".course-card")
    expect(suggestion).to_contain_text("Sterke basis")
    screenshot(page, "programme-pijntest-result")

    # She keeps it: an account, the link in her mail, her consent, and it is her first measure.
    page.get_by_role("button", name="Bewaar mijn uitslag").click()
    page.get_by_role("link", name="Maak een account aan").click()
    page.get_by_label("Je naam").fill("Femke")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Account aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in je mail")
    [link] = links_in(mail_server.wait_for_mail_to(email))
    page.goto(link)
    page.get_by_role("button", name="Bevestig mijn e-mailadres").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bewaar je uitslag")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Bewaar mijn uitslag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Je uitslag is bewaard")

    # She buys the suggested course through Stripe.
    page.goto(f"{live_server}/courses/{COURSE}")
    page.locator("#f-withdrawal-waiver").check()
    page.locator(f'form[action="/courses/{COURSE}/checkout"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_stripe.url)}/pay/cs_test_"))
    page.get_by_role("button", name="Betalen").click()
    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_test_"))

    # Her baseline check-in is the first card on Vandaag: 3 + 4 + 7 + 6 = 20.
    page.goto(live_server + "/today")
    expect(page.locator("main section").first).to_have_class(re.compile(r"\bcheckin-card\b"))
    screenshot(page, "programme-today-baseline")
    check_in(page, live_server, taps=[3, 2], values=[7, 6])

    # Two and a half weeks on she has done weeks 1 to 3: the next check-in, 2 + 2 + 5 + 4 = 13.
    weeks_pass(database, email, days=17)
    complete_weeks(page, live_server, weeks=3)
    check_in(page, live_server, taps=[2, 1], values=[5, 4])

    # Three more weeks and the whole course: the last check-in, 1 + 2 + 3 + 2 = 8.
    weeks_pass(database, email, days=21)
    complete_weeks(page, live_server, weeks=6)
    check_in(page, live_server, taps=[1, 1], values=[3, 2])

    page.goto(live_server + "/practice#measurements")
    changes = page.locator(".measure-chart__change")
    expect(changes.filter(has_text="ging van 20 naar 8")).to_be_visible()
    expect(changes.filter(has_text="Je rugpijn ging van 6 naar 2.")).to_be_visible()
    screenshot(page, "programme-her-charts")

    # Her therapist, on her laptop: Femke's charts, and the course's counts.
    laptop = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    studio = laptop.new_page()
    sign_in_demo_instructor(studio, live_server, demo_instructor_secret)

    studio.goto(f"{live_server}/studio/courses/{COURSE}/learners")
    studio.get_by_role("link", name="Femke").click()
    expect(studio.get_by_role("heading", name="Femke")).to_be_visible()
    expect(
        studio.locator(".measure-chart__change").filter(has_text="van 20 naar 8")
    ).to_be_visible()
    screenshot(studio, "programme-studio-learner")

    studio.goto(f"{live_server}/studio/courses/{COURSE}/insight#outcomes-title")
    improved = studio.locator('.outcome [data-count="improved"] .outcome-counts__number')
    assert int(improved.first.inner_text()) >= 1
    screenshot(studio, "programme-studio-insight")

    # The course package with its questionnaires and check-ins, out and in again: no change.
    studio.goto(f"{live_server}/studio/courses/{COURSE}")
    with studio.expect_download() as download:
        studio.get_by_role("link", name=nl("Download as course package (zip)")).click()
    archive = download.value.path()
    studio.goto(f"{live_server}/studio/import")
    studio.locator("#f-package").set_input_files(str(archive))
    studio.get_by_role("button", name=nl("Import")).click()
    expect(studio).to_have_url(re.compile(rf"/studio/courses/{COURSE}\?notice=unchanged$"))
    laptop.close()
