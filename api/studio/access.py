"""Which courses a studio user may work on: instructors their own, admins every course.

Every studio page and form asks here, so the rule lives in one place. The course is looked up
by slug whatever its status (drafts included) and refused with 403 when it is someone else's.
"""

from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course
from api.catalog.packages.schema import is_slug
from api.errors import Forbidden, NotFound
from api.i18n import gettext as _


def owned_course(session: Session, *, viewer: User, slug: str) -> Course:
    """The course, when the viewer teaches it (or is an admin); NotFound or Forbidden."""
    if not is_slug(slug):
        raise NotFound(_("We could not find this course."))
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None:
        raise NotFound(_("We could not find this course."))
    if not catalog.can_preview(viewer, course):
        raise Forbidden(_("This course belongs to another instructor."))
    return course
