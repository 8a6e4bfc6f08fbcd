"""The session's last-seen time is bookkeeping: written at most once a minute, and given up
rather than refusing the page when, on SQLite, another request wrote first."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col, select

from api import db
from api.accounts import sessions
from api.accounts.models import AuthSession, User
from api.config import Settings
from tests.factories import make_user

AN_HOUR_AGO = timedelta(hours=1)


@pytest.fixture
def signed_in(engine: Engine, settings: Settings) -> Iterator[tuple[int, int]]:
    """Her account and a session last seen an hour ago, committed on the real engine (a page
    and another request each need their own connection); (user id, session id)."""
    factory = db.make_sessionmaker(engine)
    with factory() as setup, setup.begin():
        user = make_user(setup)
        sessions.start(setup, settings, user=user, user_agent="Firefox", ip_address="127.0.0.1")
        row = setup.exec(select(AuthSession).where(AuthSession.user_id == user.id)).one()
        row.last_seen_at = db.utcnow() - AN_HOUR_AGO
        ids = (user.id or 0, row.id or 0)
    try:
        yield ids
    finally:
        with factory() as cleanup, cleanup.begin():
            cleanup.execute(delete(AuthSession).where(col(AuthSession.user_id) == ids[0]))
            cleanup.execute(delete(User).where(col(User.id) == ids[0]))


def _last_seen(engine: Engine, session_id: int) -> timedelta:
    with Session(engine) as check:
        row = check.get_one(AuthSession, session_id)
        return db.utcnow() - row.last_seen_at


def test_her_session_is_touched_when_she_is_back_after_a_while(
    engine: Engine, settings: Settings, signed_in: tuple[int, int]
) -> None:
    user_id, session_id = signed_in
    with db.make_sessionmaker(engine)() as page:
        auth_session = page.get_one(AuthSession, session_id)
        visitor = sessions.admit(
            page, settings, auth_session=auth_session, user=page.get_one(User, user_id), learns=True
        )
        page.commit()

    assert visitor.user is not None
    assert _last_seen(engine, session_id) < timedelta(minutes=1)


def test_a_touch_another_request_overtook_keeps_her_signed_in(
    engine: Engine, settings: Settings, signed_in: tuple[int, int]
) -> None:
    user_id, session_id = signed_in
    with db.make_sessionmaker(engine)() as page:
        # The page reads her session (on SQLite this starts its deferred transaction) ...
        auth_session = page.get_one(AuthSession, session_id)
        user = page.get_one(User, user_id)
        # ... another request (here: the mail outbox) commits a write ...
        with engine.begin() as other:
            other.execute(update(User).where(col(User.id) == user_id).values(name="Sanne"))
        # ... and then the page would touch her session.
        visitor = sessions.admit(page, settings, auth_session=auth_session, user=user, learns=True)
        page.commit()

    # She is let in either way, and her page still reads her session's times.
    assert visitor.user is not None
    assert visitor.auth_session is not None
    assert visitor.auth_session.expires_at > db.utcnow()
    if engine.dialect.name == "sqlite":
        # Too late for SQLite's read snapshot: the touch is left for her next page.
        assert _last_seen(engine, session_id) >= AN_HOUR_AGO - timedelta(minutes=1)
    else:
        assert _last_seen(engine, session_id) < timedelta(minutes=1)
