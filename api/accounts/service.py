"""Accounts: register, authenticate, profile, email changes, export and deletion."""

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts import emails, passwords, tokens
from api.accounts.models import AccountToken, AuthSession, RecoveryCode, Role, TokenPurpose, User
from api.config import Settings
from api.consent import service as consent_service
from api.db import utcnow
from api.errors import FormError
from api.i18n import LOCALES
from api.i18n import gettext as _
from api.payments import service as payments_service

MAX_NAME_LENGTH = 100
MAX_EMAIL_LENGTH = 254
VERIFY_EMAIL_LIFETIME = timedelta(days=3)
CHANGE_EMAIL_LIFETIME = timedelta(hours=24)
RESET_PASSWORD_LIFETIME = timedelta(hours=1)

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
    """Create an account after checking every field; raises FormError naming the fields."""
    name, email = name.strip(), normalise_email(email)
    problems: dict[str, str] = {}
    if problem := name_problem(name):
        problems["name"] = problem
    if problem := email_problem(email):
        problems["email"] = problem
    elif find_by_email(session, email):
        problems["email"] = _(
            "There is already an account with this address. Log in, or reset your password."
        )
    if password_issues := passwords.password_problems(password, email=email, name=name):
        problems["password"] = " ".join(password_issues)
    if language not in LOCALES:
        problems["language"] = _("Choose one of the languages in the list.")
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


def register(
    session: Session, settings: Settings, *, name: str, email: str, password: str, language: str
) -> User:
    """A new learner, with a verification link sent to her address."""
    user = create_user(session, name=name, email=email, password=password, language=language)
    send_verification(session, settings, user=user)
    return user


def send_verification(session: Session, settings: Settings, *, user: User) -> None:
    """Mail a fresh link that confirms the user's address."""
    token = tokens.issue(
        session, user=user, purpose=TokenPurpose.verify_email, lifetime=VERIFY_EMAIL_LIFETIME
    )
    emails.verify_email(
        session, settings, user=user, link=f"{settings.base_url}/verify-email/{token}"
    )


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


def check_password(user: User, password: str, *, field: str = "current_password") -> None:
    """Raise FormError unless `password` is the user's current password."""
    if not passwords.verify_password(user.password_hash, password):
        raise FormError({field: _("This password is not correct.")})


def _address_confirmed(session: Session, settings: Settings, *, user: User) -> None:
    """Mark her address confirmed; the first time, welcome her."""
    if user.email_verified_at is not None:
        return
    user.email_verified_at = utcnow()
    session.add(user)
    session.flush()
    emails.welcome(session, settings, user=user)


def verify_email(session: Session, settings: Settings, *, token: str) -> User:
    """Mark the address behind a verification link as confirmed."""
    record = tokens.consume(session, token=token, purpose=TokenPurpose.verify_email)
    user = session.get_one(User, record.user_id)
    _address_confirmed(session, settings, user=user)
    return user


def request_password_reset(session: Session, settings: Settings, *, email: str) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    user = find_by_email(session, email)
    if user is None:
        return
    token = tokens.issue(
        session, user=user, purpose=TokenPurpose.reset_password, lifetime=RESET_PASSWORD_LIFETIME
    )
    emails.reset_password(
        session, settings, user=user, link=f"{settings.base_url}/reset-password/{token}"
    )


def _set_password(session: Session, *, user: User, password: str) -> None:
    if problems := passwords.password_problems(password, email=user.email, name=user.name):
        raise FormError({"password": " ".join(problems)})
    user.password_hash = passwords.hash_password(password)
    session.add(user)
    # A new password ends every session: whoever knew the old one is logged out everywhere.
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    session.flush()


def reset_password(session: Session, settings: Settings, *, token: str, password: str) -> User:
    """Set a new password from a reset link; the link proves the mailbox, so verify it too."""
    record = tokens.peek(session, token=token, purpose=TokenPurpose.reset_password)
    user = session.get_one(User, record.user_id)
    _set_password(session, user=user, password=password)
    tokens.consume(session, token=token, purpose=TokenPurpose.reset_password)
    _address_confirmed(session, settings, user=user)
    session.flush()
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends all sessions."""
    check_password(user, current)
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


def request_email_change(
    session: Session, settings: Settings, *, user: User, password: str, new_email: str
) -> None:
    """Send a confirmation link to the new address; the change waits for that click."""
    new_email = normalise_email(new_email)
    check_password(user, password, field="password")
    if problem := email_problem(new_email):
        raise FormError({"email": problem})
    if new_email == user.email:
        raise FormError({"email": _("This is already your email address.")})
    if find_by_email(session, new_email):
        raise FormError({"email": _("Another account already uses this address.")})
    token = tokens.issue(
        session,
        user=user,
        purpose=TokenPurpose.change_email,
        lifetime=CHANGE_EMAIL_LIFETIME,
        new_email=new_email,
    )
    emails.confirm_email_change(
        session,
        settings,
        user=user,
        new_email=new_email,
        link=f"{settings.base_url}/account/confirm-email/{token}",
    )


def confirm_email_change(session: Session, settings: Settings, *, token: str) -> User:
    """Switch to the new address from a confirmation link and tell the old address."""
    record = tokens.consume(session, token=token, purpose=TokenPurpose.change_email)
    user = session.get_one(User, record.user_id)
    new_email = record.new_email or ""
    if find_by_email(session, new_email):
        raise FormError({"email": _("Another account already uses this address.")})
    old_email = user.email
    user.email, user.email_verified_at = new_email, utcnow()
    session.add(user)
    # Links already mailed to the old address must not open the account once it has moved.
    tokens.revoke(
        session, user=user, purposes=[TokenPurpose.reset_password, TokenPurpose.verify_email]
    )
    session.flush()
    emails.email_changed(session, settings, user=user, old_email=old_email)
    return user


def export_data(session: Session, *, user: User) -> dict[str, Any]:
    """Everything Kern holds about this person, as plain JSON-ready data."""
    sessions = session.exec(select(AuthSession).where(AuthSession.user_id == user.id)).all()
    return {
        "account": {
            "name": user.name,
            "email": user.email,
            "role": user.role,
            "language": user.language,
            "created_at": user.created_at.isoformat(),
            "email_verified_at": user.email_verified_at and user.email_verified_at.isoformat(),
            "two_factor_enabled": user.has_totp,
        },
        "sessions": [
            {
                "created_at": row.created_at.isoformat(),
                "last_seen_at": row.last_seen_at.isoformat(),
                "user_agent": row.user_agent,
                "ip_address": row.ip_address,
            }
            for row in sessions
        ],
        "orders": payments_service.export_orders(session, user=user),
        "consents": consent_service.export_consents(session, user_id=user.id or 0),
    }


def delete_account(session: Session, *, user: User, password: str, confirmation: str) -> None:
    """Remove the account and everything that hangs off it."""
    problems: dict[str, str] = {}
    if not passwords.verify_password(user.password_hash, password):
        problems["password"] = _("This password is not correct.")
    if confirmation.strip().upper() != _("DELETE"):
        problems["confirmation"] = _("Type %(word)s to confirm.", word=_("DELETE"))
    if problems:
        raise FormError(problems)
    # Foreign keys cascade on PostgreSQL and on SQLite (foreign_keys=ON); deleting the dependent
    # rows explicitly as well keeps the deletion complete even if a backend ignores that.
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    session.execute(delete(AccountToken).where(col(AccountToken.user_id) == user.id))
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    consent_service.erase_consents(session, user_id=user.id or 0)
    session.delete(user)
    session.flush()
