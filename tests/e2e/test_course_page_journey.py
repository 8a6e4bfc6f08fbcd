"""Noor decides on the course page whether to trust the therapist, tries the free lesson and is
offered the course at its end; then she finishes the free sample course and gets a certificate
that anyone can check. On a 390 px phone, in Dutch."""

import io
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from api.security.csrf import HEADER, cookie_name
from tests.e2e.conftest import ROOT, fits_the_phone, log_in, nl
from tests.factories import PASSWORD

PAID = "sterke-basis"
FREE = "adem-en-ontspan"
SHOTS = Path("/work/notes/shots-coursepage")


def shot(page: Page, name: str) -> None:
    """A picture of the whole page, kept for review where the notes can find it."""
    if SHOTS.parent.is_dir():
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def make_learner(server_env: dict[str, str], live_server: str, name: str) -> str:
    """A learner account made the way an owner makes one (`kern users create`)."""
    email = f"noor-{secrets.token_hex(4)}@example.nl"
    subprocess.run(
        [sys.executable, "-m", "api", "users", "create", "--email", email, "--name", name],
        input=f"{PASSWORD}\n",
        text=True,
        env={**server_env, "BASE_URL": live_server},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return email


def complete_all_but_the_last(page: Page, live_server: str) -> str:
    """Mark every lesson of the free course done but the last, as the lesson button does; the
    last one's address."""
    outline = page.request.get(f"{live_server}/api/v1/courses/{FREE}").json()
    slugs = [lesson["slug"] for module in outline["modules"] for lesson in module["lessons"]]
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    headers = {HEADER: cookies[cookie_name(production=False)], "Origin": live_server}
    for slug in slugs[:-1]:
        url = f"{live_server}/api/v1/courses/{FREE}/lessons/{slug}/completion"
        assert page.request.put(url, headers=headers).status == 200
    return f"{live_server}/courses/{FREE}/lessons/{slugs[-1]}"


def test_the_course_page_earns_trust_and_a_finished_course_gives_a_certificate(
    page: Page, browser: Browser, live_server: str, server_env: dict[str, str]
) -> None:
    email = make_learner(server_env, live_server, "Noor Jansen")

    # A visitor reads the course page: cover, therapist, credentials, earlier participants.
    page.goto(f"{live_server}/courses/{PAID}")
    cover = page.locator("img.course__cover")
    expect(cover).to_have_attribute("alt", re.compile(r"\w"))
    assert cover.evaluate("img => img.complete && img.naturalWidth > 0")
    teacher = page.get_by_role("region", name=nl("Your therapist"))
    expect(teacher).to_contain_text("Inge de Vries")
    expect(teacher).to_contain_text("BIG-registratie")
    photo = teacher.get_by_role("img")
    photo.scroll_into_view_if_needed()  # loaded lazily
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    expect(page.get_by_role("region", name=nl("What participants say"))).to_contain_text("Marieke")
    data = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "")
    assert (data["@type"], data["offers"]["price"], data["inLanguage"]) == ("Course", "49.00", "nl")
    assert page.locator('meta[property="og:image"]').get_attribute("content") == data["image"]
    expect(page.locator(".buy-bar")).to_be_visible()
    expect(page.locator(".buy-bar a")).to_have_attribute("href", "#enrol")
    fits_the_phone(page)
    shot(page, "1-course-page-visitor")

    # Signed in but without the course, the free lesson ends with the offer, and the buy bar
    # stays above the tab bar.
    log_in(page, live_server, email)
    outline = page.request.get(f"{live_server}/api/v1/courses/{PAID}").json()
    preview = next(
        lesson["slug"]
        for module in outline["modules"]
        for lesson in module["lessons"]
        if not lesson["locked"]
    )
    page.goto(f"{live_server}/courses/{PAID}/lessons/{preview}")
    bar = page.locator(".buy-bar").bounding_box()
    tabs = page.locator(".tab-bar").bounding_box()
    assert bar is not None
    assert tabs is not None
    assert bar["y"] + bar["height"] <= tabs["y"] + 1, "the buy bar covers the tab bar"
    offer = page.get_by_role("region", name=nl("Liked this free lesson?"))
    fits_the_phone(page)
    shot(page, "2-free-lesson-end")
    # She asks for access to start now (the box that ends the right of withdrawal), then buys.
    offer.locator("#f-withdrawal-waiver").check()
    offer.get_by_role("button", name=re.compile(r"€\s?49,00")).click()
    expect(page).to_have_url(re.compile(r"/pay/cs_test_"))

    # The free course: enrol, the first lessons done already, the last one done on its page.
    page.goto(f"{live_server}/courses/{FREE}")
    page.locator(f'form[action="/courses/{FREE}/enrol"] button').first.click()
    last = complete_all_but_the_last(page, live_server)
    page.goto(last)
    page.get_by_role("button", name=nl("Mark as completed")).click()
    page.get_by_role("link", name=nl("Make your certificate")).click()
    name = page.get_by_label(nl("Your name as it should be printed"))
    expect(name).to_have_value("Noor Jansen")
    name.fill("Noor J. Jansen-Bakker")
    page.get_by_role("button", name=nl("Make my certificate")).click()
    expect(page.get_by_role("status")).to_contain_text(nl("Your certificate is ready."))
    fits_the_phone(page)
    shot(page, "3-certificate")
    with page.expect_download() as download:
        page.get_by_role("link", name=nl("Download the certificate (PDF)")).click()
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    text = " ".join((pdf_page.extract_text() or "") for pdf_page in pdf.pages)
    assert "Noor J. Jansen-Bakker" in text
    assert "Adem en ontspan" in text
    code = re.search(r"/certificates/([0-9a-f]{32})", text)
    assert code is not None, text

    # Anyone with the address sees what is printed, and nothing else of hers.
    visitor = browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844})
    check = visitor.new_page()
    check.goto(f"{live_server}/certificates/{code.group(1)}")
    main = check.get_by_role("main")
    expect(main).to_contain_text("Noor J. Jansen-Bakker")
    expect(main).to_contain_text("Adem en ontspan")
    expect(main).to_contain_text("Inge de Vries")
    assert email not in check.content()
    shot(check, "4-certificate-check")
    visitor.close()
