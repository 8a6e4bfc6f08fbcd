"""Sanne finds a course on her phone, reads its page and tries the free lesson. Nothing is
asked of YouTube until she presses play.

The walk is in English: the Dutch catalog gets these pages' texts when the maintainer translates
them; the course itself (the sample course "sterke-basis" from `kern seed`) is Dutch.
"""

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.e2e.conftest import screenshot

COURSE = "sterke-basis"
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def english_page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in a fresh context, in English."""
    context = browser.new_context(locale="en-GB", viewport=PHONE, device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


def record_requests(page: Page) -> list[str]:
    """Every URL the browser asks for from now on, in order."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    return seen


def elsewhere(urls: list[str], live_server: str) -> list[str]:
    """The requests that left for another host than the Kern server."""
    own = urlsplit(live_server).netloc
    return [url for url in urls if urlsplit(url).scheme != "data" and urlsplit(url).netloc != own]


def fits_a_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def youtube_lesson(live_server: str) -> str:
    """The address of a lesson of the sample course with a YouTube video that anyone may open."""
    outline = httpx.get(f"{live_server}/api/v1/courses/{COURSE}").json()
    for module in outline["modules"]:
        for lesson in module["lessons"]:
            if lesson["locked"]:
                continue
            url = f"/courses/{COURSE}/lessons/{lesson['slug']}"
            video = httpx.get(f"{live_server}/api/v1{url}").json()["video"]
            if video and video["provider"] == "youtube":
                return url
    pytest.fail(f"{COURSE} has no open lesson with a YouTube video")


def test_from_the_home_page_to_the_free_lesson(english_page: Page, live_server: str) -> None:
    page = english_page
    requests = record_requests(page)

    page.goto(live_server + "/")
    expect(page.get_by_role("heading", name="Featured course")).to_be_visible()
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Courses").click()

    expect(page).to_have_url(live_server + "/courses")
    expect(page.get_by_role("heading", level=1)).to_have_text("Courses")
    page.get_by_role("link", name=re.compile(r"^Sterke basis")).click()

    expect(page).to_have_url(f"{live_server}/courses/{COURSE}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sterke basis")
    expect(page.locator(".enrol__price")).to_have_text("€49.00 incl. VAT")  # prices with VAT
    expect(page.get_by_role("heading", name="What you will learn")).to_be_visible()
    expect(page.get_by_text("Free preview").first).to_be_visible()
    expect(page.locator("main .disclaimer")).to_be_visible()
    # A question opens without JavaScript, as a <details>.
    question = page.locator(".faq summary").first
    question.click()
    expect(page.locator(".faq details").first).to_have_attribute("open", "")
    fits_a_phone(page)
    screenshot(page, "course-page")

    page.get_by_role("link", name="Try the free lesson").click()

    expect(page).to_have_url(re.compile(rf"/courses/{COURSE}/lessons/[a-z0-9-]+$"))
    expect(page.get_by_text(re.compile(r"Lesson 1 of \d+"))).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_be_visible()
    expect(page.locator(".step").first).to_be_visible()
    fits_a_phone(page)
    screenshot(page, "lesson-page")

    assert requests, "no requests were recorded"
    assert not elsewhere(requests, live_server), elsewhere(requests, live_server)


def test_youtube_loads_only_after_play(english_page: Page, live_server: str) -> None:
    page = english_page
    lesson = youtube_lesson(live_server)
    requests = record_requests(page)

    page.goto(live_server + lesson)
    play = page.get_by_role("link", name=re.compile(r"^Play video: "))
    expect(play).to_be_visible()
    expect(page.locator("iframe")).to_have_count(0)
    screenshot(page, "lesson-video-placeholder")

    assert not elsewhere(requests, live_server), "a third party was asked before play"

    play.click()

    player = page.locator("iframe.video__iframe")
    expect(player).to_have_count(1)
    expect(player).to_have_attribute(
        "src", re.compile(r"^https://www\.youtube-nocookie\.com/embed/[A-Za-z0-9_-]{11}\?")
    )
    # Offline the player itself fails to load; that it was asked for is what matters here.
    assert all(urlsplit(url).hostname != "www.youtube.com" for url in requests)


def test_without_javascript_the_lesson_reads_and_play_is_a_link(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(
        locale="en-GB", viewport=PHONE, device_scale_factor=1, java_script_enabled=False
    )
    try:
        page = context.new_page()
        requests = record_requests(page)
        page.goto(live_server + youtube_lesson(live_server))

        play = page.get_by_role("link", name=re.compile(r"^Play video: "))
        expect(play).to_have_attribute("href", re.compile(r"^https://www\.youtube-nocookie\.com/"))
        expect(play).to_have_attribute("target", "_blank")
        expect(play).to_have_attribute("rel", "noopener")
        # Exercises read as sentences, with or without the guided player.
        expect(page.locator(".step__dose").first).to_contain_text(re.compile(r"\d+ times"))
        assert not elsewhere(requests, live_server)
    finally:
        context.close()


def test_a_locked_lesson_leads_back_to_the_course(english_page: Page, live_server: str) -> None:
    page = english_page
    outline = httpx.get(f"{live_server}/api/v1/courses/{COURSE}").json()
    locked = next(
        lesson["slug"]
        for module in outline["modules"]
        for lesson in module["lessons"]
        if lesson["locked"]
    )

    response = page.goto(f"{live_server}/courses/{COURSE}/lessons/{locked}")

    assert response is not None
    assert response.status == 403
    expect(page.get_by_text("Buy the course to open this lesson")).to_be_visible()
    fits_a_phone(page)
    screenshot(page, "lesson-locked")
    page.get_by_role("link", name="Back to the course").click()
    expect(page).to_have_url(f"{live_server}/courses/{COURSE}")
