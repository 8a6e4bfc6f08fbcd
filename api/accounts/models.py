"""Accounts: people, their server-side sessions, one-time tokens and second factors."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment as _moment
from api.db import utcnow


class Role(StrEnum):
    learner = "learner"
    instructor = "instructor"
    admin = "admin"


class TokenPurpose(StrEnum):
    verify_email = "verify_email"
    reset_password = "reset_password"  # noqa: S105 (a purpose, not a password)
    change_email = "change_email"
    # Mailed to the old address with every requested change: it calls the change off.
    cancel_email = "cancel_email"
    # Signs in without the password, which strangers may have made wait (README, rate limits).
    sign_in = "sign_in"


class RequestKind(StrEnum):
    """What a visitor asked for by address; the mail worker answers it (api/accounts/requests)."""

    register = "register"
    reset_password = "reset_password"  # noqa: S105 (a kind of request, not a password)
    sign_in = "sign_in"


def _owner_column() -> Column[int]:
    """The owning account; rows go when the account is deleted."""
    return Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)


class User(SQLModel, table=True):
    """A person with an account: learner, instructor or admin."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.learner.value, max_length=20)
    language: str = Field(default="nl", max_length=8)
    email_verified_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))
    # The TOTP secret is stored as is: it has to be readable to check codes. Encrypting it with
    # SECRET_KEY would only move the secret; database backups must be protected either way.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))
    totp_last_step: int | None = Field(default=None)
    # Her consent to keeping health data, as the current state next to the history in the
    # `consent` table (api/consent): the version of the text she agreed to (None: not given or
    # withdrawn) and when she last withdrew. They are read with the session lookup, so the
    # practice API checks consent without a statement of its own.
    health_consent_version: str | None = Field(default=None, max_length=20)
    health_consent_withdrawn_at: datetime | None = Field(
        default=None, sa_column=_moment(nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_moment())

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def needs_totp(self) -> bool:
        """Instructors and admins see other people's health data: they must use two factors."""
        return self.role in (Role.instructor, Role.admin)


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only a hash of its token is stored."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_column())
    token_hash: str = Field(max_length=64, unique=True)
    # A password alone opens a pending session that can only complete the second factor.
    mfa_pending: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_moment())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_moment())
    expires_at: datetime = Field(sa_column=_moment())
    user_agent: str = Field(default="", max_length=200)
    ip_address: str = Field(default="", max_length=45)

    __table_args__ = (Index("ix_auth_session_user_id", "user_id"),)


class AccountToken(SQLModel, table=True):
    """A single-use link sent by email: verify an address, reset a password, change email."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_column())
    purpose: str = Field(max_length=20)
    token_hash: str = Field(max_length=64, unique=True)
    new_email: str | None = Field(default=None, max_length=254)
    # Where a link that signs her in continues to (the course she was about to buy).
    next_path: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_moment())
    expires_at: datetime = Field(sa_column=_moment())
    used_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))

    __table_args__ = (Index("ix_account_token_user_id", "user_id"),)


class AccountRequest(SQLModel, table=True):
    """A request made by address, stored the same way whether or not the address has an account.

    The mail worker answers it and deletes it; until then a registration's password hash waits
    here (never the password itself)."""

    __tablename__ = "account_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    email: str = Field(max_length=254)
    name: str | None = Field(default=None, max_length=100)
    password_hash: str | None = Field(default=None, max_length=255)
    language: str = Field(default="nl", max_length=8)
    next_path: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_moment())

    __table_args__ = (Index("ix_account_request_created_at", "created_at"),)


class RecoveryCode(SQLModel, table=True):
    """A one-time code that replaces the authenticator app once."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_column())
    code_hash: str = Field(max_length=64)
    used_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))

    __table_args__ = (Index("ix_recovery_code_user_id", "user_id"),)
