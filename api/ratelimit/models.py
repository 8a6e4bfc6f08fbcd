"""Failed attempts, counted in the database so every worker process sees the same numbers."""

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from api.db import moment, utcnow


class RateLimitHit(SQLModel, table=True):
    """One counted attempt under a key such as `login:account:<email>`."""

    __tablename__ = "rate_limit_hit"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=moment())

    __table_args__ = (Index("ix_rate_limit_hit_key_created_at", "key", "created_at"),)
