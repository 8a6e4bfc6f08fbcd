"""Sanne turns on notifications on her phone and chooses them for her practice reminders, then
turns them off again. Chromium's own push service is out of reach here, so the push manager of
the real service worker registration (/sw.js) is stood in for by one that hands out a
subscription of the loopback push service (tests/push_server); the rest is the real page,
service worker, script and API."""

import json
import re

from playwright.sync_api import Page, expect

from api.seed import DEMO_PASSWORD_LEARNER
from tests.e2e.conftest import fits_the_phone, log_in, nl, screenshot
from tests.push_server.server import PushServer

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


def test_she_turns_notifications_on_for_her_reminders_and_off_again(
    page: Page, live_server: str, push_server: PushServer
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

    page.get_by_role("button", name=nl("Turn off on this device")).click()
    expect(page.get_by_text(nl("This device does not receive notifications yet."))).to_be_visible()
    expect(
        page.get_by_role("heading", name=nl("Devices that receive notifications"))
    ).to_have_count(0)
    screenshot(page, "push-notifications-off")
