"""Sanne buys the sample course "sterke-basis" on her phone: Kern sends her to Stripe (the test
server's payment page), she pays, lands on the success page with access, gets her receipt and
opens a lesson that is not a free preview.

The walk is in English: the Dutch catalog gets these pages' texts when the maintainer translates
them (the Stripe test server's own page is Dutch, like Stripe's would be for her).
"""

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.conftest import screenshot
from tests.smtp import SmtpServer, links_in
from tests.stripe_server import StripeServer

COURSE = "sterke-basis"
PHONE: ViewportSize = {"width": 390, "height": 844}
EMAIL = "sanne.koopt@example.nl"
PASSWORD = "elke ochtend vijf minuten"


@pytest.fixture
def english_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in a fresh context, in English."""
    context = browser.new_context(locale="en-GB", viewport=PHONE, device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


def sign_up(
    page: Page, live_server: str, mail_server: SmtpServer, *, name: str, email: str
) -> None:
    """Make an account in the page's language and follow the link from the real mail."""
    english = page.evaluate("navigator.language").startswith("en")
    labels = (
        ("Your name", "Email address", "Password")
        if english
        else ("Je naam", "E-mailadres", "Wachtwoord")
    )
    page.goto(f"{live_server}/register")
    for label, value in zip(labels, (name, email, PASSWORD), strict=True):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Create account" if english else "Account aanmaken").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your email" if english else "Kijk in je mail"
    )
    [link] = links_in(mail_server.wait_for_mail_to(email))
    page.goto(link)
    page.get_by_role(
        "button", name="Confirm my email address" if english else "Bevestig mijn e-mailadres"
    ).click()
    expect(page).to_have_url(re.compile(r"/today\?notice=welcome$"))


def second_lesson(live_server: str) -> str:
    """The slug of the course's second lesson, which a visitor may not open."""
    outline = httpx.get(f"{live_server}/api/v1/courses/{COURSE}").json()
    lessons = [lesson for module in outline["modules"] for lesson in module["lessons"]]
    second = lessons[1]
    assert second["locked"], "the second lesson of the sample course should not be free"
    return str(second["slug"])


def test_she_buys_the_course_and_opens_its_second_lesson(
    english_page: Page, live_server: str, live_stripe: StripeServer, mail_server: SmtpServer
) -> None:
    page = english_page
    mail_server.clear()
    # Other journeys in this session may have paid through the same Stripe server already.
    delivered_before = len(live_stripe.deliveries)
    lesson = f"{live_server}/courses/{COURSE}/lessons/{second_lesson(live_server)}"

    # She makes an account (the link in her mail signs her in), then reads the course page.
    sign_up(page, live_server, mail_server, name="Sanne", email=EMAIL)
    assert page.goto(lesson).status == 403  # type: ignore[union-attr]

    page.goto(f"{live_server}/courses/{COURSE}")
    buy = page.locator(f'form[action="/courses/{COURSE}/checkout"] button[type="submit"]')
    expect(buy).to_be_visible()
    screenshot(page, "purchase-course-page")

    # She asks for access to start now (the box that ends the right of withdrawal); the buy
    # button leads to Stripe's payment page for this course and price.
    page.locator("#f-withdrawal-waiver").check()
    buy.click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_stripe.url)}/pay/cs_test_"))
    expect(page.locator("#amount")).to_have_attribute("data-amount", "4900")
    screenshot(page, "purchase-stripe-page")

    # She pays; Stripe tells Kern (webhook) and sends her back to the success page.
    page.get_by_role("button", name="Betalen").click()
    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_test_"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Payment successful — you now have access"
    )
    screenshot(page, "purchase-success")
    assert [d.status_code for d in live_stripe.deliveries[delivered_before:]] == [200]

    # The receipt arrives (after the mails confirming her address and welcoming her; the
    # instructor hears of the enrolment too), with the amount, the VAT and the order number.
    [receipt] = [
        m
        for m in mail_server.wait_for(4)
        if m["To"] == EMAIL and "Sterke basis" in str(m["Subject"])
    ]
    body = receipt.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content().replace("\xa0", " ")
    order_number = re.search(r"K-\d{6}", text)
    assert order_number is not None, text
    assert "49" in text
    assert "21%" in text

    # The first lesson button works, and so does the second lesson (not a free preview).
    page.get_by_role("link", name="Start the first lesson").click()
    expect(page).to_have_url(re.compile(rf"/courses/{COURSE}/lessons/[a-z0-9-]+$"))
    response = page.goto(lesson)
    assert response is not None
    assert response.status == 200
    expect(page.get_by_text(re.compile(r"Lesson 2 of \d+"))).to_be_visible()
    screenshot(page, "purchase-second-lesson")

    # Her purchase is on her account page.
    page.goto(f"{live_server}/account")
    purchases = page.locator("section", has=page.locator("#purchases-title"))
    expect(purchases).to_contain_text(order_number.group(0))
    expect(purchases).to_contain_text("Paid")
    screenshot(page, "purchase-account")


def test_when_stripe_is_down_she_reads_why_in_dutch_and_buys_once_it_is_back(
    page: Page, live_server: str, live_stripe: StripeServer, mail_server: SmtpServer
) -> None:
    sign_up(page, live_server, mail_server, name="Noor", email="noor.wacht@example.nl")
    page.goto(f"{live_server}/courses/{COURSE}")
    buy = page.locator(f'form[action="/courses/{COURSE}/checkout"] button[type="submit"]')

    # Nothing listens on Stripe's address: the buy button ends on a page that says why.
    live_stripe.stop()
    try:
        page.locator("#f-withdrawal-waiver").check()
        buy.click()
        expect(page.get_by_text("We konden onze betaalprovider niet bereiken")).to_be_visible()
        expect(page.get_by_text("er is niets afgeschreven")).to_be_visible()
        screenshot(page, "purchase-stripe-down")
    finally:
        live_stripe.start()  # on the same port, with everything it knew

    # Stripe is back: the same button, pressed again, leads to its payment page.
    page.go_back()
    buy.click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_stripe.url)}/pay/cs_test_"))
