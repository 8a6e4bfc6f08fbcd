"""Words of earlier participants on a course page, added by the instructor with their permission.

Each is kept with the course (JSON, as its FAQ is) as {name, text, permission_on}: a first
name, the words, and the day the instructor noted that the participant agreed to have them
shown. Without that tick nothing is stored.
"""

from datetime import date
from typing import Any

from sqlmodel import Session

from api.catalog.models import Course
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.studio.courses import clean_line, clean_text, touch

MAX_NAME = 60
MAX_TEXT = 600
MAX_COUNT = 20


def checked(name: str, text: str, *, permission: bool) -> tuple[str, str]:
    """The first name and words, cleaned; FormError for what is missing or too long."""
    name, text = clean_line(name), clean_text(text)
    problems = {}
    if not name:
        problems["testimonial_name"] = _("Fill in the participant's first name.")
    elif len(name) > MAX_NAME:
        problems["testimonial_name"] = _("At most %(num)s characters, please.", num=MAX_NAME)
    if not text:
        problems["testimonial_text"] = _("Fill in what she said.")
    elif len(text) > MAX_TEXT:
        problems["testimonial_text"] = _("At most %(num)s characters, please.", num=MAX_TEXT)
    if not permission:
        problems["testimonial_permission"] = _(
            "Only with her permission: tick the box once she has agreed."
        )
    if problems:
        raise FormError(problems)
    return name, text


def add(
    session: Session, *, course: Course, name: str, text: str, permission: bool, today: date
) -> dict[str, Any]:
    """Add a testimonial at the end, noting today as the day of her permission."""
    name, text = checked(name, text, permission=permission)
    shown = course.testimonials or []
    if len(shown) >= MAX_COUNT:
        raise FormError(
            {"testimonial_text": _("A course shows at most %(num)s testimonials.", num=MAX_COUNT)}
        )
    item = {"name": name, "text": text, "permission_on": today.isoformat()}
    # A new list, so the JSON column is seen to change.
    course.testimonials = [*shown, item]
    session.add(course)
    session.flush()
    touch(session, course=course)
    return item


def remove(session: Session, *, course: Course, number: int) -> None:
    """Take the testimonial at place `number` (from 1) off the course page."""
    shown = course.testimonials or []
    if not 1 <= number <= len(shown):
        raise NotFound(_("We could not find this testimonial."))
    course.testimonials = [item for place, item in enumerate(shown, 1) if place != number] or None
    session.add(course)
    session.flush()
    touch(session, course=course)
