"""A stranger on her phone takes the free self-test, sees her result and keeps it by signing up;
another answers yes to a warning sign and is told to see a doctor first, with no course."""

import re
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, create_engine, select

from api.catalog.models import Course
from api.kit.ids import id_of
from api.questionnaires import service
from api.questionnaires.models import Questionnaire
from tests.e2e.conftest import SCREENSHOTS, screenshot
from tests.e2e.test_purchase_journey import PASSWORD
from tests.questionnaires.selftest_helpers import definition
from tests.smtp import SmtpServer, links_in

SLUG = "rugtest-e2e"
# The sample courses: the lowest band suggests the free one, the middle band the paid one.
FREE_COURSE = "adem-en-ontspan"
PAID_COURSE = "sterke-basis"


# Session-wide, like the live server whose database it writes to: xdist may split this
# module's tests, and a module fixture set up twice would write its rows twice.
@pytest.fixture(scope="session")
def self_test(server_env: dict[str, str], live_server: str) -> str:
    """A published self-test of the paid sample course, written into the live database."""
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        paid = session.exec(select(Course).where(Course.slug == PAID_COURSE)).one()
        written = definition()
        bands = [
            band.model_copy(update={"course": course})
            for band, course in zip(written.bands, (FREE_COURSE, PAID_COURSE, None), strict=True)
        ]
        session.add(
            Questionnaire(
                course_id=id_of(paid),
                slug=SLUG,
                title="Rugtest",
                language="nl",
                status="published",
                self_test=True,
                definition=service.stored_definition(written.model_copy(update={"bands": bands})),
            )
        )
        session.commit()
    engine.dispose()
    return SLUG


def next_question(page: Page) -> None:
    page.get_by_role("button", name="Volgende").click()


def test_a_stranger_takes_the_test_and_keeps_her_result_by_signing_up(
    page: Page, live_server: str, self_test: str, mail_server: SmtpServer
) -> None:
    page.goto(live_server + "/")
    invitation = page.locator(".selftest-cta")
    expect(invitation).to_be_visible()
    invitation.scroll_into_view_if_needed()
    screenshot(page, "selftest-home")
    invitation.get_by_role("link", name="Rugtest").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Rugtest")
    screenshot(page, "selftest-intro")
    page.get_by_role("button", name="Begin met de test").click()

    expect(page.get_by_text("Vraag 1 van 5")).to_be_visible()
    next_question(page)  # nothing chosen yet
    expect(page.get_by_role("alert")).to_have_text("Beantwoord deze vraag.")
    screenshot(page, "selftest-question-missing")
    page.locator("label.scale__option", has_text="6").click()
    screenshot(page, "selftest-question-scale")
    next_question(page)

    expect(page.get_by_text("Vraag 2 van 5")).to_be_visible()
    page.get_by_text("Een paar maanden").click()
    screenshot(page, "selftest-question-single")
    next_question(page)

    expect(page.get_by_text("Vraag 3 van 5")).to_be_visible()
    page.get_by_text("Lang zitten").click()
    page.get_by_text("Spanning").click()
    screenshot(page, "selftest-question-multiple")
    # Back twice and forward again: what she chose is still chosen.
    page.get_by_role("button", name="Vorige").click()
    expect(page.get_by_role("radio", name="Een paar maanden")).to_be_checked()
    page.get_by_role("button", name="Vorige").click()
    expect(page.get_by_role("radio", name="6")).to_be_checked()
    next_question(page)
    next_question(page)
    expect(page.get_by_role("checkbox", name="Spanning")).to_be_checked()
    next_question(page)

    expect(page.get_by_text("Vraag 4 van 5")).to_be_visible()
    page.get_by_text("Nee", exact=True).click()
    screenshot(page, "selftest-question-warning")
    next_question(page)

    expect(page.get_by_text("Vraag 5 van 5")).to_be_visible()
    page.get_by_role("textbox").fill("Vooral na een lange werkdag.")
    screenshot(page, "selftest-question-text")
    page.get_by_role("button", name="Bekijk mijn uitslag").click()

    # 6 + 2 + 3 = 11: "Veel klachten", which suggests no course.
    expect(page.get_by_role("heading", level=1)).to_have_text("Veel klachten")
    expect(page.get_by_text("Je score is 11, op een schaal van 0 tot 16.")).to_be_visible()
    screenshot(page, "selftest-result")

    page.get_by_role("button", name="Bewaar mijn uitslag").click()
    expect(page).to_have_url(re.compile(rf"/test/{SLUG}/keep$"))
    screenshot(page, "selftest-keep-account")
    page.get_by_role("link", name="Maak een account aan").click()

    email = f"sanne-{uuid4().hex[:8]}@kern.test"
    page.get_by_label("Je naam").fill("Sanne")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Account aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kijk in je mail")
    [link] = links_in(mail_server.wait_for_mail_to(email))
    page.goto(link)
    page.get_by_role("button", name="Bevestig mijn e-mailadres").click()

    expect(page).to_have_url(re.compile(rf"/test/{SLUG}/keep$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bewaar je uitslag")
    page.get_by_role("button", name="Bewaar mijn uitslag").click()
    expect(page.get_by_role("alert")).to_be_visible()  # not without her consent
    screenshot(page, "selftest-keep-consent")
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Bewaar mijn uitslag").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Je uitslag is bewaard")
    expect(page.get_by_role("link", name="Naar mijn voortgang")).to_have_attribute(
        "href", "/practice#measurements"
    )
    screenshot(page, "selftest-kept")
    export = page.request.get(live_server + "/account/export").json()
    [measurement] = export["measurements"]
    assert measurement["score"] == 11


def test_a_warning_sign_shows_the_doctor_advice_and_nothing_to_buy(
    page: Page, live_server: str, self_test: str
) -> None:
    page.goto(f"{live_server}/test/{self_test}")
    page.get_by_role("button", name="Begin met de test").click()
    page.locator("label.scale__option", has_text="2").click()
    next_question(page)
    page.get_by_text("Een paar maanden").click()
    next_question(page)
    next_question(page)  # nothing makes it worse
    page.get_by_text("Ja", exact=True).click()
    next_question(page)
    page.get_by_role("button", name="Bekijk mijn uitslag").click()

    expect(page.get_by_role("heading", name="Ga eerst naar je huisarts")).to_be_visible()
    screenshot(page, "selftest-result-warning")
    main = page.locator("main")
    expect(main.locator(".course-card")).to_have_count(0)
    text = main.inner_text().lower()
    assert "€" not in text
    assert "koop" not in text
    expect(page.get_by_text("Matige klachten")).to_have_count(0)

    # A keep page without a result to keep (another browser, or a day later) says so.
    response = page.goto(f"{live_server}/test/{self_test}/keep")
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Deze uitslag kan niet meer bewaard worden"
    )
    screenshot(page, "selftest-keep-lost")


def test_the_paid_course_is_suggested_as_a_card(
    page: Page, live_server: str, self_test: str
) -> None:
    page.goto(f"{live_server}/test/{self_test}")
    page.get_by_role("button", name="Begin met de test").click()
    page.locator("label.scale__option", has_text="4").click()
    next_question(page)
    page.get_by_text("Een paar maanden").click()
    next_question(page)
    next_question(page)
    page.get_by_text("Nee", exact=True).click()
    next_question(page)
    page.get_by_role("button", name="Bekijk mijn uitslag").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Matige klachten")
    card = page.locator(".course-card")
    expect(card).to_be_visible()
    card.scroll_into_view_if_needed()
    screenshot(page, "selftest-result-course")
    page.get_by_role("link", name="Bekijk de cursus").click()
    expect(page).to_have_url(re.compile(rf"/courses/{PAID_COURSE}$"))
    invitation = page.locator(".selftest-cta")
    expect(invitation).to_be_visible()
    expect(invitation.get_by_role("link", name="Rugtest")).to_have_attribute(
        "href", f"/test/{self_test}"
    )
    # The page is long: the invitation on its own, as she sees it when she scrolls to it.
    invitation.screenshot(path=str(SCREENSHOTS / "selftest-course-page-invitation.png"))
