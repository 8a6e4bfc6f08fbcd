"""Count failed attempts per key in a sliding window and refuse when there are too many."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlmodel import Session, col

from api.accounts.models import User
from api.db import utcnow
from api.errors import TooManyAttempts
from api.ratelimit.models import RateLimitHit


@dataclass(frozen=True)
class Limit:
    """At most `attempts` counted attempts per `window`."""

    attempts: int
    window: timedelta


# Wrong passwords at login are counted three ways. Per account and address: the guesser is
# stopped after a few tries, while the owner, elsewhere, still gets in. Per address: one
# machine cannot try many accounts. Per account, over a day: a guesser spread over many
# addresses gets at most 50 tries a day (some 18,000 a year), far too few for a password of 8
# or more characters that is not on the common list, and still far above anyone's own typos.
# Meeting that limit takes a determined stranger all day; the owner then signs in with a link
# by mail, which no password limit stops. A day is the longest window `record` keeps.
LOGIN_PER_ACCOUNT_AND_IP = Limit(5, timedelta(minutes=15))
LOGIN_PER_IP = Limit(20, timedelta(minutes=15))
LOGIN_PER_ACCOUNT = Limit(50, timedelta(days=1))
# Signed in, a form that asks for her password again (change password or address, delete the
# account, two-step settings): one count for all of them, so a stolen session cannot guess on.
PASSWORD_CHECK_PER_ACCOUNT = Limit(5, timedelta(minutes=15))
SIGN_IN_LINK_PER_ADDRESS = Limit(3, timedelta(hours=1))
SIGN_IN_LINK_PER_IP = Limit(10, timedelta(hours=1))
REGISTER_PER_ADDRESS = Limit(3, timedelta(hours=1))
REGISTER_PER_IP = Limit(20, timedelta(hours=1))
RESET_PER_ACCOUNT = Limit(3, timedelta(hours=1))
RESET_PER_IP = Limit(10, timedelta(hours=1))
TWO_FACTOR_PER_ACCOUNT = Limit(5, timedelta(minutes=15))

MAX_KEY_LENGTH = 300  # RateLimitHit.key
# No limit looks further back than this; older attempts are forgotten (`record`, `purge`).
KEEP = timedelta(days=1)


def _stored(key: str) -> str:
    """The key as stored: keys carry what people typed, so one the column cannot hold is hashed."""
    if len(key) <= MAX_KEY_LENGTH and key.isprintable():
        return key
    return "sha256:" + hashlib.sha256(key.encode(errors="replace")).hexdigest()


def retry_after(
    session: Session, *, key: str, limit: Limit, now: datetime | None = None
) -> int | None:
    """Seconds until `key` may try again, or None while it is under its limit."""
    now = now or utcnow()
    in_window = (
        col(RateLimitHit.key) == _stored(key),
        col(RateLimitHit.created_at) > now - limit.window,
    )
    count = session.execute(select(func.count()).where(*in_window)).scalar_one()
    if count < limit.attempts:
        return None
    # The key is under its limit again once enough attempts have left the window; with more
    # attempts than allowed (a lowered limit, racing requests) that is not yet the oldest one.
    freed_by = session.execute(
        select(col(RateLimitHit.created_at))
        .where(*in_window)
        .order_by(col(RateLimitHit.created_at))
        .offset(count - limit.attempts)
        .limit(1)
    ).scalar_one()
    return max(1, int((freed_by + limit.window - now).total_seconds()) + 1)


def guard(session: Session, checks: list[tuple[str, Limit]]) -> None:
    """Raise TooManyAttempts when any key is over its limit."""
    waits = [wait for key, limit in checks if (wait := retry_after(session, key=key, limit=limit))]
    if waits:
        raise TooManyAttempts(max(waits))


def record(session: Session, *keys: str, now: datetime | None = None) -> None:
    """Count one attempt under each key, and forget its attempts older than KEEP."""
    now = now or utcnow()
    stored = [_stored(key) for key in keys]
    for key in stored:
        session.add(RateLimitHit(key=key, created_at=now))
    session.execute(
        delete(RateLimitHit).where(
            col(RateLimitHit.key).in_(stored),
            col(RateLimitHit.created_at) < now - KEEP,
        )
    )
    session.flush()


def purge(session: Session, *, now: datetime) -> int:
    """Forget every attempt older than KEEP, under any key; how many.

    `record` tidies only the keys it counts, and a key may never come back (an IP address, a
    mistyped or changed address): those rows would keep an address for good.
    """
    result = session.execute(delete(RateLimitHit).where(col(RateLimitHit.created_at) < now - KEEP))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def clear(session: Session, *keys: str) -> None:
    """Forget the attempts under these keys (after a success)."""
    session.execute(
        delete(RateLimitHit).where(col(RateLimitHit.key).in_([_stored(key) for key in keys]))
    )


# Keys about one account end in ":account:" and her address or id (`login:account:<email>`,
# `2fa:account:<id>`); keys by IP address name no account.
ACCOUNT_MARK = ":account:"


def _about(user: User) -> ColumnElement[bool]:
    subjects = (user.email, str(user.id))
    return or_(
        *(col(RateLimitHit.key).endswith(ACCOUNT_MARK + s, autoescape=True) for s in subjects)
    )


def export_for(session: Session, *, user: User) -> list[dict[str, Any]]:
    """The attempts counted against her account (what they were for and when), for her export."""
    rows = session.scalars(
        select(RateLimitHit).where(_about(user)).order_by(col(RateLimitHit.id))
    ).all()
    return [{"kind": row.key.partition(":")[0], "at": row.created_at.isoformat()} for row in rows]


def erase_for(session: Session, *, user: User) -> None:
    """Forget the attempts counted against her account: their keys hold her address or id."""
    session.execute(delete(RateLimitHit).where(_about(user)))
