"""Lotte installs Kern on her phone, opens a lesson, and later does its exercise in airplane mode:
the service worker (web/static/js/sw.js) shows the lesson she opened, the player runs, and the
practice she saves waits on the phone until the network is back, then arrives on the server.
A page she did not keep shows the offline page with her tab bar. Once she logs out, the phone
shows nobody that lesson, or her tab bar, any more.

A persistent profile, not the usual fresh context: Chromium never offers to install an app from
an incognito window, and a context made by new_context is one."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

from playwright.sync_api import Playwright, expect
from sqlmodel import Session, create_engine, select

from api.progress.models import PracticeLog
from api.seed import DEMO_PASSWORD_LEARNER
from tests.e2e.conftest import CHROMIUM_ARGS, fits_the_phone, log_in, screenshot

LESSON = "/courses/adem-en-ontspan/lessons/spanning-loslaten"
STEP = "Schouders optrekken en laten zakken"  # 5 repetitions of 10 seconds


def test_an_opened_lesson_and_its_practice_work_without_a_connection(
    playwright_instance: Playwright,
    chromium_path: str,
    live_server: str,
    server_env: dict[str, str],
    tmp_path: Path,
) -> None:
    context = playwright_instance.chromium.launch_persistent_context(
        tmp_path,
        executable_path=chromium_path,
        args=CHROMIUM_ARGS,
        headless=True,
        locale="nl-NL",
        viewport={"width": 390, "height": 844},
        device_scale_factor=1,
    )
    page = context.pages[0]
    log_in(page, live_server, "deelnemer@kern.test", DEMO_PASSWORD_LEARNER)
    expect(page).to_have_url(live_server + "/today")
    # Vandaag registered the service worker; from now on it keeps the lessons she opens.
    assert page.evaluate("navigator.serviceWorker.ready.then(ready => ready.active.state)")
    page.goto(live_server + LESSON)
    cdp = context.new_cdp_session(page)
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    cdp.detach()  # attached, it would keep the page's navigator.onLine from following set_offline

    context.set_offline(True)
    page.clock.install(time=datetime.now(UTC))
    kept = page.reload()
    assert kept is not None
    assert kept.ok
    assert kept.from_service_worker
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    step = page.locator("li.step", has=page.get_by_role("heading", name=STEP))
    step.get_by_role("button", name=f"Begin {STEP}").click()
    page.clock.run_for(5 * 10_000)
    expect(step.get_by_role("heading", name="Klaar!")).to_be_focused()
    note = f"In het vliegtuig geoefend ({uuid4().hex[:6]})"
    step.get_by_label("Notitie (mag je overslaan)").fill(note)
    step.get_by_role("button", name="Bewaar in mijn oefenlog").click()
    status = step.locator("[data-player-status]")
    expect(status).to_contain_text("Nog niet verstuurd")
    fits_the_phone(page)
    screenshot(page, "offline-lesson")

    context.set_offline(False)  # "online": the player's queue sends what waited
    expect(status).to_contain_text("Bewaard in je oefenlog.")

    # A page she did not keep shows the offline page with her own tab bar.
    page.wait_for_function(
        "caches.open('kern-pages').then(cache => cache.match('/__kern-offline')).then(Boolean)"
    )
    context.set_offline(True)
    page.goto(live_server + "/account")
    expect(page.get_by_role("heading", name="Geen verbinding")).to_be_visible()
    expect(page.get_by_role("navigation", name="Snelmenu")).to_be_visible()
    context.set_offline(False)
    page.goto(live_server + LESSON)

    # Logged out, the phone keeps none of her pages for whoever uses it next.
    page.get_by_role("button", name="Uitloggen").click()
    expect(page).to_have_url(re.compile(r"/login"))
    context.set_offline(True)
    page.goto(live_server + LESSON)
    expect(page.get_by_role("heading", name="Geen verbinding")).to_be_visible()
    expect(page.get_by_role("navigation", name="Snelmenu")).to_have_count(0)
    context.close()
    engine = create_engine(server_env["DATABASE_URL"])
    with Session(engine) as session:
        logs = session.exec(select(PracticeLog).where(PracticeLog.note == note)).all()
    engine.dispose()
    assert [(log.step_title, log.reps_done) for log in logs] == [(STEP, 5)]
