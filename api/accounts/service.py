"""Accounts: create, sign in (password or mailed link), passwords, profile, export, deletion."""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from api.accounts import emails, passwords, tokens
from api.accounts.models import AccountToken, AuthSession, RecoveryCode, Role, TokenPurpose, User
from api.config import Settings
from api.db import utcnow
from api.errors import FormError, TooManyAttempts
from api.i18n import LOCALES
from api.i18n import gettext as _
from api.ratelimit import service as ratelimit

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
MAX_NEXT_LENGTH = 300  # AccountToken.next_path and AccountRequest.next_path
VERIFY_EMAIL_LIFETIME = timedelta(days=3)
RESET_PASSWORD_LIFETIME = timedelta(hours=1)
SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)

# A syntax check only, written here because the well-known validator refuses the reserved test
# domains our demo accounts use and would add DNS look-ups; the verification mail proves the rest.
# RFC 5322's specials are refused too: in a To header "a,b@x.nl" or "a<b@x.nl>" would reach
# another mailbox than the one the account holds.
_NOT_IN_ADDRESS = r'@\s\x00-\x1f\x7f"(),:;<>\[\]\\'
_EMAIL = re.compile(
    rf"^[^{_NOT_IN_ADDRESS}]{{1,64}}@[^{_NOT_IN_ADDRESS}.]+(\.[^{_NOT_IN_ADDRESS}.]+)+$"
)

# Verifying against a real hash for unknown addresses makes both answers take as long, so the
# response time does not reveal which addresses have an account.
_DUMMY_HASH = passwords.hash_password("not-a-real-password-only-for-timing")


def normalise_email(email: str) -> str:
    """Addresses are compared in lower case without surrounding spaces."""
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    if not email:
        return _("Fill in your email address.")
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        return _("This is not a valid email address, e.g. name@example.nl.")
    return None


def name_problem(name: str) -> str | None:
    if not name:
        return _("Fill in your name.")
    if len(name) > MAX_NAME_LENGTH:
        return _("Use at most %(n)s characters.", n=MAX_NAME_LENGTH)
    if any(ord(char) < 32 for char in name):
        return _("Your name contains characters we cannot use.")
    return None


def signup_problems(*, name: str, email: str, password: str, language: str) -> dict[str, str]:
    """What is wrong with a sign-up, by field, without asking whether the address is in use."""
    problems: dict[str, str] = {}
    if problem := name_problem(name):
        problems["name"] = problem
    if problem := email_problem(email):
        problems["email"] = problem
    if password_issues := passwords.password_problems(password, email=email, name=name):
        problems["password"] = " ".join(password_issues)
    if language not in LOCALES:
        problems["language"] = _("Choose one of the languages in the list.")
    return problems


def find_by_email(session: Session, email: str) -> User | None:
    """The account with this address, if any."""
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def create_user(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    role: Role = Role.learner,
    language: str = "nl",
    verified: bool = False,
) -> User:
    """Create an account after checking every field; raises FormError naming the fields.

    For the command line and tests: visitors sign up through api.accounts.requests, which never
    says whether an address is in use."""
    name, email = name.strip(), normalise_email(email)
    problems = signup_problems(name=name, email=email, password=password, language=language)
    if "email" not in problems and find_by_email(session, email):
        problems["email"] = _("There is already an account with this address.")
    if problems:
        raise FormError(problems)
    user = User(
        name=name,
        email=email,
        password_hash=passwords.hash_password(password),
        role=role.value,
        language=language,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    return user


def send_verification(
    session: Session, settings: Settings, *, user: User, next_path: str | None = None
) -> None:
    """Mail a fresh link that confirms her address and signs her in (then on to `next_path`)."""
    token = tokens.issue(
        session,
        user=user,
        purpose=TokenPurpose.verify_email,
        lifetime=VERIFY_EMAIL_LIFETIME,
        next_path=next_path,
    )
    emails.verify_email(
        session, settings, user=user, link=f"{settings.base_url}/verify-email/{token}"
    )


def resend_verification(session: Session, settings: Settings, *, user: User) -> bool:
    """Mail her a fresh verification link, unless her address is confirmed already or she asked
    too often lately; whether a link was sent (the page answers the same either way)."""
    # Ends in ":account:<id>", so deleting her account finds it (api/ratelimit, ACCOUNT_MARK).
    key = f"verify:account:{user.id}"
    try:
        ratelimit.guard(session, [(key, ratelimit.RESET_PER_ACCOUNT)])
    except TooManyAttempts:
        return False
    ratelimit.record(session, key)
    if user.email_verified_at is not None:
        return False
    send_verification(session, settings, user=user)
    return True


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The user whose password this is, upgrading an outdated hash on the way."""
    # PostgreSQL refuses text with NUL characters, and no stored address has one.
    user = find_by_email(session, email) if "\x00" not in email else None
    if user is None:
        passwords.verify_password(_DUMMY_HASH, password)
        return None
    if not passwords.verify_password(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.add(user)
        session.flush()
    return user


def _login_keys(email: str, ip: str) -> tuple[str, str, str]:
    """A login's rate-limit keys: account and address together, the address, the account."""
    account = normalise_email(email)[:MAX_EMAIL_LENGTH]
    # Keys about an account end in ":account:<address>", so deleting her account finds them
    # (api/ratelimit/service.py, ACCOUNT_MARK).
    return f"login:from:{ip}:account:{account}", f"login:ip:{ip}", f"login:account:{account}"


def log_in(session: Session, *, email: str, password: str, ip: str) -> User | None:
    """The user whose password this is, or None; raises TooManyAttempts while a limit holds."""
    pair, address, account = _login_keys(email, ip)
    ratelimit.guard(
        session,
        [
            (pair, ratelimit.LOGIN_PER_ACCOUNT_AND_IP),
            (address, ratelimit.LOGIN_PER_IP),
            (account, ratelimit.LOGIN_PER_ACCOUNT),
        ],
    )
    user = authenticate(session, email=email, password=password)
    if user is None:
        ratelimit.record(session, pair, address, account)
        return None
    # Her own mistakes are forgotten. The day's count over all addresses is not: it holds
    # other people's guesses, which her success must not wipe out.
    ratelimit.clear(session, pair)
    return user


class TooManyPasswordAttempts(FormError):
    """Too many wrong passwords in signed-in forms: said at the password field, answered 429."""

    status_code = 429
    code = "too_many_attempts"

    def __init__(self, field: str, limited: TooManyAttempts) -> None:
        super().__init__({field: limited.message})
        self.headers = limited.headers


def confirm_password(
    session: Session, *, user: User, password: str, field: str = "current_password"
) -> None:
    """Raise FormError unless `password` is hers; once too many were wrong, whatever it is."""
    key = f"password:account:{user.id}"
    try:
        ratelimit.guard(session, [(key, ratelimit.PASSWORD_CHECK_PER_ACCOUNT)])
    except TooManyAttempts as limited:
        raise TooManyPasswordAttempts(field, limited) from None
    if not passwords.verify_password(user.password_hash, password):
        ratelimit.record(session, key)
        raise FormError({field: _("This password is not correct.")})
    ratelimit.clear(session, key)


def _address_confirmed(session: Session, settings: Settings, *, user: User) -> None:
    """Mark her address confirmed; the first time, welcome her."""
    if user.email_verified_at is not None:
        return
    user.email_verified_at = utcnow()
    session.add(user)
    session.flush()
    emails.welcome(session, settings, user=user)


@dataclass(frozen=True)
class LinkUse:
    """Who a mailed link signs in, and where she continues (None: wherever the page decides)."""

    user: User
    next_path: str | None


def use_link(session: Session, settings: Settings, *, token: str, purpose: TokenPurpose) -> LinkUse:
    """Use a verification or sign-in link once; it proves the mailbox, so confirm that too."""
    record = tokens.consume(session, token=token, purpose=purpose)
    user = session.get_one(User, record.user_id)
    _address_confirmed(session, settings, user=user)
    return LinkUse(user=user, next_path=record.next_path)


def _new_password_problem(user: User, password: str) -> str | None:
    problems = passwords.password_problems(password, email=user.email, name=user.name)
    return " ".join(problems) or None


def _set_password(session: Session, *, user: User, password: str) -> None:
    if problem := _new_password_problem(user, password):
        raise FormError({"password": problem})
    user.password_hash = passwords.hash_password(password)
    session.add(user)
    # A new password ends every session and every mailed link: whoever knew the old password,
    # or once held a session, must not come back through a link asked for before.
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    tokens.revoke_all(session, user=user)
    session.flush()


def reset_password(session: Session, settings: Settings, *, token: str, password: str) -> User:
    """Set a new password from a reset link; the link proves the mailbox, so verify it too."""
    record = tokens.peek(session, token=token, purpose=TokenPurpose.reset_password)
    user = session.get_one(User, record.user_id)
    # A weak password is refused before the link is used up, so she can choose another.
    if problem := _new_password_problem(user, password):
        raise FormError({"password": problem})
    tokens.consume(session, token=token, purpose=TokenPurpose.reset_password)
    _set_password(session, user=user, password=password)
    _address_confirmed(session, settings, user=user)
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends all sessions and links."""
    confirm_password(session, user=user, password=current)
    _set_password(session, user=user, password=new)


def update_profile(session: Session, *, user: User, name: str, language: str) -> User:
    """Change the name and interface language."""
    name = name.strip()
    problems: dict[str, str] = {}
    if problem := name_problem(name):
        problems["name"] = problem
    if language not in LOCALES:
        problems["language"] = _("Choose one of the languages in the list.")
    if problems:
        raise FormError(problems)
    user.name, user.language = name, language
    session.add(user)
    session.flush()
    return user


def export_account(session: Session, *, user: User) -> dict[str, Any]:
    """Her account, with her second-factor state and the links mailed to her, for her export."""
    links = session.exec(
        select(AccountToken).where(AccountToken.user_id == user.id).order_by(col(AccountToken.id))
    ).all()
    codes_left = session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None))
    ).one()
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "created_at": user.created_at.isoformat(),
        "email_verified_at": user.email_verified_at and user.email_verified_at.isoformat(),
        "two_factor_enabled": user.has_totp,
        # The codes themselves are stored only as hashes; how many are left is what she can use.
        "recovery_codes_left": codes_left,
        "email_links": [
            {
                "purpose": link.purpose,
                "new_email": link.new_email,
                "created_at": link.created_at.isoformat(),
                "expires_at": link.expires_at.isoformat(),
                "used_at": link.used_at and link.used_at.isoformat(),
            }
            for link in links
        ],
    }


def erase_account(session: Session, *, user: User) -> None:
    """Delete the account itself, with its mailed links and recovery codes."""
    # Foreign keys cascade on PostgreSQL and on SQLite (foreign_keys=ON); deleting the dependent
    # rows explicitly as well keeps the deletion complete even if a backend ignores that.
    session.execute(delete(AccountToken).where(col(AccountToken.user_id) == user.id))
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.delete(user)
    session.flush()


def confirm_deletion(session: Session, *, user: User, password: str, confirmation: str) -> None:
    """Raise FormError unless she gave her password and typed the confirmation word.

    A wrong password counts towards the limit of the forms that ask for it again (and raises
    TooManyPasswordAttempts past it), as every signed-in password check does.
    """
    problems: dict[str, str] = {}
    try:
        confirm_password(session, user=user, password=password, field="password")
    except TooManyPasswordAttempts:
        raise
    except FormError as wrong:
        problems.update(wrong.fields)
    if confirmation.strip().upper() != _("DELETE"):
        problems["confirmation"] = _("Type %(word)s to confirm.", word=_("DELETE"))
    if problems:
        raise FormError(problems)
