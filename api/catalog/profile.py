"""The instructor's profile a course page shows: photo, biography (Markdown) and credentials."""

from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import InstructorProfile
from api.db import utcnow
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import id_of

MAX_BIO = 5000
MAX_LINE = 300


def of(session: Session, *, user_id: int) -> InstructorProfile | None:
    """Her profile, if she wrote one (one statement)."""
    return session.get(InstructorProfile, user_id)


def check(*, bio: str, credentials: str, photo_alt: str, has_photo: bool) -> None:
    """FormError with a message per field that is too long, or a photo without its words."""
    problems = {}
    if len(bio.strip()) > MAX_BIO:
        problems["bio"] = _("At most %(num)s characters, please.", num=MAX_BIO)
    if len(credentials.strip()) > MAX_LINE:
        problems["credentials"] = _("At most %(num)s characters, please.", num=MAX_LINE)
    if len(photo_alt.strip()) > MAX_LINE:
        problems["photo_alt"] = _("At most %(num)s characters, please.", num=MAX_LINE)
    elif has_photo and not photo_alt.strip():
        problems["photo_alt"] = _(
            "Describe the photo in a few words, for someone who cannot see it."
        )
    if problems:
        raise FormError(problems)


def save(
    session: Session,
    *,
    user_id: int,
    bio: str,
    credentials: str,
    photo_alt: str,
    photo: str | None = None,
    replace_photo: bool = False,
) -> InstructorProfile:
    """Write her profile; the photo only when `replace_photo` (the form sends none)."""
    profile = of(session, user_id=user_id) or InstructorProfile(user_id=user_id)
    has_photo = photo is not None if replace_photo else profile.photo is not None
    check(bio=bio, credentials=credentials, photo_alt=photo_alt, has_photo=has_photo)
    profile.bio = bio.strip()
    profile.credentials = " ".join(credentials.split())
    profile.photo_alt = " ".join(photo_alt.split())
    if replace_photo:
        profile.photo = photo
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    return profile


def uses_photo(session: Session, *, name: str) -> bool:
    """Whether any instructor shows this file as her photo (one statement)."""
    found = session.exec(select(InstructorProfile.user_id).where(InstructorProfile.photo == name))
    return found.first() is not None


def export(session: Session, *, user: User) -> dict[str, Any] | None:
    """Her profile as she wrote it, or None."""
    profile = of(session, user_id=id_of(user))
    if profile is None:
        return None
    return {
        "photo": profile.photo,
        "photo_alt": profile.photo_alt,
        "bio": profile.bio,
        "credentials": profile.credentials,
        "updated_at": profile.updated_at.isoformat(),
    }


def erase(session: Session, *, user: User) -> None:
    """Delete her profile."""
    session.execute(delete(InstructorProfile).where(col(InstructorProfile.user_id) == id_of(user)))
