"""The terms of sale, one row per saved version; a version is never changed afterwards."""

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class TermsVersion(SQLModel, table=True):
    """One version of the terms as an admin saved it; the highest id is the current one."""

    __tablename__ = "terms_version"

    # The version number itself: 1, 2, 3… (orders record the one she accepted).
    id: int | None = Field(default=None, primary_key=True)
    body_nl: str = Field(sa_column=Column(Text, nullable=False))
    # Empty: English readers see the Dutch text.
    body_en: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())
    created_by_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
        ),
    )
