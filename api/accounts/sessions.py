"""Server-side login sessions: the browser holds a random token, the table holds its hash."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, case, delete, exists, true, update
from sqlalchemy.orm import aliased, join
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from api.accounts.models import AuthSession, Role, User
from api.accounts.tokens import digest
from api.config import Settings
from api.db import bookkeeping, utcnow
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.kit.plain import Columns, columns_of, loaded, width

_SESSIONS: Table = AuthSession.__table__  # type: ignore[attr-defined]

TOKEN_BYTES = 32  # 256 bits, well above the 128 the issue and OWASP ask for
# Writing last_seen_at on every request would turn every page view into a write; a minute's
# precision is plenty for an idle timeout measured in days.
TOUCH_INTERVAL = timedelta(minutes=1)
# A password alone opens a session that can only finish the second step, and not for long.
PENDING_LIFETIME = timedelta(minutes=10)


@dataclass(frozen=True)
class Visitor:
    """Who is making the request: nobody, someone half-way through 2FA, or a user."""

    user: User | None = None
    auth_session: AuthSession | None = None
    # Whether "Vandaag" is hers: every learner's, and an instructor's or admin's only while she
    # follows a course herself (her phone's tab bar has room for four items).
    learns: bool = False

    @property
    def pending_user(self) -> User | None:
        """The user of a session that still waits for its second factor."""
        if self.auth_session is not None and self.auth_session.mfa_pending:
            return self.user
        return None

    @property
    def signed_in(self) -> User | None:
        """The fully signed-in user, if any."""
        if self.auth_session is not None and not self.auth_session.mfa_pending:
            return self.user
        return None


def cookie_name(settings: Settings) -> str:
    """`__Host-` in production: the browser then refuses the cookie from any other origin."""
    return "__Host-kern_session" if settings.is_production else "kern_session"


def start(
    session: Session,
    settings: Settings,
    *,
    user: User,
    user_agent: str,
    ip_address: str,
    mfa_pending: bool = False,
) -> str:
    """Open a new session for `user` and return its token for the cookie."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    assert user.id is not None  # noqa: S101 (a stored user always has an id)
    session.add(
        AuthSession(
            user_id=user.id,
            token_hash=digest(token),
            mfa_pending=mfa_pending,
            created_at=now,
            last_seen_at=now,
            expires_at=now
            + (PENDING_LIFETIME if mfa_pending else timedelta(days=settings.session_max_days)),
            user_agent=user_agent[:200],
            ip_address=ip_address[:45],
        )
    )
    session.flush()
    return token


# Whether the user learns, asked in the same statement as the session: an instructor's active
# enrolment is looked up by the (user_id, course_id) unique index, a learner's not at all.
def learns_of(user: Any) -> Any:
    """Whether `user` (the User class or an alias of it) learns, as an SQL expression."""
    other = aliased(Enrolment)
    return case(
        (user.role == Role.learner.value, true()),
        else_=exists().where(
            and_(
                col(other.user_id) == user.id,
                col(other.status) == EnrolmentStatus.active.value,
            )
        ),
    )


_LEARNS = learns_of(User)

# For a page that reads the visitor's session with its own data in one statement
# (docs/performance.md#one-statement-per-page), as a plain read (docs/performance.md#plain-reads):
# her account under its own name, so that the page may join other users too. What such a page
# never needs of an account and of a session is left out of its statement.
VIEWER = aliased(User, name="viewer")
VIEWER_LEARNS = learns_of(VIEWER).label("learns")
ACCOUNT_SECRETS = ("password_hash", "totp_secret", "totp_last_step")
SESSION_DETAILS = ("user_agent", "ip_address")
_VISITOR_TABLES = (
    Columns(AuthSession, leaving_out=SESSION_DETAILS),
    Columns(User, alias=VIEWER, leaving_out=ACCOUNT_SECRETS),
)
# Her session, her account and whether she learns, in this order: `admit_plain` makes the
# visitor of them.
VISITOR_COLUMNS = (*columns_of(_VISITOR_TABLES), VIEWER_LEARNS)


def with_session(left: Any) -> Any:
    """`left` with the session of the cookie's hash (the parameter `token_hash`, a unique index)
    and its user, outer joined: a row whether or not the cookie finds one."""
    return join(
        left, AuthSession, col(AuthSession.token_hash) == bindparam("token_hash"), isouter=True
    ).outerjoin(VIEWER, col(VIEWER.id) == AuthSession.user_id)


# Built once: every signed-in request runs it, and building a statement costs more than the
# database takes to answer it.
_BY_TOKEN = (
    select(AuthSession, User, _LEARNS.label("learns"))
    .join(User, col(User.id) == AuthSession.user_id)
    .where(AuthSession.token_hash == bindparam("token_hash"))
)


def may_resolve(token: str | None) -> bool:
    """Whether a cookie value is worth looking up (no cookie, or a too long one, is not)."""
    return bool(token) and len(token or "") <= 100


def resolve(session: Session, settings: Settings, *, token: str | None) -> Visitor:
    """The visitor behind a cookie token; expired or idle sessions are removed."""
    if token is None or not may_resolve(token):
        return Visitor()
    row = session.exec(_BY_TOKEN, params={"token_hash": digest(token)}).first()
    if row is None:
        return Visitor()
    auth_session, user, learns = row
    return admit(session, settings, auth_session=auth_session, user=user, learns=bool(learns))


def admit_plain(session: Session, settings: Settings, row: Sequence[Any], *, start: int) -> Visitor:
    """`admit` for the `VISITOR_COLUMNS` of a page's plain read, from `start` in its row; the
    session and its user were outer joined, so an anonymous visitor when the cookie found none."""
    auth_session, user = loaded(_VISITOR_TABLES, row, start)
    if auth_session is None or user is None:
        return Visitor()
    learns = row[start + width(_VISITOR_TABLES)]
    return admit(session, settings, auth_session=auth_session, user=user, learns=bool(learns))


def admit(
    session: Session, settings: Settings, *, auth_session: AuthSession, user: User, learns: bool
) -> Visitor:
    """The visitor of a session row that was read (here or with a page's data): an expired or
    idle session is removed, a used one touched at most once a minute."""
    now = utcnow()
    idle_limit = timedelta(minutes=settings.session_idle_minutes)
    # Both writes are bookkeeping: one lost to a busy SQLite is done on a later request.
    if auth_session.expires_at <= now or auth_session.last_seen_at + idle_limit <= now:
        removal = delete(_SESSIONS).where(_SESSIONS.c.id == auth_session.id)
        bookkeeping(session, "expired session's removal", lambda session: session.execute(removal))
        return Visitor()
    if now - auth_session.last_seen_at >= TOUCH_INTERVAL:
        touch = update(_SESSIONS).where(_SESSIONS.c.id == auth_session.id).values(last_seen_at=now)
        bookkeeping(session, "session's last-seen time", lambda session: session.execute(touch))
        set_committed_value(auth_session, "last_seen_at", now)
    return Visitor(user=user, auth_session=auth_session, learns=learns)


def complete_second_factor(
    session: Session, settings: Settings, *, auth_session: AuthSession
) -> str:
    """Turn a pending session into a full one under a new token (no fixation across steps)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    auth_session.token_hash = digest(token)
    auth_session.mfa_pending = False
    auth_session.last_seen_at = now
    auth_session.expires_at = now + timedelta(days=settings.session_max_days)
    session.add(auth_session)
    session.flush()
    return token


def end(session: Session, *, auth_session: AuthSession) -> None:
    """Log this session out on the server."""
    session.delete(auth_session)
    session.flush()


def end_one_of(session: Session, *, user: User, session_id: int) -> bool:
    """End one of the user's own sessions; False when it is not hers."""
    result = session.execute(
        delete(AuthSession).where(
            col(AuthSession.id) == session_id, col(AuthSession.user_id) == user.id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_others(session: Session, *, user: User, keep: AuthSession) -> None:
    """Log out every other browser of this user."""
    session.execute(
        delete(AuthSession).where(
            col(AuthSession.user_id) == user.id, col(AuthSession.id) != keep.id
        )
    )


def active(session: Session, *, user: User) -> list[AuthSession]:
    """The user's sessions, most recently used first."""
    return list(
        session.exec(
            select(AuthSession)
            .where(AuthSession.user_id == user.id, col(AuthSession.mfa_pending).is_(False))
            .order_by(col(AuthSession.last_seen_at).desc())
        ).all()
    )


def export(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Her login sessions (the browsers and devices she is signed in on), for her export."""
    rows = session.exec(
        select(AuthSession).where(AuthSession.user_id == user.id).order_by(col(AuthSession.id))
    ).all()
    return [
        {
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
            "user_agent": row.user_agent,
            "ip_address": row.ip_address,
        }
        for row in rows
    ]


def erase(session: Session, *, user: User) -> None:
    """End and forget every session of hers."""
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user.id))
