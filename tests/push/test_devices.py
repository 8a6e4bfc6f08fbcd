"""Her devices for push notifications: the page's script subscribes a browser through the JSON
API, the mail page saves her choice per kind and lists her devices, and she removes one."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.push.models import PushSubscription
from api.reminders.models import MailPreference
from tests.factories import csrf_token, log_in, make_user, post_form
from tests.push_server.server import PushServer

ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari"
API = "/api/v1/me/push-subscriptions"


def send(client: TestClient, method: str, url: str, body: Any = None) -> Any:
    headers = {"X-CSRF-Token": csrf_token(client), "User-Agent": ANDROID, "Accept-Language": "nl"}
    return client.request(method, url, json=body, headers=headers)


def test_a_browser_is_subscribed_once_and_turned_off_again(
    client: TestClient, session: Session, push_server: PushServer
) -> None:
    log_in(client, make_user(session))
    browser = push_server.subscribe().as_json()

    first = send(client, "POST", API, browser)
    again = send(client, "POST", API, browser)
    listed = client.get(API).json()

    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["device"] == "Chrome op Android"
    assert [device["endpoint"] for device in listed["devices"]] == [browser["endpoint"]]
    assert len(listed["public_key"]) == 87  # 65 bytes, unpadded base64url
    assert send(client, "DELETE", f"{API}/{first.json()['id']}").status_code == 204
    assert client.get(API).json()["devices"] == []


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "http://push.example.com/abc"},  # not https
        {"endpoint": "https://10.0.0.7/abc"},  # a private address
        {"endpoint": "https://[::1/abc"},  # not a URL
        {"keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22}},  # not a point on the curve
        {"keys": {"p256dh": "x", "auth": "A" * 22}},
    ],
    ids=["http", "private", "broken", "off-curve", "short-key"],
)
def test_only_a_browsers_subscription_to_a_public_push_service_is_kept(
    client: TestClient, session: Session, push_server: PushServer, change: dict[str, Any]
) -> None:
    log_in(client, make_user(session))

    response = send(client, "POST", API, {**push_server.subscribe().as_json(), **change})

    assert response.status_code == 422
    assert session.exec(select(PushSubscription)).all() == []


def test_the_mail_page_keeps_her_choice_per_kind_and_lists_her_devices(
    client: TestClient, session: Session, push_server: PushServer
) -> None:
    alice = make_user(session)
    log_in(client, alice)
    device = send(client, "POST", API, push_server.subscribe().as_json()).json()

    saved = post_form(
        client,
        "/account/mail",
        {"weekdays": "0", "times": "08:00", "reminder_push": "on", "new_message": "on"},
    )
    page = client.get("/account/mail").text
    removed = post_form(client, f"/account/mail/devices/{device['id']}/remove")

    assert saved.status_code == 303
    row = session.get(MailPreference, alice.id)
    assert row is not None
    session.refresh(row)
    assert (row.reminder_mail, row.reminder_push) == (False, True)
    assert (row.module_opened, row.module_opened_push) == (False, False)
    assert (row.new_message, row.new_message_push) == (True, False)
    assert 'name="reminder_push" value="on" checked' in page
    assert "Chrome op Android" in page
    assert 'src="/static/js/push.js' in page
    assert removed.headers["location"] == "/account/mail?notice=device-removed#push"
    assert session.exec(select(PushSubscription)).all() == []
