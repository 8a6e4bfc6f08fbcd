"""Lotte buys a course on her phone: without asking for access to start now she cannot pay;
with it she pays through Stripe and downloads her invoice from her account page."""

import re

from playwright.sync_api import Page, expect

from api.terms.waiver import WAIVER_MISSING
from tests.e2e.conftest import fits_the_phone, nl, screenshot
from tests.e2e.test_purchase_journey import COURSE, sign_up
from tests.smtp import SmtpServer
from tests.stripe_server import StripeServer


def test_she_buys_with_the_waiver_and_downloads_her_invoice(
    page: Page, live_server: str, live_stripe: StripeServer, mail_server: SmtpServer
) -> None:
    sign_up(page, live_server, mail_server, name="Lotte Bakker", email="lotte.factuur@example.nl")
    page.goto(f"{live_server}/courses/{COURSE}")
    buy = page.locator(f'form[action="/courses/{COURSE}/checkout"] button[type="submit"]')

    # Without the box ticked the form comes back with the reason, and no payment starts.
    buy.click()
    expect(page.get_by_role("alert")).to_have_text(nl(WAIVER_MISSING))
    waiver = page.locator("#f-withdrawal-waiver")
    expect(waiver).not_to_be_checked()
    fits_the_phone(page)
    screenshot(page, "invoice-waiver-missing")

    waiver.check()
    page.locator(f'form[action="/courses/{COURSE}/checkout"] button[type="submit"]').click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(live_stripe.url)}/pay/cs_test_"))
    page.get_by_role("button", name="Betalen").click()
    expect(page).to_have_url(re.compile(r"/checkout/success\?session_id=cs_test_"))

    page.goto(f"{live_server}/account")
    link = page.locator('a[href^="/account/invoices/"]')
    expect(link).to_have_count(1)
    fits_the_phone(page)
    screenshot(page, "invoice-account")
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("factuur-")
    assert path.read_bytes().startswith(b"%PDF-")
