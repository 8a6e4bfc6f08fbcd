"""Lotte follows an exercise with the guided player, on her phone, and finds it in her practice log;
a practice saved while the network is gone arrives once the network is back, and only once.

The browser's clock is Playwright's fake one, so a 50-second exercise runs in moments and each
count can be checked. The walk is in Dutch, as most learners see it, in the free sample course
"adem-en-ontspan", in which `kern seed` enrols the demo learner.
"""

import re
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from playwright.sync_api import Locator, Page, expect

from api.seed import DEMO_PASSWORD_LEARNER
from tests.e2e.conftest import log_in, screenshot

EMAIL = "deelnemer@kern.test"
LESSON = "/courses/adem-en-ontspan/lessons/spanning-loslaten"
# Hold 3, relax 6, 5 times, 1 set: with the 1-second squeeze cue, 10 seconds a repetition.
STEP = "Schouders optrekken en laten zakken"
REPETITION_MS = 10_000
QUEUE = "JSON.parse(localStorage.getItem('kern.practice.v1') || '[]').length"


def sign_in(page: Page, live_server: str) -> None:
    log_in(page, live_server, EMAIL, DEMO_PASSWORD_LEARNER)
    expect(page).not_to_have_url(re.compile(r"/login"))


def open_lesson_on_a_fake_clock(page: Page, live_server: str) -> Locator:
    """The lesson with the exercise, its timers under the test's control; returns the step."""
    page.clock.install(time=datetime.now(UTC))
    page.goto(live_server + LESSON)
    # Time stands still from here and moves only when the test says so.
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    return page.locator("li.step", has=page.get_by_role("heading", name=STEP))


def expect_phase(step: Locator, word: str, count: str) -> None:
    expect(step.locator(".player__phase")).to_have_text(word)
    expect(step.locator(".player__count")).to_have_text(count)


def start(page: Page, step: Locator) -> None:
    step.get_by_role("button", name=f"Begin {STEP}").click()
    expect(step.get_by_role("group", name=f"Begeleid oefenen: {STEP}")).to_be_visible()
    # Focus moves into the player, so Space pauses and the screen reader is where she is.
    expect(step.get_by_role("button", name="Pauze")).to_be_focused()
    expect(page.locator("[data-player-announcer]")).to_have_text("Aanspannen")


def expect_the_picture_of_the_position(page: Page, step: Locator) -> None:
    """The step card shows the drawing with its Dutch words; the player a small copy, with the
    count still on the phone's first screen."""
    picture = step.get_by_role("img", name=re.compile("trekt haar schouders op"))
    picture.scroll_into_view_if_needed()
    expect(picture).to_have_attribute("width", "480")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    screenshot(page, "player-step-picture")


def test_she_follows_the_exercise_and_finds_it_in_her_log(page: Page, live_server: str) -> None:
    sign_in(page, live_server)
    step = open_lesson_on_a_fake_clock(page, live_server)
    expect_the_picture_of_the_position(page, step)
    start(page, step)
    expect(step.locator(".player__picture img")).to_be_visible()
    count = step.locator(".player__count").bounding_box()
    assert count is not None
    assert count["y"] + count["height"] <= 844  # the count is on her first screen

    expect_phase(step, "Aanspannen", "")
    expect(step.locator(".player__position")).to_have_text("Herhaling 1 van 5")
    page.clock.run_for(1000)
    expect_phase(step, "Vasthouden", "3")
    expect(page.locator("[data-player-announcer]")).to_have_text("Vasthouden, 3 tellen")
    page.clock.run_for(1000)
    expect_phase(step, "Vasthouden", "2")
    page.clock.run_for(1000)
    expect_phase(step, "Vasthouden", "1")
    page.clock.run_for(1000)
    expect_phase(step, "Ontspannen", "6")
    page.clock.run_for(2000)
    expect_phase(step, "Ontspannen", "4")
    screenshot(page, "player-running")

    # Paused, the count stands still however long she waits.
    step.get_by_role("button", name="Pauze").click()
    page.clock.run_for(30_000)
    expect_phase(step, "Gepauzeerd", "4")
    step.get_by_role("button", name="Verder").click()
    expect_phase(step, "Ontspannen", "4")
    page.clock.run_for(REPETITION_MS)
    expect(step.locator(".player__position")).to_have_text("Herhaling 2 van 5")

    page.clock.run_for(4 * REPETITION_MS)
    done = step.get_by_role("heading", name="Klaar!")
    expect(done).to_be_focused()
    expect(step.get_by_text("Herhalingen: 5 van 5")).to_be_visible()
    expect(step.get_by_text("Tijd: 0:50")).to_be_visible()
    screenshot(page, "player-finished")

    note = f"Schouders zakten vandaag echt omlaag ({uuid4().hex[:6]})"
    step.get_by_role("radio", name="3").check()
    step.get_by_label("Notitie (mag je overslaan)").fill(note)
    step.get_by_role("button", name="Bewaar in mijn oefenlog").click()

    saved = step.locator("[data-player-status]")
    expect(saved).to_contain_text("Bewaard in je oefenlog.")
    expect(step.get_by_role("button", name=f"Begin {STEP}")).to_be_focused()
    assert page.evaluate(QUEUE) == 0
    screenshot(page, "player-saved")

    saved.get_by_role("link", name="Bekijk je oefenlog").click()
    expect(page).to_have_url(live_server + "/practice")
    expect(page.get_by_text(STEP).first).to_be_visible()
    expect(page.get_by_text(note)).to_have_count(1)
    screenshot(page, "player-practice-log")


def test_a_practice_saved_offline_arrives_once_the_network_is_back(
    page: Page, live_server: str
) -> None:
    sign_in(page, live_server)
    step = open_lesson_on_a_fake_clock(page, live_server)
    start(page, step)

    # Two repetitions and a bit, then she stops: what she did is still worth keeping.
    page.clock.run_for(2 * REPETITION_MS + 2000)
    expect_phase(step, "Vasthouden", "2")
    step.get_by_role("button", name="Stop").click()
    expect(step.get_by_role("heading", name="Gestopt voor het einde")).to_be_focused()
    expect(step.get_by_text("Herhalingen: 2 van 5")).to_be_visible()

    note = f"Zonder wifi in de trein geoefend ({uuid4().hex[:6]})"
    step.get_by_label("Notitie (mag je overslaan)").fill(note)
    page.context.set_offline(True)
    step.get_by_role("button", name="Bewaar in mijn oefenlog").click()

    status = step.locator("[data-player-status]")
    expect(status).to_contain_text("Nog niet verstuurd: je oefening staat veilig op dit apparaat")
    expect(page.locator("[data-practice-status]")).to_have_text(
        "1 oefening wacht om verstuurd te worden."
    )
    assert page.evaluate(QUEUE) == 1
    screenshot(page, "player-offline")

    page.context.set_offline(False)  # the browser fires "online"; the player sends at once
    expect(status).to_contain_text("Bewaard in je oefenlog.")
    expect(page.locator("[data-practice-status]")).to_have_text("")
    assert page.evaluate(QUEUE) == 0

    page.goto(live_server + "/practice")
    expect(page.get_by_text(note)).to_have_count(1)


BREATHING = "Buik en bekkenbodem zacht"  # in 4, out 6, 10 breaths


def test_breathing_counts_down_and_a_stop_in_the_first_breath_says_nothing_was_kept(
    page: Page, live_server: str
) -> None:
    sign_in(page, live_server)
    open_lesson_on_a_fake_clock(page, live_server)
    step = page.locator("li.step", has=page.get_by_role("heading", name=BREATHING))
    step.get_by_role("button", name=f"Begin {BREATHING}").click()

    # Breathing counts the same way as a hold: down to 1.
    expect_phase(step, "Adem in", "4")
    page.clock.run_for(1000)
    expect_phase(step, "Adem in", "3")
    page.clock.run_for(3000)
    expect_phase(step, "Adem uit", "6")
    page.clock.run_for(1000)
    expect_phase(step, "Adem uit", "5")

    # Stopped before the first breath is done: she is told that nothing was kept.
    step.get_by_role("button", name="Stop").click()
    told = step.get_by_role("heading", name="Niet bewaard: te kort")
    expect(told).to_be_focused()
    expect(step.get_by_role("button", name="Bewaar in mijn oefenlog")).to_have_count(0)
    screenshot(page, "player-too-short")
    step.get_by_role("button", name="Sluiten").click()
    expect(step.get_by_role("button", name=f"Begin {BREATHING}")).to_be_focused()
    assert page.evaluate(QUEUE) == 0
