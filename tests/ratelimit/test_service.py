"""Failed attempts are counted in the database, per key, in a sliding window."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func
from sqlmodel import Session, select

from api import i18n
from api.db import utcnow
from api.errors import TooManyAttempts
from api.ratelimit.models import RateLimitHit
from api.ratelimit.service import Limit, clear, guard, purge, record, retry_after

THREE_PER_MINUTE = Limit(3, timedelta(minutes=1))
KEY = "login:account:alice@example.nl"
OTHER_KEY = "login:account:bob@example.nl"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def hits(session: Session, key: str = KEY) -> int:
    return session.exec(
        select(func.count()).select_from(RateLimitHit).where(RateLimitHit.key == key)
    ).one()


def test_under_the_limit_nothing_is_refused(session: Session) -> None:
    record(session, KEY)
    record(session, KEY)

    guard(session, [(KEY, THREE_PER_MINUTE)])

    assert retry_after(session, key=KEY, limit=THREE_PER_MINUTE) is None


def test_at_the_limit_the_next_attempt_is_refused_with_a_wait(session: Session) -> None:
    for _ in range(3):
        record(session, KEY)

    with pytest.raises(TooManyAttempts) as refused:
        guard(session, [(KEY, THREE_PER_MINUTE)])

    assert refused.value.status_code == 429
    assert 1 <= int(refused.value.headers["Retry-After"]) <= 61


def test_the_wait_is_until_the_oldest_attempt_leaves_the_window(session: Session) -> None:
    for seconds in (0, 10, 20):
        record(session, KEY, now=T0 + timedelta(seconds=seconds))

    wait = retry_after(session, key=KEY, limit=THREE_PER_MINUTE, now=T0 + timedelta(seconds=30))

    assert wait is not None
    assert 30 <= wait <= 31


def test_the_wait_counts_every_attempt_beyond_the_limit(session: Session) -> None:
    """With more attempts than allowed (after the limit was lowered, or from racing requests),
    the key may try again only once enough of them have left the window, not the oldest one."""
    for seconds in (0, 10, 20, 30):
        record(session, KEY, now=T0 + timedelta(seconds=seconds))

    wait = retry_after(session, key=KEY, limit=THREE_PER_MINUTE, now=T0 + timedelta(seconds=35))

    assert wait is not None
    assert 35 <= wait <= 36
    later = T0 + timedelta(seconds=35 + wait)
    assert retry_after(session, key=KEY, limit=THREE_PER_MINUTE, now=later) is None


def test_now_may_be_given_in_any_time_zone(session: Session) -> None:
    for seconds in (0, 10, 20):
        record(session, KEY, now=T0 + timedelta(seconds=seconds))
    in_amsterdam = (T0 + timedelta(seconds=30)).astimezone(ZoneInfo("Europe/Amsterdam"))

    wait = retry_after(session, key=KEY, limit=THREE_PER_MINUTE, now=in_amsterdam)

    assert wait is not None
    assert 30 <= wait <= 31


def test_attempts_older_than_the_window_no_longer_count(session: Session) -> None:
    for seconds in (0, 10, 20):
        record(session, KEY, now=T0 + timedelta(seconds=seconds))

    def wait_at(seconds: int) -> int | None:
        now = T0 + timedelta(seconds=seconds)
        return retry_after(session, key=KEY, limit=THREE_PER_MINUTE, now=now)

    assert wait_at(59) is not None
    assert wait_at(60) is None  # the first attempt has just left the window
    assert wait_at(75) is None


def test_guard_looks_at_the_current_time(session: Session) -> None:
    long_ago = utcnow() - timedelta(minutes=2)
    for _ in range(5):
        record(session, KEY, now=long_ago)

    guard(session, [(KEY, THREE_PER_MINUTE)])


def test_keys_are_counted_separately(session: Session) -> None:
    for _ in range(3):
        record(session, KEY)

    guard(session, [(OTHER_KEY, THREE_PER_MINUTE)])
    with pytest.raises(TooManyAttempts):
        guard(session, [(OTHER_KEY, THREE_PER_MINUTE), (KEY, THREE_PER_MINUTE)])


def test_one_record_counts_under_every_key_given(session: Session) -> None:
    record(session, KEY, OTHER_KEY)

    assert (hits(session, KEY), hits(session, OTHER_KEY)) == (1, 1)


def test_guard_reports_the_longest_wait_of_the_keys_over_their_limit(session: Session) -> None:
    long_limit = Limit(1, timedelta(hours=1))
    now = utcnow()
    record(session, KEY, now=now)
    record(session, OTHER_KEY, now=now)

    with pytest.raises(TooManyAttempts) as refused:
        guard(session, [(KEY, Limit(1, timedelta(minutes=1))), (OTHER_KEY, long_limit)])

    assert int(refused.value.headers["Retry-After"]) > 59 * 60


@pytest.mark.parametrize(
    "key", ["login:account:alice\x00@example.nl", "login:account:" + "a" * 400, "reset:ip:\n"]
)
def test_keys_the_column_cannot_hold_are_still_counted(session: Session, key: str) -> None:
    for _ in range(3):
        record(session, key)

    with pytest.raises(TooManyAttempts):
        guard(session, [(key, THREE_PER_MINUTE)])
    guard(session, [(key[:-1] + "b", THREE_PER_MINUTE)])
    clear(session, key)
    guard(session, [(key, THREE_PER_MINUTE)])


def test_clear_forgets_the_attempts_of_a_key(session: Session) -> None:
    for _ in range(3):
        record(session, KEY, OTHER_KEY)

    clear(session, KEY)

    guard(session, [(KEY, THREE_PER_MINUTE)])
    assert hits(session, KEY) == 0
    assert hits(session, OTHER_KEY) == 3


def test_recording_forgets_attempts_older_than_a_day(session: Session) -> None:
    record(session, KEY, now=T0)
    record(session, OTHER_KEY, now=T0)

    record(session, KEY, now=T0 + timedelta(days=1, seconds=1))

    assert hits(session, KEY) == 1
    assert hits(session, OTHER_KEY) == 1  # only the keys being recorded are tidied


def test_attempts_are_shared_by_every_worker(session: Session, connection: Connection) -> None:
    """A second session on the same database, as another worker process has, sees the count."""
    for _ in range(3):
        record(session, KEY)

    with (
        Session(bind=connection, join_transaction_mode="create_savepoint") as other_worker,
        pytest.raises(TooManyAttempts),
    ):
        guard(other_worker, [(KEY, THREE_PER_MINUTE)])


def test_the_message_names_the_minutes_to_wait() -> None:
    token = i18n.current_locale.set("en")
    try:
        error = TooManyAttempts(retry_after=125)
    finally:
        i18n.current_locale.reset(token)

    assert "3 minutes" in error.message
    assert error.headers == {"Retry-After": "125"}


def test_purge_forgets_old_attempts_of_keys_that_never_come_back(session: Session) -> None:
    record(session, "login:ip:192.0.2.7", now=T0 - timedelta(days=1, minutes=1))
    record(session, "reset:account:old@example.nl", now=T0 - timedelta(days=2))
    record(session, "login:ip:192.0.2.8", now=T0 - timedelta(hours=23))

    assert purge(session, now=T0) == 2

    left = session.exec(select(RateLimitHit.key)).all()
    assert left == ["login:ip:192.0.2.8"]
