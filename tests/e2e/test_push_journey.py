"""Sanne turns on notifications on her phone and chooses them for her practice reminders; her
next reminder reaches the push service and decrypts there to its discreet text; then she turns
them off again. Chromium's own push service is out of reach here, so the push manager of
the real service worker registration (/sw.js) is stood in for by one that hands out a
subscription of the loopback push service (tests/push_server); the rest is the real page,
service worker, script and API."""

import json
import re

from playwright.sync_api import Page, expect
from sqlmodel import Session, create_engine, select

from api.accounts.models import User
from api.clock import local_day
from api.config import Settings
from api.db import utcnow
from api.reminders.models import MailPreference
from api.reminders.practice import queue_practice_reminders
from api.seed import DEMO_LEARNER_EMAIL, DEMO_PASSWORD_LEARNER
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.conftest import fits_the_phone, log_in, nl, screenshot
from tests.push_server.server import Push, PushServer

# A push manager whose subscription lives in localStorage, so it outlives a reload as a real
# one does; everything else (permission, the worker, the API, the device list) is the real thing.
STAND_IN = """
(() => {
  const subscription = %s;
  const current = () => localStorage.getItem("push-subscribed") === "1";
  const handle = () => ({
    endpoint: subscription.endpoint,
    toJSON: () => subscription,
    unsubscribe: async () => { localStorage.removeItem("push-subscribed"); return true; },
  });
  PushManager.prototype.getSubscription = async function () { return current() ? handle() : null; };
  PushManager.prototype.subscribe = async function (options) {
    if (!options.userVisibleOnly || options.applicationServerKey.length !== 65) {
      throw new Error("subscribe() needs userVisibleOnly and the 65-byte key");
    }
    localStorage.setItem("push-subscribed", "1");
    return handle();
  };
})();
"""


def her_next_reminder_is_due(live_server: str, database_url: str) -> int:
    """What the worker does when her next reminder is due (the live server's own worker waits
    for the real moment); how many messages it queued."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == DEMO_LEARNER_EMAIL)).one()
        choices = session.get(MailPreference, user.id)
        assert choices is not None
        assert choices.next_reminder_at is not None
        settings = Settings(secret_key=TEST_SECRET_KEY, base_url=live_server)
        queued = queue_practice_reminders(session, settings, now=choices.next_reminder_at)
        session.commit()
    engine.dispose()
    return queued


def the_push_that_arrives(page: Page, push_server: PushServer) -> Push:
    """The server's worker sends the outbox every 0.2 s; a bound for waiting, not a measure."""
    for _ in range(100):
        if pushes := push_server.pushes():
            [arrived] = pushes
            return arrived
        page.wait_for_timeout(100)
    raise AssertionError("no push reached the push service")


def test_she_turns_notifications_on_for_her_reminders_and_off_again(
    page: Page, live_server: str, server_env: dict[str, str], push_server: PushServer
) -> None:
    page.context.grant_permissions(["notifications"], origin=live_server)
    page.add_init_script(STAND_IN % json.dumps(push_server.subscribe().as_json()))
    log_in(page, live_server, "deelnemer@kern.test", DEMO_PASSWORD_LEARNER)
    expect(page).to_have_url(re.compile(r"/today$"))

    page.goto(live_server + "/account/mail")
    expect(page.get_by_text(nl("This device does not receive notifications yet."))).to_be_visible()
    page.get_by_role("button", name=nl("Turn on notifications on this device")).click()

    expect(page.get_by_text(nl("This device receives your notifications."))).to_be_visible()
    expect(
        page.get_by_role("heading", name=nl("Devices that receive notifications"))
    ).to_be_visible()
    reminders = page.get_by_role("group", name=nl("How the reminder reaches you"))
    reminders.get_by_label(nl("As a notification")).check()
    page.get_by_role("button", name=nl("Save")).click()
    expect(page.get_by_text(nl("Your choices have been saved."))).to_be_visible()
    expect(reminders.get_by_label(nl("As a notification"))).to_be_checked()
    fits_the_phone(page)
    screenshot(page, "push-notifications-on")

    # Every day but today (she practised today, and a day she practised has no reminder), at
    # eight, as a notification only: the next one reaches her phone's push service, which
    # decrypts it as her browser would.
    # Today is unticked too: another journey may have left it ticked (the mail journey chooses
    # Monday and Thursday), and before eight her next reminder would then be today's, which a
    # day she practised does not get.
    today = local_day(utcnow()).weekday()
    days = page.get_by_role("group", name=nl("Days"))
    for day in range(7):
        days.locator(f'input[value="{day}"]').set_checked(day != today)
    page.get_by_label(nl("Time %(number)s") % {"number": 1}).fill("08:00")
    reminders.get_by_label(nl("By email")).uncheck()
    # The notice of the first save is still on the page: wait for this save's answer itself.
    with page.expect_response(lambda answer: answer.request.method == "POST"):
        page.get_by_role("button", name=nl("Save")).click()
    expect(page.get_by_text(nl("Your choices have been saved."))).to_be_visible()
    assert her_next_reminder_is_due(live_server, server_env["DATABASE_URL"]) == 1
    arrived = the_push_that_arrives(page, push_server)
    assert arrived.payload == {
        "title": "Kern",
        "body": nl("Time for your exercises"),
        "url": "/today",
    }
    # Back as she had it, for the journeys after this one: by mail, on no day.
    for day in range(7):
        days.locator(f'input[value="{day}"]').uncheck()
    page.get_by_label(nl("Time %(number)s") % {"number": 1}).fill("")
    reminders.get_by_label(nl("By email")).check()
    with page.expect_response(lambda answer: answer.request.method == "POST"):
        page.get_by_role("button", name=nl("Save")).click()
    expect(page.get_by_text(nl("Your choices have been saved."))).to_be_visible()

    page.get_by_role("button", name=nl("Turn off on this device")).click()
    expect(page.get_by_text(nl("This device does not receive notifications yet."))).to_be_visible()
    expect(
        page.get_by_role("heading", name=nl("Devices that receive notifications"))
    ).to_have_count(0)
    screenshot(page, "push-notifications-off")
