"""The stored files a package names: each must belong to its instructor or come with the package.

A package names files by name only (its cover, its lessons' uploaded videos, its steps'
pictures), and a name is all
it takes to show a file to learners. So an import may name a file that one of the instructor's
courses owns already, or one the package brings in its media/ folder (api/media/imports.py
stores those first); any other name is refused, whatever the folder holds.
"""

from collections.abc import Collection

from sqlmodel import Session

from api.catalog.packages.load import Problem
from api.catalog.packages.schema import CoursePackage, MediaRef
from api.i18n import gettext as _
from api.media import owners
from api.media.models import MediaKind


def kind_problem(ref: MediaRef) -> str | None:
    """What is wrong with the kind of file a name promises, if anything."""
    kind = owners.kind_of(ref.name)
    if ref.picture:
        if kind is None:
            return _(
                "%(name)s is not a picture (.jpg, .png, .webp or .svg) or a short video "
                "(.mp4 or .webm)",
                name=ref.name,
            )
        return None
    if ref.video and kind != MediaKind.video:
        return _("%(name)s is not a video file (.mp4 or .webm)", name=ref.name)
    if not ref.video and kind != MediaKind.image:
        return _("%(name)s is not an image file (.jpg, .png or .webp)", name=ref.name)
    return None


def problem(package: CoursePackage, ref: MediaRef, message: str) -> Problem:
    """A problem located at the line of the package that names the file."""
    return Problem(ref.file, package.lines.get(ref.where), ref.field, message)


def problems(
    session: Session, package: CoursePackage, *, instructor_id: int, brought: Collection[str]
) -> list[Problem]:
    """Every name in the package that the instructor may not use: empty when all are fine.

    `brought` are the names of files that come with this import, which need no owner yet.
    """
    refs = package.media_refs()
    others = {ref.name for ref in refs if ref.name not in brought}
    mine = owners.owned(session, names=others, instructor_id=instructor_id)
    found = []
    for ref in refs:
        wrong_kind = kind_problem(ref)
        if wrong_kind:
            found.append(problem(package, ref, wrong_kind))
        elif ref.name in others and ref.name not in mine:
            # The same words whether the file is someone else's or not there at all: an
            # import does not learn which names other instructors use.
            message = _(
                "%(name)s is not one of your files in Kern; put the file in the package's "
                "media/ folder, or upload it in the studio after importing",
                name=ref.name,
            )
            found.append(problem(package, ref, message))
    return found


def record_owners(session: Session, package: CoursePackage, *, course_id: int) -> None:
    """Record the course as an owner of every file it now names."""
    for ref in package.media_refs():
        kind = MediaKind.video if ref.video else owners.kind_of(ref.name) or MediaKind.image
        owners.record(session, name=ref.name, course_id=course_id, kind=kind)
