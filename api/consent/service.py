"""Giving, checking and withdrawing consent; her consents in her data export and erasure.

The `consent` table is the history (each consent with its text version and moments); the account
row carries the current state of the health-data consent, which every signed-in request has in
hand already. Both are written together here and nowhere else.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.consent.models import Consent, ConsentKind
from api.consent.texts import HEALTH_DATA_VERSION
from api.errors import AppError
from api.i18n import gettext as _
from api.kit.ids import id_of


class ConsentRequired(AppError):
    """Health data is stored only with her consent to the current text."""

    status_code = 409
    code = "consent_required"

    def __init__(self) -> None:
        super().__init__(
            _(
                "Kern only keeps what you record about your body with your permission. Nothing "
                "has been saved; give permission first, or keep it on this device for now."
            )
        )


class ConsentTextChanged(AppError):
    """She agreed to a text that is no longer the current one (the page was open for long)."""

    status_code = 409
    code = "consent_text_changed"

    def __init__(self) -> None:
        super().__init__(_("The text has changed in the meantime. Please read it again."))


def has_health_consent(user: User) -> bool:
    """Whether she agreed to the current health-data text and has not withdrawn (no SQL)."""
    return user.health_consent_version == HEALTH_DATA_VERSION


def require_health_consent(user: User) -> None:
    """Raise ConsentRequired unless her health data may be stored now."""
    if not has_health_consent(user):
        raise ConsentRequired


def health_consent_withdrawn(user: User) -> bool:
    """Whether she withdrew her consent and has not given it again (what her therapist sees)."""
    return user.health_consent_withdrawn_at is not None and user.health_consent_version is None


def give_health_consent(
    session: Session, *, user: User, version: str, language: str, now: datetime
) -> Consent:
    """Record her consent to the text of `version`, as read in `language`; again is a no-op."""
    if version != HEALTH_DATA_VERSION:
        raise ConsentTextChanged
    current = _current(session, user_id=user.id, kind=ConsentKind.health_data)
    if current is not None and current.text_version == version and has_health_consent(user):
        return current
    consent = Consent(
        user_id=id_of(user),
        kind=ConsentKind.health_data,
        text_version=version,
        language=language,
        given_at=now,
    )
    session.add(consent)
    user.health_consent_version = version
    user.health_consent_withdrawn_at = None
    session.add(user)
    session.flush()
    return consent


def withdraw_health_consent(session: Session, *, user: User, now: datetime) -> bool:
    """Close her open health-data consents; False when there was none to withdraw."""
    result = session.execute(
        update(Consent)
        .where(
            col(Consent.user_id) == user.id,
            col(Consent.kind) == ConsentKind.health_data,
            col(Consent.withdrawn_at).is_(None),
        )
        .values(withdrawn_at=now)
    )
    if not result.rowcount and user.health_consent_version is None:  # type: ignore[attr-defined]
        return False
    user.health_consent_version = None
    user.health_consent_withdrawn_at = now
    session.add(user)
    session.flush()
    return True


def _current(session: Session, *, user_id: int | None, kind: str) -> Consent | None:
    return session.exec(
        select(Consent)
        .where(Consent.user_id == user_id, Consent.kind == kind)
        .order_by(col(Consent.given_at).desc(), col(Consent.id).desc())
    ).first()


@dataclass(frozen=True)
class HealthConsentState:
    """What her account page says about her health-data consent."""

    given: bool
    latest: Consent | None  # the most recent consent row, given or withdrawn
    withdrawn_at: datetime | None


def health_consent_state(session: Session, *, user: User) -> HealthConsentState:
    """Her current health-data consent with its latest record (one statement)."""
    latest = _current(session, user_id=user.id, kind=ConsentKind.health_data)
    return HealthConsentState(
        given=has_health_consent(user),
        latest=latest,
        withdrawn_at=user.health_consent_withdrawn_at if health_consent_withdrawn(user) else None,
    )


# --- her data: export and erasure (one function per direction, for the data registry) ---------


def export_consents(session: Session, *, user: User) -> list[dict[str, Any]]:
    """Every consent she gave, oldest first, with the text version and moments."""
    rows = session.exec(
        select(Consent)
        .where(Consent.user_id == user.id)
        .order_by(col(Consent.given_at), col(Consent.id))
    ).all()
    return [
        {
            "kind": row.kind,
            "text_version": row.text_version,
            "language": row.language,
            "given_at": row.given_at.isoformat(),
            "withdrawn_at": row.withdrawn_at and row.withdrawn_at.isoformat(),
        }
        for row in rows
    ]


def erase_consents(session: Session, *, user: User) -> None:
    """Remove her consent history (the account row's copy goes with the account)."""
    session.execute(delete(Consent).where(col(Consent.user_id) == user.id))
