"""Inge, a pelvic-floor therapist, writes a course in the studio on her laptop: a course, a
module, a lesson with a pasted YouTube link and an exercise; she looks at the lesson as a
learner sees it, publishes the course and finds it in the public catalog.

The texts come from the Dutch catalog by their English msgids, so the walk follows the labels
she reads whatever their wording. The demo instructor from `kern seed` has no second factor
yet, so her first login sets it up, as it would for her.

Then she uploads a video file to a lesson: the server's worker turns it into an adaptive stream
(ffmpeg), and a visitor on a slow connection plays it with hls.js (served by Kern), as browsers
without HLS of their own do.
"""

import re
import subprocess
from pathlib import Path
from typing import Any

import pyotp
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, create_engine, select

from api.accounts.models import User
from api.catalog.models import Lesson
from api.seed import DEMO_INSTRUCTOR_EMAIL, DEMO_PASSWORD_INSTRUCTOR
from tests.e2e.conftest import nl, screenshot, sign_in_demo_instructor
from tests.factories import make_course
from tests.ffmpeg import FFMPEG, needs_ffmpeg

TITLE = "Rustig terug na de bevalling"
LESSON = "Je bekkenbodem weer voelen"
YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s"


def sign_in_with_a_new_second_factor(page: Page, live_server: str) -> None:
    page.goto(live_server + "/login")
    page.get_by_label(nl("Email address")).fill(DEMO_INSTRUCTOR_EMAIL)
    page.get_by_label(nl("Password")).fill(DEMO_PASSWORD_INSTRUCTOR)
    page.get_by_role("button", name=nl("Log in")).click()
    # Instructors see learners' health data: Kern has her switch on two-step verification.
    expect(page).to_have_url(re.compile(r"/account/two-factor"))
    secret = page.locator(".secret").inner_text().replace(" ", "")
    page.get_by_label(nl("Code")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=nl("Switch on")).click()
    expect(page.locator(".recovery-codes, ol, ul").first).to_be_visible()


def test_she_writes_previews_and_publishes_a_course(browser: Browser, live_server: str) -> None:
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in_with_a_new_second_factor(page, live_server)

    page.goto(live_server + "/studio")
    page.get_by_role("link", name=nl("New course")).click()
    page.get_by_label(nl("Title"), exact=True).fill(TITLE)
    page.get_by_label(nl("Price in euros")).fill("0")
    page.get_by_role("button", name=nl("Create course")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)

    page.locator("#f-new-module-title").fill("Week 1 — Voelen")
    page.get_by_role("button", name=nl("Add module")).click()
    page.get_by_role("link", name=re.compile(nl("New lesson"))).first.click()
    page.get_by_label(nl("Title"), exact=True).fill(LESSON)
    page.get_by_label(nl("Minutes")).fill("6")
    page.get_by_label(nl("YouTube or Vimeo link")).fill(YOUTUBE)
    page.get_by_role("button", name=nl("Add lesson")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(LESSON)
    expect(page.get_by_text("dQw4w9WgXcQ").first).to_be_visible()

    page.get_by_role("button", name=re.compile(nl("Exercise"))).first.click()
    expect(page.locator(".lesson-steps > li").first).to_contain_text("Span 5 tellen aan")
    screenshot(page, "studio-lesson")

    # The lesson exactly as a learner will see it: video placeholder and the exercise player.
    page.get_by_role("link", name=nl("View this lesson as a learner")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LESSON)
    expect(page.locator("[data-video][data-provider='youtube']")).to_be_visible()
    expect(page.locator("li.step[data-kind='exercise']")).to_have_count(1)
    expect(page.get_by_text(re.compile("Span 5 tellen aan"))).to_be_visible()
    screenshot(page, "studio-preview")

    # From the preview straight back to where she was editing.
    page.get_by_role("link", name=nl("Back to the editor")).click()
    expect(page).to_have_url(re.compile(r"/studio/courses/[^/]+/lessons/\d+$"))
    page.get_by_role("link", name=TITLE).first.click()
    page.get_by_role("button", name=nl("Publish")).click()
    expect(
        page.get_by_text(nl("The course is published: everyone can find it in the catalog."))
    ).to_be_visible()

    # Anyone, signed in or not, now finds it in the catalog.
    visitor = browser.new_context(locale="nl-NL").new_page()
    visitor.goto(live_server + "/courses")
    expect(visitor.get_by_role("link", name=TITLE)).to_be_visible()
    screenshot(visitor, "studio-published-in-catalog")
    visitor.context.close()
    context.close()


@needs_ffmpeg
def test_an_uploaded_video_plays_as_a_stream_on_a_slow_connection(
    browser: Browser,
    live_server: str,
    server_env: dict[str, Any],
    demo_instructor_secret: str,
    tmp_path: Path,
) -> None:
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        inge = session.exec(select(User).where(User.email == DEMO_INSTRUCTOR_EMAIL)).one()
        course = make_course(session, instructor=inge, modules=1, lessons_per_module=1)
        lesson = session.exec(select(Lesson).where(Lesson.course_id == course.id)).one()
        studio_url = f"{live_server}/studio/courses/{course.slug}/lessons/{lesson.id}"
        lesson_url = f"{live_server}/courses/{course.slug}/lessons/{lesson.slug}"  # free preview
        session.commit()
    engine.dispose()
    video = tmp_path / "les.mp4"
    subprocess.run(
        [str(FFMPEG), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=15", "-f",
         "lavfi", "-i", "sine", "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
         "yuv420p", "-c:a", "aac", "-shortest", str(video)],
        check=True,
    )  # fmt: skip
    studio = browser.new_context(locale="nl-NL").new_page()
    sign_in_demo_instructor(studio, live_server, demo_instructor_secret)
    studio.goto(studio_url)
    studio.locator("#f-video").set_input_files(str(video))
    studio.get_by_role("button", name=nl("Upload video")).click()
    # The page follows the worker until the stream is ready.
    ready = nl("Ready: learners get the video in the quality their connection can carry.")
    expect(studio.locator(".video-status__text")).to_have_text(ready, timeout=60_000)
    studio.context.close()

    visitor = browser.new_context(locale="nl-NL", viewport={"width": 390, "height": 844})
    page = visitor.new_page()
    network = visitor.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 150,
            "downloadThroughput": 200_000,
            "uploadThroughput": 50_000,
        },
    )
    # Chromium now plays HLS itself, as Safari does; answering as Firefox does (no HLS of its
    # own) makes the page use hls.js, the path that needs Kern's help.
    page.add_init_script(
        "const canPlay = HTMLMediaElement.prototype.canPlayType;"
        "HTMLMediaElement.prototype.canPlayType = function (type) {"
        "  return /mpegurl/i.test(type) ? '' : canPlay.call(this, type); };"
    )
    page.goto(lesson_url)
    player = page.locator("video.video__file")
    expect(player).to_have_attribute("poster", re.compile(r"^/media/hls/[a-f0-9]{32}/poster\.jpg$"))
    expect(page.locator(".video__length")).to_have_text("0:03")
    player.evaluate("video => { video.muted = true; video.play(); }")
    page.wait_for_function(
        "video => video.currentTime > 1", arg=player.element_handle(), timeout=30_000
    )
    # hls.js (loaded from Kern) chose a rendition and plays it through Media Source Extensions.
    expect(player).to_have_attribute("data-hls-level", re.compile(r"^[0-9]$"))
    assert player.evaluate("video => video.currentSrc").startswith("blob:")
    screenshot(page, "lesson-stream-playing")
    visitor.close()
