"""Requests made by address (sign up, a reset link, a sign-in link), answered by the mail worker.

The request itself stores one row and checks its rate limits, the same statements whatever the
address, so neither the answer nor the time it takes tells a visitor whether an address has an
account. The mail worker then looks the address up and sends what fits: a verification link for
a new account, a "you already have an account" note, a reset or sign-in link, or nothing.
"""

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.accounts import emails, passwords, service, tokens
from api.accounts.models import AccountRequest, RequestKind, Role, TokenPurpose, User
from api.config import Settings
from api.db import WRITE_INTENT, utcnow
from api.errors import FormError
from api.ratelimit import service as ratelimit

log = logging.getLogger("kern.accounts")

# A request the worker could not answer for this long (it was down, or the request keeps
# failing) is dropped: she will have asked again, and a sign-in link a day late is no help.
MAX_AGE = timedelta(days=1)


def _ask(
    session: Session, request: AccountRequest, checks: list[tuple[str, ratelimit.Limit]]
) -> None:
    """Refuse when a limit holds (TooManyAttempts), else count the attempt and store it."""
    ratelimit.guard(session, checks)
    ratelimit.record(session, *(key for key, _limit in checks))
    session.add(request)
    session.flush()


def _target(next_path: str | None) -> str | None:
    """A page to continue to, if it can be stored (one that cannot is dropped, not cut)."""
    if not next_path or len(next_path) > service.MAX_NEXT_LENGTH:
        return None
    # PostgreSQL refuses text with a NUL character, and no page has a control character.
    return next_path if next_path.isprintable() else None


def register(
    session: Session,
    *,
    name: str,
    email: str,
    password: str,
    language: str,
    next_path: str | None,
    ip: str,
) -> None:
    """Check a sign-up and queue it; FormError names fields whatever the address's state."""
    ip_key = f"register:ip:{ip}"
    ratelimit.guard(session, [(ip_key, ratelimit.REGISTER_PER_IP)])
    # Refused forms count too: every attempt costs work (a password hash, a check), and a script
    # should not get that without limit.
    ratelimit.record(session, ip_key)
    name, email = name.strip(), service.normalise_email(email)
    if problems := service.signup_problems(
        name=name, email=email, password=password, language=language
    ):
        raise FormError(problems)
    request = AccountRequest(
        kind=RequestKind.register.value,
        email=email,
        name=name,
        # Hashed here for every sign-up, new address or not: the slowest step costs the same.
        password_hash=passwords.hash_password(password),
        language=language,
        next_path=_target(next_path),
    )
    _ask(session, request, [(f"register:account:{email}", ratelimit.REGISTER_PER_ADDRESS)])


def _address(email: str) -> str:
    """The normalised address; raises FormError when it cannot be one."""
    email = service.normalise_email(email)
    if problem := service.email_problem(email):
        raise FormError({"email": problem})
    return email


def ask_reset(session: Session, *, email: str, ip: str) -> None:
    """Queue a password-reset link for this address, if it has an account."""
    email = _address(email)
    request = AccountRequest(kind=RequestKind.reset_password.value, email=email)
    checks = [
        (f"reset:account:{email}", ratelimit.RESET_PER_ACCOUNT),
        (f"reset:ip:{ip}", ratelimit.RESET_PER_IP),
    ]
    _ask(session, request, checks)


def ask_sign_in_link(session: Session, *, email: str, next_path: str | None, ip: str) -> None:
    """Queue a sign-in link for this address, if it has an account."""
    email = _address(email)
    request = AccountRequest(
        kind=RequestKind.sign_in.value, email=email, next_path=_target(next_path)
    )
    checks = [
        (f"sign-in-link:account:{email}", ratelimit.SIGN_IN_LINK_PER_ADDRESS),
        (f"sign-in-link:ip:{ip}", ratelimit.SIGN_IN_LINK_PER_IP),
    ]
    _ask(session, request, checks)


# --- the mail worker's side ---------------------------------------------------------------


def _answer_register(session: Session, settings: Settings, request: AccountRequest) -> None:
    existing = service.find_by_email(session, request.email)
    if existing is not None:
        emails.already_registered(session, settings, user=existing)
        return
    user = User(
        name=request.name or "",
        email=request.email,
        password_hash=request.password_hash or "",
        role=Role.learner.value,
        language=request.language,
    )
    session.add(user)
    session.flush()
    service.send_verification(session, settings, user=user, next_path=request.next_path)


def _answer_reset(session: Session, settings: Settings, request: AccountRequest) -> None:
    user = service.find_by_email(session, request.email)
    if user is None:
        return
    token = tokens.issue(
        session,
        user=user,
        purpose=TokenPurpose.reset_password,
        lifetime=service.RESET_PASSWORD_LIFETIME,
    )
    emails.reset_password(
        session, settings, user=user, link=f"{settings.base_url}/reset-password/{token}"
    )


def _answer_sign_in(session: Session, settings: Settings, request: AccountRequest) -> None:
    user = service.find_by_email(session, request.email)
    if user is None:
        return
    token = tokens.issue(
        session,
        user=user,
        purpose=TokenPurpose.sign_in,
        lifetime=service.SIGN_IN_LINK_LIFETIME,
        next_path=request.next_path,
    )
    emails.sign_in_link(
        session, settings, user=user, link=f"{settings.base_url}/login/link/{token}"
    )


_ANSWERS = {
    RequestKind.register.value: _answer_register,
    RequestKind.reset_password.value: _answer_reset,
    RequestKind.sign_in.value: _answer_sign_in,
}


def _oldest(session: Session, *, skip: set[int]) -> AccountRequest | None:
    query = (
        select(AccountRequest)
        .where(col(AccountRequest.id).not_in(skip))
        .order_by(col(AccountRequest.created_at), col(AccountRequest.id))
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        # A request another worker is answering right now is passed over, not answered twice.
        query = query.with_for_update(skip_locked=True)
    return session.exec(query).first()


def answer_waiting(
    factory: sessionmaker[Session], settings: Settings, *, now: datetime | None = None
) -> int:
    """Answer every waiting request, each in a transaction of its own; how many were answered."""
    moment = now or utcnow()
    # A plain read first, as the outbox does: an idle worker takes no write lock.
    with factory() as session:
        if session.exec(select(AccountRequest.id).limit(1)).first() is None:
            return 0
    answered = 0
    failed: set[int] = set()
    while True:
        current: int | None = None
        try:
            with factory(execution_options={WRITE_INTENT: True}) as session, session.begin():
                request = _oldest(session, skip=failed)
                if request is None:
                    return answered
                current = request.id
                if request.created_at > moment - MAX_AGE:
                    _ANSWERS[request.kind](session, settings, request)
                session.delete(request)
        except Exception:
            if current is None:
                raise
            # Rolled back whole (no account, no mail); tried again next round.
            log.exception("could not answer account request %s; trying again later", current)
            failed.add(current)
            continue
        answered += 1


def export_for(session: Session, *, user: User) -> list[dict[str, str]]:
    """Requests for her address the mail worker has not answered yet, for her export."""
    rows = session.exec(
        select(AccountRequest)
        .where(AccountRequest.email == user.email)
        .order_by(col(AccountRequest.id))
    ).all()
    return [{"kind": row.kind, "created_at": row.created_at.isoformat()} for row in rows]


def erase_for(session: Session, *, user: User) -> None:
    """Forget unanswered requests for her address (a waiting one would otherwise still mail)."""
    session.execute(delete(AccountRequest).where(col(AccountRequest.email) == user.email))
