"""Consents as a history: one row each time she agrees, closed when she withdraws."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class ConsentKind(StrEnum):
    # What she records about her body (practice, later check-ins and the journal): GDPR art. 9.
    health_data = "health_data"


class Consent(SQLModel, table=True):
    """One consent she gave: to which text (version, language), when, and when she withdrew it."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=30)
    text_version: str = Field(max_length=20)
    language: str = Field(max_length=8)
    given_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    withdrawn_at: datetime | None = Field(default=None, sa_column=moment(nullable=True))

    __table_args__ = (Index("ix_consent_user_id_kind", "user_id", "kind"),)
