"""Two-step verification: TOTP from an authenticator app, with one-time recovery codes."""

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from api.accounts import service, totp
from api.accounts.models import AuthSession, RecoveryCode, User
from api.db import utcnow
from api.errors import FormError
from api.i18n import gettext as _
from api.ratelimit import service as ratelimit


def pending_secret(session: Session, *, user: User) -> str:
    """The secret to show while setting up; created once so a reload shows the same code."""
    if user.has_totp:
        raise FormError({"code": _("Two-step verification is already on.")})
    if not user.totp_secret:
        user.totp_secret = totp.new_secret()
        session.add(user)
        session.flush()
    return user.totp_secret


def enable(session: Session, *, user: User, code: str) -> list[str]:
    """Switch TOTP on after a correct code and end every session (the page opens a new one for
    this browser); returns the recovery codes to show once."""
    secret = pending_secret(session, user=user)
    step = totp.verify(secret, code, last_used_step=None)
    if step is None:
        raise FormError(
            {"code": _("This code is not correct. Check the time on your phone and try again.")}
        )
    user.totp_enabled_at, user.totp_last_step = utcnow(), step
    session.add(user)
    # She may be turning it on because someone else got in: a session opened with the password
    # alone must not outlive the second factor.
    session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    return replace_recovery_codes(session, user=user)


def replace_recovery_codes(session: Session, *, user: User) -> list[str]:
    """New recovery codes; the old ones stop working."""
    assert user.id is not None  # noqa: S101 (a stored user always has an id)
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    codes = totp.new_recovery_codes()
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=totp.hash_recovery_code(code)))
    session.flush()
    return codes


def check(session: Session, *, user: User, code: str) -> bool:
    """True for a fresh TOTP code or an unused recovery code (which is then used up)."""
    if not user.has_totp or not user.totp_secret:
        return False
    step = totp.verify(user.totp_secret, code, last_used_step=user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        session.add(user)
        session.flush()
        return True
    candidate = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == totp.hash_recovery_code(code),
            col(RecoveryCode.used_at).is_(None),
        )
    ).first()
    if candidate is None:
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(col(RecoveryCode.id) == candidate.id, col(RecoveryCode.used_at).is_(None))
        .values(used_at=utcnow())
    )
    return bool(used.rowcount)  # type: ignore[attr-defined]


class WrongCode(FormError):
    """A wrong code at sign-in, said at the code field; answered 400, as a wrong password is."""

    status_code = 400


def check_login_code(session: Session, *, user: User, code: str) -> None:
    """Accept a code at sign-in, or raise WrongCode; TooManyAttempts, whatever the code, once
    too many were wrong."""
    # Ends in ":account:<id>", so deleting her account finds it (api/ratelimit, ACCOUNT_MARK).
    key = f"2fa:account:{user.id}"
    ratelimit.guard(session, [(key, ratelimit.TWO_FACTOR_PER_ACCOUNT)])
    if not check(session, user=user, code=code):
        ratelimit.record(session, key)
        raise WrongCode({"code": _("This code is not correct. Try the newest code from your app.")})
    ratelimit.clear(session, key)


def remaining_recovery_codes(session: Session, *, user: User) -> int:
    """How many recovery codes are still unused."""
    return len(
        session.exec(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None)
            )
        ).all()
    )


def disable(session: Session, *, user: User, password: str) -> None:
    """Switch TOTP off, for learners only: instructors and admins must keep it."""
    if user.needs_totp:
        raise FormError({"password": _("Your role requires two-step verification.")})
    service.confirm_password(session, user=user, password=password, field="password")
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    session.add(user)
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.user_id) == user.id))
    session.flush()
