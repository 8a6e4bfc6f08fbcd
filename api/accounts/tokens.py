"""Single-use links: a random token is mailed, only its hash is stored."""

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.accounts.models import AccountToken, TokenPurpose, User
from api.db import utcnow
from api.errors import AppError
from api.i18n import gettext as _

TOKEN_BYTES = 32


class InvalidLink(AppError):
    """The link is unknown, expired or already used."""

    status_code = 400
    code = "invalid_link"

    def __init__(self) -> None:
        super().__init__(_("This link no longer works: it expired or was used. Ask for a new one."))


def digest(token: str) -> str:
    """The stored form of a token: a leaked table cannot be turned back into working links."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    session: Session,
    *,
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    new_email: str | None = None,
    next_path: str | None = None,
) -> str:
    """Create a token for `purpose`; earlier unused tokens for the same purpose stop working."""
    now = utcnow()
    revoke(session, user=user, purposes=[purpose])
    token = secrets.token_urlsafe(TOKEN_BYTES)
    assert user.id is not None  # noqa: S101 (a flushed user always has an id)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=digest(token),
            new_email=new_email,
            next_path=next_path,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def revoke(session: Session, *, user: User, purposes: Iterable[TokenPurpose]) -> None:
    """Make the user's unused links for these purposes stop working."""
    session.execute(
        update(AccountToken)
        .where(
            col(AccountToken.user_id) == user.id,
            col(AccountToken.purpose).in_([purpose.value for purpose in purposes]),
            col(AccountToken.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )


def revoke_all(session: Session, *, user: User) -> None:
    """Make every unused link of the user stop working."""
    revoke(session, user=user, purposes=TokenPurpose)


def outstanding(session: Session, *, user: User, purpose: TokenPurpose) -> AccountToken | None:
    """The user's unused, unexpired link for `purpose`, if any (issue keeps at most one)."""
    return session.exec(
        select(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose.value,
            col(AccountToken.used_at).is_(None),
            AccountToken.expires_at > utcnow(),
        )
        .order_by(col(AccountToken.id).desc())
    ).first()


def peek(session: Session, *, token: str, purpose: TokenPurpose) -> AccountToken:
    """The valid token record, without using it up; raises InvalidLink."""
    if len(token) > 100:
        raise InvalidLink
    record = session.exec(
        select(AccountToken).where(
            AccountToken.token_hash == digest(token), AccountToken.purpose == purpose.value
        )
    ).first()
    if record is None or record.used_at is not None or record.expires_at <= utcnow():
        raise InvalidLink
    return record


def consume(session: Session, *, token: str, purpose: TokenPurpose) -> AccountToken:
    """Use a token once; a second use raises InvalidLink."""
    record = peek(session, token=token, purpose=purpose)
    # A conditional UPDATE, so two clicks at the same moment cannot both use the link.
    used = session.execute(
        update(AccountToken)
        .where(col(AccountToken.id) == record.id, col(AccountToken.used_at).is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidLink
    session.refresh(record)
    return record
