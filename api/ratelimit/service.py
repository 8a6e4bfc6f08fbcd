"""Count failed attempts per key in a sliding window and refuse when there are too many."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlmodel import Session, col

from api.db import utcnow
from api.errors import TooManyAttempts
from api.ratelimit.models import RateLimitHit


@dataclass(frozen=True)
class Limit:
    """At most `attempts` counted attempts per `window`."""

    attempts: int
    window: timedelta


LOGIN_PER_ACCOUNT = Limit(5, timedelta(minutes=15))
LOGIN_PER_IP = Limit(20, timedelta(minutes=15))
REGISTER_PER_IP = Limit(10, timedelta(hours=1))
RESET_PER_ACCOUNT = Limit(3, timedelta(hours=1))
RESET_PER_IP = Limit(10, timedelta(hours=1))
TWO_FACTOR_PER_ACCOUNT = Limit(5, timedelta(minutes=15))


def retry_after(
    session: Session, *, key: str, limit: Limit, now: datetime | None = None
) -> int | None:
    """Seconds until `key` may try again, or None while it is under its limit."""
    now = now or utcnow()
    since = now - limit.window
    count, oldest = session.execute(
        select(func.count(), func.min(col(RateLimitHit.created_at))).where(
            col(RateLimitHit.key) == key, col(RateLimitHit.created_at) > since
        )
    ).one()
    if count < limit.attempts or oldest is None:
        return None
    if oldest.tzinfo is None:  # min() bypasses the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=now.tzinfo)
    return max(1, int((oldest + limit.window - now).total_seconds()) + 1)


def guard(session: Session, checks: list[tuple[str, Limit]]) -> None:
    """Raise TooManyAttempts when any key is over its limit."""
    waits = [wait for key, limit in checks if (wait := retry_after(session, key=key, limit=limit))]
    if waits:
        raise TooManyAttempts(max(waits))


def record(session: Session, *keys: str, now: datetime | None = None) -> None:
    """Count one attempt under each key, and forget attempts older than a day."""
    now = now or utcnow()
    for key in keys:
        session.add(RateLimitHit(key=key, created_at=now))
    session.execute(
        delete(RateLimitHit).where(
            col(RateLimitHit.key).in_(keys),
            col(RateLimitHit.created_at) < now - timedelta(days=1),
        )
    )
    session.flush()


def clear(session: Session, *keys: str) -> None:
    """Forget the attempts under these keys (after a success)."""
    session.execute(delete(RateLimitHit).where(col(RateLimitHit.key).in_(keys)))
