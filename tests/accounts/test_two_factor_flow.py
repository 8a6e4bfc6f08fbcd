"""Two-step verification: required for instructors, set up with an app, asked at every login."""

import re
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.accounts import twofactor
from api.accounts.models import AuthSession, Role, User
from api.errors import TooManyAttempts
from tests.factories import (
    PASSWORD,
    enable_totp,
    field_error,
    log_in,
    make_user,
    new_browser,
    post_form,
)

SECRET = re.compile(r'<span class="secret">([A-Z2-7]+)</span>')
RECOVERY_CODE = re.compile(r"<li>([2-9a-z]{4}(?:-[2-9a-z]{4}){3})</li>")


def signed_in(client: TestClient) -> bool:
    status: int = client.get("/account", follow_redirects=False).status_code
    return status == 200


def allow_a_fresh_code(session: Session, user: User) -> None:
    """Forget which code was used last, so a test need not wait 30 seconds for the next one."""
    session.refresh(user)
    user.totp_last_step = int(time.time() // 30) - 2
    session.add(user)
    session.flush()


def wrong_code(secret: str) -> str:
    """A code that is not valid now, nor a step either side (000000 is, once in a while)."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + steps * 30) for steps in range(-2, 3)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def password_step(client: TestClient, user: User) -> None:
    response = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/login/two-factor?next=%2Ftoday"


def set_up_two_factor(client: TestClient) -> list[str]:
    """Scan the secret from the page, type the code, and return the recovery codes shown."""
    page = client.get("/account/two-factor")
    assert page.status_code == 200
    match = SECRET.search(page.text)
    assert match, "the page shows the key to type in"
    response = post_form(client, "/account/two-factor", {"code": pyotp.TOTP(match[1]).now()})
    assert response.status_code == 200, response.text
    return RECOVERY_CODE.findall(response.text)


# --- instructors must have it -----------------------------------------------------------------


def test_an_instructor_without_two_factor_is_sent_to_set_it_up(
    client: TestClient, session: Session
) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)

    page = client.get("/account", follow_redirects=False)
    api = client.get("/api/v1/me")

    assert page.status_code == 303
    assert page.headers["location"] == "/account/two-factor"
    assert api.status_code == 403
    assert api.json()["error"] == "two_factor_required"
    assert client.get("/account/two-factor").status_code == 200


def test_setting_it_up_shows_ten_recovery_codes_once(client: TestClient, session: Session) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)

    codes = set_up_two_factor(client)

    assert len(set(codes)) == 10
    session.refresh(carol)
    assert carol.has_totp
    assert signed_in(client)
    assert client.get("/api/v1/me").json()["two_factor_enabled"] is True
    page = client.get("/account/two-factor")
    assert not any(code in page.text for code in codes)


def test_switching_it_on_ends_her_other_sessions_and_renews_this_one(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    log_in(client, alice)
    before = client.cookies["kern_session"]
    laptop = new_browser(client)
    log_in(laptop, alice)  # or someone who learned her password

    set_up_two_factor(client)

    assert signed_in(client)
    assert client.cookies["kern_session"] != before
    assert not signed_in(laptop)
    replay = new_browser(client)
    replay.cookies.set("kern_session", before, domain="testserver.local")
    assert not signed_in(replay)
    rows = session.exec(select(AuthSession).where(AuthSession.user_id == alice.id)).all()
    assert len(rows) == 1


def test_a_wrong_setup_code_leaves_it_off(client: TestClient, session: Session) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)
    [secret] = SECRET.findall(client.get("/account/two-factor").text)

    response = post_form(client, "/account/two-factor", {"code": wrong_code(secret)})

    assert response.status_code == 422
    assert field_error(response.text, "code")
    session.refresh(carol)
    assert not carol.has_totp


def test_the_setup_page_keeps_the_same_secret_on_reload(
    client: TestClient, session: Session
) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)

    first, second = (client.get("/account/two-factor").text for _ in range(2))

    secrets = [SECRET.findall(page) for page in (first, second)]
    assert secrets[0] == secrets[1]
    assert len(secrets[0]) == 1


# --- logging in with it ------------------------------------------------------------------------


def test_after_setup_login_asks_for_the_code(client: TestClient, session: Session) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)
    set_up_two_factor(client)
    post_form(client, "/logout")
    allow_a_fresh_code(session, carol)
    assert carol.totp_secret

    password_step(client, carol)
    assert not signed_in(client)
    response = post_form(client, "/login/two-factor", {"code": pyotp.TOTP(carol.totp_secret).now()})

    assert response.status_code == 303
    assert response.headers["location"] == "/today"
    assert signed_in(client)


def test_a_session_waiting_for_the_code_opens_nothing(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    enable_totp(session, alice)

    password_step(client, alice)

    account = client.get("/account", follow_redirects=False)
    assert account.status_code == 303
    assert account.headers["location"].startswith("/login")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/account/export", follow_redirects=False).status_code == 303
    assert client.get("/login/two-factor").status_code == 200


def test_the_code_step_needs_the_password_step_first(client: TestClient) -> None:
    response = post_form(client, "/login/two-factor", {"code": "123456"})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_a_wrong_code_is_refused(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    password_step(client, alice)

    response = post_form(client, "/login/two-factor", {"code": wrong_code(secret)})

    assert response.status_code == 400
    assert field_error(response.text, "code")
    assert not signed_in(client)


def test_a_code_cannot_be_used_twice(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    code = pyotp.TOTP(secret).now()
    password_step(client, alice)
    assert post_form(client, "/login/two-factor", {"code": code}).status_code == 303

    other = TestClient(client.app, base_url=str(client.base_url))
    password_step(other, alice)

    assert post_form(other, "/login/two-factor", {"code": code}).status_code == 400


def test_completing_the_second_step_changes_the_session_token(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    password_step(client, alice)
    pending_token = client.cookies["kern_session"]

    post_form(client, "/login/two-factor", {"code": pyotp.TOTP(secret).now()})

    assert client.cookies["kern_session"] != pending_token
    replay = TestClient(client.app, base_url=str(client.base_url))
    replay.cookies.set("kern_session", pending_token, domain="testserver.local")
    assert not signed_in(replay)


def test_a_recovery_code_works_once(client: TestClient, session: Session) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)
    code = set_up_two_factor(client)[3]
    post_form(client, "/logout")

    password_step(client, carol)
    first = post_form(client, "/login/two-factor", {"code": code.upper().replace("-", " ")})
    assert first.status_code == 303
    assert signed_in(client)
    post_form(client, "/logout")

    password_step(client, carol)
    second = post_form(client, "/login/two-factor", {"code": code})
    assert second.status_code == 400
    assert not signed_in(client)


def test_too_many_wrong_codes_are_refused_for_a_while(client: TestClient, session: Session) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    password_step(client, alice)
    for _ in range(5):
        response = post_form(client, "/login/two-factor", {"code": wrong_code(secret)})
        assert response.status_code == 400

    response = post_form(client, "/login/two-factor", {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert not signed_in(client)


def test_a_right_code_forgets_her_wrong_ones(session: Session) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    for _ in range(4):
        with pytest.raises(twofactor.WrongCode):
            twofactor.check_login_code(session, user=alice, code=wrong_code(secret))
    twofactor.check_login_code(session, user=alice, code=pyotp.TOTP(secret).now())

    for _ in range(5):
        with pytest.raises(twofactor.WrongCode):
            twofactor.check_login_code(session, user=alice, code=wrong_code(secret))
    with pytest.raises(TooManyAttempts):
        twofactor.check_login_code(session, user=alice, code=wrong_code(secret))


# --- switching it off ----------------------------------------------------------------------------


def test_a_learner_can_switch_it_off_with_her_password(
    client: TestClient, session: Session
) -> None:
    alice = make_user(session)
    secret = enable_totp(session, alice)
    log_in(client, alice, secret=secret)

    wrong = post_form(client, "/account/two-factor/disable", {"password": "niet goed"})
    session.refresh(alice)
    assert wrong.status_code == 422
    assert alice.has_totp
    # The error shows at the form she used, not at the other password field on the page.
    recovery_form, disable_form = wrong.text.split('action="/account/two-factor/disable"')
    assert field_error(disable_form, "disable-password") == "Dit wachtwoord klopt niet."
    assert field_error(recovery_form, "password") is None

    response = post_form(client, "/account/two-factor/disable", {"password": PASSWORD})

    assert response.status_code == 303
    assert response.headers["location"] == "/account?notice=two-factor-off"
    session.refresh(alice)
    assert not alice.has_totp
    assert alice.totp_secret is None
    post_form(client, "/logout")
    log_in(client, alice)


def test_an_instructor_cannot_switch_it_off(client: TestClient, session: Session) -> None:
    carol = make_user(session, role=Role.instructor)
    secret = enable_totp(session, carol)
    log_in(client, carol, secret=secret)

    page = client.get("/account/two-factor")
    response = post_form(client, "/account/two-factor/disable", {"password": PASSWORD})

    assert 'action="/account/two-factor/disable"' not in page.text
    assert response.status_code == 422
    session.refresh(carol)
    assert carol.has_totp


def test_new_recovery_codes_replace_the_old_ones(client: TestClient, session: Session) -> None:
    carol = make_user(session, role=Role.instructor)
    log_in(client, carol)
    old_codes = set_up_two_factor(client)

    refused = post_form(client, "/account/two-factor/recovery-codes", {"password": "niet goed"})
    response = post_form(client, "/account/two-factor/recovery-codes", {"password": PASSWORD})

    assert refused.status_code == 422
    new_codes = RECOVERY_CODE.findall(response.text)
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    post_form(client, "/logout")
    password_step(client, carol)
    assert post_form(client, "/login/two-factor", {"code": old_codes[0]}).status_code == 400
    assert post_form(client, "/login/two-factor", {"code": new_codes[0]}).status_code == 303


@pytest.mark.parametrize("role", [Role.learner, Role.instructor])
def test_pending_sessions_are_not_listed_on_the_account_page(
    client: TestClient, session: Session, role: Role
) -> None:
    user = make_user(session, role=role)
    secret = enable_totp(session, user)
    log_in(client, user, secret=secret)
    other = TestClient(client.app, base_url=str(client.base_url))
    password_step(other, user)

    page = client.get("/account")

    assert page.status_code == 200
    assert "/account/sessions/end-others" not in page.text
    rows = session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all()
    assert sorted(row.mfa_pending for row in rows) == [False, True]
