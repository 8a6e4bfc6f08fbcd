"""Reading and saving the terms of sale: each save that changes the text is a new version."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.errors import FormError
from api.i18n import gettext as _
from api.terms.models import TermsVersion

MAX_LENGTH = 60_000


class TermsForm(BaseModel):
    """The studio's form: the Dutch text and, optionally, the English one (Markdown)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    body_nl: str = ""
    body_en: str = ""

    @classmethod
    def of(cls, terms: TermsVersion | None) -> "TermsForm":
        return cls(body_nl=terms.body_nl, body_en=terms.body_en) if terms else cls()


def current(session: Session) -> TermsVersion | None:
    """The terms in force: the newest version (None before an admin wrote any)."""
    return session.exec(select(TermsVersion).order_by(col(TermsVersion.id).desc())).first()


def current_version(session: Session) -> int | None:
    """Only the number of the terms in force, for an order to record."""
    return session.exec(
        select(TermsVersion.id).order_by(col(TermsVersion.id).desc()).limit(1)
    ).first()


def version(session: Session, number: int) -> TermsVersion | None:
    return session.get(TermsVersion, number)


def body_for(terms: TermsVersion, language: str) -> str:
    """The text in her language: Dutch, else the English version when there is one (also for
    a Norwegian reader, who reads English more readily than Dutch), else the Dutch one."""
    return terms.body_en if language != "nl" and terms.body_en.strip() else terms.body_nl


def save(session: Session, *, form: TermsForm, user: User | None, now: datetime) -> TermsVersion:
    """Store the texts as a new version; the same texts again keep the version in force."""
    body_nl, body_en = form.body_nl.strip(), form.body_en.strip()
    errors: dict[str, str] = {}
    if not body_nl:
        errors["body_nl"] = _("Write the terms in Dutch; the English text is optional.")
    for name, body in (("body_nl", body_nl), ("body_en", body_en)):
        if len(body) > MAX_LENGTH:
            errors[name] = _("Use at most %(n)s characters.", n=MAX_LENGTH)
    if errors:
        raise FormError(errors)
    latest = current(session)
    if latest is not None and (latest.body_nl, latest.body_en) == (body_nl, body_en):
        return latest
    terms = TermsVersion(
        body_nl=body_nl, body_en=body_en, created_at=now, created_by_id=user.id if user else None
    )
    session.add(terms)
    session.flush()
    return terms
