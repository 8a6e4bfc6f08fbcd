"""A package's questionnaires and check-ins in the database: checked against what only the
database knows, then written by slug, changing only what differs."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog.models import Course
from api.catalog.packages.load import Problem
from api.catalog.packages.rows import assign as _assign
from api.catalog.packages.rows import delete_ids as _delete
from api.catalog.packages.schema import (
    CheckInManifest,
    CoursePackage,
    QuestionnaireManifest,
    questionnaire_file,
)
from api.db import utcnow
from api.i18n import gettext as _
from api.i18n import ngettext
from api.kit.ids import id_of
from api.questionnaires.models import CheckIn, Measurement, Questionnaire
from api.questionnaires.service import stored_definition


@dataclass(frozen=True)
class Held:
    """A questionnaire the course has now, and how often learners filled it in."""

    row: Questionnaire
    measured: int


def held(session: Session, course: Course | None) -> dict[str, Held]:
    """The course's questionnaires by slug, with their measurement counts (one statement; none
    for a course not yet stored)."""
    if course is None:
        return {}
    measured = (
        select(func.count())
        .where(col(Measurement.questionnaire_id) == Questionnaire.id)
        .correlate(Questionnaire)
        .scalar_subquery()
    )
    rows = session.exec(
        select(Questionnaire, measured).where(Questionnaire.course_id == id_of(course))
    ).all()
    return {row.slug: Held(row, count) for row, count in rows}


def questionnaire_problems(
    session: Session,
    package: CoursePackage,
    *,
    instructor: User,
    course: Course | None,
    current: dict[str, Held],
) -> list[Problem]:
    """What only the database can tell about the package's questionnaires: a slug another
    course has, a band's course that is not hers, and a questionnaire left out that learners
    have filled in (it cannot be deleted)."""
    found = _slug_problems(session, package, instructor, course, current)
    found += _band_course_problems(session, package, instructor)
    found += _removal_problems(package, current)
    return found


def _slug_problems(
    session: Session,
    package: CoursePackage,
    instructor: User,
    course: Course | None,
    current: dict[str, Held],
) -> list[Problem]:
    """The package's questionnaire slugs that another course has already."""
    slugs = [slug for slug in package.questionnaires if slug not in current]
    if not slugs:
        return []
    owners = session.exec(
        select(Questionnaire.slug, Course)
        .join(Course, col(Course.id) == Questionnaire.course_id)
        .where(col(Questionnaire.slug).in_(slugs))
    ).all()
    found = []
    for slug, owner in owners:
        file = questionnaire_file(slug)
        if owner.instructor_id != instructor.id:
            message = _(
                "The questionnaire %(slug)s belongs to another instructor; choose another slug.",
                slug=slug,
            )
        else:
            message = _(
                "Your course %(course)s has a questionnaire %(slug)s already; choose another "
                "slug, or remove it there first.",
                course=owner.slug,
                slug=slug,
            )
        found.append(Problem(file, package.lines.get((file, "slug")), "slug", message))
    return found


def _band_course_problems(
    session: Session, package: CoursePackage, instructor: User
) -> list[Problem]:
    named = {
        (slug, index, band.course)
        for slug, questionnaire in package.questionnaires.items()
        for index, band in enumerate(questionnaire.bands)
        if band.course is not None
    }
    wanted = {course for _slug, _index, course in named} - {package.slug}
    hers = wanted and set(
        session.exec(
            select(Course.slug).where(
                Course.instructor_id == id_of(instructor), col(Course.slug).in_(wanted)
            )
        ).all()
    )
    found = []
    for slug, index, course in sorted(named):
        if course == package.slug or course in hers:
            continue
        file, where = questionnaire_file(slug), f"bands[{index}].course"
        message = _(
            "%(course)s is not one of your courses; name this course or another of yours.",
            course=course,
        )
        found.append(Problem(file, package.lines.get((file, where)), where, message))
    return found


def _removal_problems(package: CoursePackage, current: dict[str, Held]) -> list[Problem]:
    """Questionnaires of the course that the package leaves out but learners filled in."""
    return [
        Problem(
            questionnaire_file(slug),
            None,
            "",
            ngettext(
                "missing from the package, but it has been filled in %(num)s time; it cannot "
                "be deleted, so put the file back (as a draft if it is no longer used).",
                "missing from the package, but it has been filled in %(num)s times; it cannot "
                "be deleted, so put the file back (as a draft if it is no longer used).",
                held.measured,
            ),
        )
        for slug, held in sorted(current.items())
        if held.measured and slug not in package.questionnaires
    ]


def sync_questionnaires(
    session: Session, course: Course, package: CoursePackage, *, current: dict[str, Held]
) -> bool:
    """Questionnaires by slug and the check-ins as one list; only differences are written.
    `current` is what `held` found before (empty for a course this import created)."""
    course_id = id_of(course)
    rows = {slug: held.row for slug, held in current.items()}
    changed = False
    kept: dict[str, Questionnaire] = {}
    for slug, manifest in package.questionnaires.items():
        values = _questionnaire_values(manifest)
        row = rows.pop(slug, None)
        if row is None:
            row = Questionnaire(course_id=course_id, slug=slug, **values)
            session.add(row)
            changed = True
        # A new version tells a studio tab that it changed, and the parsed definition's cache.
        elif _assign(row, values):
            row.version += 1
            row.updated_at = utcnow()
            changed = True
        kept[slug] = row
    session.flush()
    ids = {slug: id_of(row) for slug, row in kept.items()}
    changed |= _sync_check_ins(session, course_id, package.course.check_ins, ids, bool(current))
    # Check-ins that named the questionnaires left out are gone by now.
    _delete(session, Questionnaire, Questionnaire.id, [id_of(row) for row in rows.values()])
    return changed or bool(rows)


def _sync_check_ins(
    session: Session,
    course_id: int,
    wanted: list[CheckInManifest],
    ids: dict[str, int],
    had_questionnaires: bool,
) -> bool:
    """Replace the course's check-ins when the list differs."""
    # Without questionnaires a course has no check-ins, so there is nothing to read.
    rows = (
        list(
            session.exec(
                select(CheckIn)
                .where(CheckIn.course_id == course_id)
                .order_by(col(CheckIn.position), col(CheckIn.id))
            )
        )
        if had_questionnaires
        else []
    )
    values = [_check_in_values(check_in, position, ids) for position, check_in in enumerate(wanted)]
    names = ("position", "questionnaire_id", "moment", "module_position", "every_days")
    if [{name: getattr(row, name) for name in names} for row in rows] == values:
        return False
    _delete(session, CheckIn, CheckIn.id, [id_of(row) for row in rows])
    session.add_all(CheckIn(course_id=course_id, **value) for value in values)
    session.flush()
    return True


def _check_in_values(
    check_in: CheckInManifest, position: int, ids: dict[str, int]
) -> dict[str, Any]:
    return {
        "position": position,
        "questionnaire_id": ids[check_in.questionnaire],
        "moment": check_in.at.value,
        "module_position": check_in.module - 1 if check_in.module is not None else None,
        "every_days": check_in.days,
    }


def _questionnaire_values(manifest: QuestionnaireManifest) -> dict[str, Any]:
    return {
        "title": manifest.title,
        "language": manifest.language,
        "status": manifest.status.value,
        "self_test": manifest.self_test,
        "definition": stored_definition(manifest.definition),
    }
