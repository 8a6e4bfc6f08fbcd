"""Changing the email address: a link to the new address confirms, one to the old cancels."""

from datetime import timedelta

from sqlmodel import Session

from api.accounts import emails, service, tokens
from api.accounts.models import AccountToken, TokenPurpose, User
from api.config import Settings
from api.db import utcnow
from api.errors import FormError
from api.i18n import gettext as _

CHANGE_EMAIL_LIFETIME = timedelta(hours=24)
_PENDING = (TokenPurpose.change_email, TokenPurpose.cancel_email)


def request(
    session: Session, settings: Settings, *, user: User, password: str, new_email: str
) -> None:
    """Mail a confirmation link to the new address and, at once, a cancel link to the old one."""
    new_email = service.normalise_email(new_email)
    service.confirm_password(session, user=user, password=password, field="password")
    if problem := service.email_problem(new_email):
        raise FormError({"email": problem})
    if new_email == user.email:
        raise FormError({"email": _("This is already your email address.")})
    if service.find_by_email(session, new_email):
        raise FormError({"email": _("Another account already uses this address.")})
    # Issuing replaces the links of an earlier request: only the newest change can go through.
    confirm = tokens.issue(
        session,
        user=user,
        purpose=TokenPurpose.change_email,
        lifetime=CHANGE_EMAIL_LIFETIME,
        new_email=new_email,
    )
    cancel = tokens.issue(
        session,
        user=user,
        purpose=TokenPurpose.cancel_email,
        lifetime=CHANGE_EMAIL_LIFETIME,
        new_email=new_email,
    )
    emails.confirm_email_change(
        session,
        settings,
        user=user,
        new_email=new_email,
        link=f"{settings.base_url}/account/confirm-email/{confirm}",
    )
    # Someone else with her session and password could be moving the account away: the old
    # address hears of it straight away, with a way to stop it.
    emails.email_change_requested(
        session,
        settings,
        user=user,
        new_email=new_email,
        link=f"{settings.base_url}/account/cancel-email/{cancel}",
    )


def pending(session: Session, *, user: User) -> AccountToken | None:
    """The change waiting for its confirmation (new_email, expires_at), if any."""
    return tokens.outstanding(session, user=user, purpose=TokenPurpose.change_email)


def confirm(session: Session, settings: Settings, *, token: str) -> User:
    """Switch to the new address from a confirmation link and tell the old address."""
    record = tokens.consume(session, token=token, purpose=TokenPurpose.change_email)
    user = session.get_one(User, record.user_id)
    new_email = record.new_email or ""
    if service.find_by_email(session, new_email):
        raise FormError({"email": _("Another account already uses this address.")})
    old_email = user.email
    user.email, user.email_verified_at = new_email, utcnow()
    session.add(user)
    # Links already mailed to the old address must not open the account once it has moved,
    # and its cancel link has nothing left to cancel.
    tokens.revoke_all(session, user=user)
    session.flush()
    emails.email_changed(session, settings, user=user, old_email=old_email)
    return user


def cancel(session: Session, *, user: User) -> None:
    """Call off her waiting change: its confirmation link stops working."""
    tokens.revoke(session, user=user, purposes=_PENDING)
    session.flush()


def cancel_by_link(session: Session, *, token: str) -> User:
    """Call off the change from the link mailed to the old address; raises InvalidLink."""
    record = tokens.consume(session, token=token, purpose=TokenPurpose.cancel_email)
    user = session.get_one(User, record.user_id)
    cancel(session, user=user)
    return user
