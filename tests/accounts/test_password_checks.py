"""Signed-in forms that ask for her password again share one limit on wrong tries, so a stolen
session cannot be used to guess the password without end."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api import i18n
from api.accounts import passwords, twofactor
from api.accounts.models import User
from tests.factories import (
    PASSWORD,
    enable_totp,
    field_error,
    log_in,
    make_user,
    new_browser,
    post_form,
)
from tests.smtp import Mailbox

WRONG = "niet mijn wachtwoord 12"
NEW_PASSWORD = "zachte golven 19 juni"
RECOVERY_CODE = re.compile(r"<li>([2-9a-z]{4}(?:-[2-9a-z]{4}){3})</li>")


def delete_word() -> str:
    return i18n.translations("nl").ugettext("DELETE")


@dataclass(frozen=True)
class PasswordForm:
    path: str
    fields: Callable[[str], dict[str, str]]  # the form as sent, with this password
    error_at: str  # the id of the field that shows the message
    two_factor: bool = False  # the form is only there with two-step verification on
    kept: str = ""  # a typed value the refused page still shows


FORMS = {
    "change password": PasswordForm(
        "/account/password",
        lambda password: {"current_password": password, "password": NEW_PASSWORD},
        "current_password",
    ),
    "change email": PasswordForm(
        "/account/email",
        lambda password: {"email": "alice@new.example", "password": password},
        "email-password",
        kept='value="alice@new.example"',
    ),
    "delete account": PasswordForm(
        "/account/delete",
        lambda password: {"password": password, "confirmation": delete_word()},
        "password",
        kept=f'value="{delete_word()}"',
    ),
    "switch off two-step verification": PasswordForm(
        "/account/two-factor/disable",
        lambda password: {"password": password},
        "disable-password",
        two_factor=True,
    ),
    "new recovery codes": PasswordForm(
        "/account/two-factor/recovery-codes",
        lambda password: {"password": password},
        "password",
        two_factor=True,
    ),
}


def signed_in_alice(client: TestClient, session: Session, form: PasswordForm) -> User:
    alice = make_user(session, email="alice@example.nl")
    log_in(client, alice, secret=enable_totp(session, alice) if form.two_factor else None)
    return alice


def nothing_changed(session: Session, alice: User, form: PasswordForm) -> None:
    session.expire_all()
    fresh = session.get(User, alice.id)
    assert fresh is not None, "the account was deleted"
    assert fresh.email == "alice@example.nl"
    assert passwords.verify_password(fresh.password_hash, PASSWORD)
    assert fresh.has_totp is form.two_factor
    if form.two_factor:
        assert twofactor.remaining_recovery_codes(session, user=fresh) == 10


@pytest.mark.parametrize("name", FORMS)
def test_after_five_wrong_passwords_the_form_waits_even_for_the_right_one(
    client: TestClient, session: Session, mailbox: Mailbox, name: str
) -> None:
    form = FORMS[name]
    alice = signed_in_alice(client, session, form)
    for _ in range(5):
        refused = post_form(client, form.path, form.fields(WRONG))
        assert refused.status_code == 422
        assert field_error(refused.text, form.error_at) == "Dit wachtwoord klopt niet."

    limited = post_form(client, form.path, form.fields(PASSWORD))

    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 15 * 60
    message = field_error(limited.text, form.error_at)
    assert message is not None
    assert message.startswith("Te veel pogingen.")
    assert form.kept in limited.text
    assert PASSWORD not in limited.text
    assert RECOVERY_CODE.search(limited.text) is None
    nothing_changed(session, alice, form)
    assert mailbox.messages == []


def test_wrong_passwords_in_different_forms_count_together(
    client: TestClient, session: Session
) -> None:
    form = FORMS["change password"]
    alice = signed_in_alice(client, session, form)
    for name in ("change password", "change email", "delete account", "change email"):
        post_form(client, FORMS[name].path, FORMS[name].fields(WRONG))
    assert post_form(client, form.path, form.fields(WRONG)).status_code == 422

    limited = post_form(client, form.path, form.fields(PASSWORD))

    assert limited.status_code == 429
    nothing_changed(session, alice, form)


def test_the_right_password_forgets_earlier_mistakes(client: TestClient, session: Session) -> None:
    form = FORMS["change email"]
    signed_in_alice(client, session, form)
    for _ in range(4):
        post_form(client, form.path, form.fields(WRONG))
    assert post_form(client, form.path, form.fields(PASSWORD)).status_code == 303

    for _ in range(4):
        assert post_form(client, form.path, form.fields(WRONG)).status_code == 422


def test_the_limit_is_hers_alone(client: TestClient, session: Session) -> None:
    form = FORMS["change password"]
    signed_in_alice(client, session, form)
    for _ in range(6):
        post_form(client, form.path, form.fields(WRONG))
    bob = make_user(session)
    bobs_browser = new_browser(client)
    log_in(bobs_browser, bob)

    changed = post_form(bobs_browser, form.path, form.fields(PASSWORD))

    assert changed.status_code == 303
