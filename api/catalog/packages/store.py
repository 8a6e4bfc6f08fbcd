"""Import a course package into the database: create or update the course by slug."""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import profile as instructor_profile
from api.catalog.models import Course, CourseStatus, Lesson, Module, Schedule, Step
from api.catalog.packages import media
from api.catalog.packages.load import PackageError
from api.catalog.packages.questionnaires import held, questionnaire_problems, sync_questionnaires
from api.catalog.packages.rows import assign as _assign
from api.catalog.packages.rows import delete_ids as _delete
from api.catalog.packages.schema import (
    AnyStep,
    BreathingStep,
    CourseManifest,
    CoursePackage,
    ExerciseStep,
    ModuleManifest,
    PackageLesson,
    PackageModule,
    PackageSchedule,
)
from api.db import utcnow
from api.errors import Conflict
from api.i18n import gettext as _

Progress = Callable[[str], None]
Placed = tuple[Lesson, PackageLesson]  # a lesson row and the package lesson it now holds


@dataclass(frozen=True)
class ImportResult:
    """What an import did to one course."""

    course: Course
    created: bool
    changed: bool
    modules: int
    lessons: int
    steps: int

    @property
    def outcome(self) -> str:
        """Created, Updated or Unchanged."""
        return "Created" if self.created else "Updated" if self.changed else "Unchanged"


def existing_course(session: Session, package: CoursePackage, *, instructor: User) -> Course | None:
    """The course the package updates (None: it makes a new one); Conflict when it is another
    instructor's."""
    course = session.exec(select(Course).where(Course.slug == package.slug)).first()
    if course is not None and course.instructor_id != instructor.id:
        raise Conflict(
            _(
                "The course %(slug)s belongs to another instructor; import it as that instructor.",
                slug=package.slug,
            )
        )
    return course


def import_package(
    session: Session,
    package: CoursePackage,
    *,
    instructor: User,
    progress: Progress | None = None,
    brought: Collection[str] = (),
) -> ImportResult:
    """Make the course with the package's slug match the package, in the caller's transaction.

    Every stored file the package names must be the instructor's, or be among `brought`: the
    files this import has just stored (api/media/imports.py). Nothing is written otherwise.
    """
    course = existing_course(session, package, instructor=instructor)
    refused = media.problems(session, package, instructor_id=_id(instructor), brought=brought)
    current = held(session, course)
    refused += questionnaire_problems(
        session, package, instructor=instructor, course=course, current=current
    )
    if refused:
        raise PackageError(refused)
    values = _course_values(package.course)
    created = course is None
    if course is None:
        course = Course(slug=package.slug, instructor_id=_id(instructor), **values)
        _stamp(course, created=True)
        session.add(course)
        session.flush()
    changed = _assign(course, values)
    changed |= _sync_content(session, course, package, progress or (lambda _title: None))
    changed |= sync_questionnaires(session, course, package, current=current)
    media.record_owners(session, package, course_id=_id(course))
    if package.course.instructor is not None:
        # The package carries its instructor's profile; the importing instructor's becomes it.
        profile = package.course.instructor
        instructor_profile.save(
            session,
            user_id=_id(instructor),
            bio=profile.bio,
            credentials=profile.credentials,
            photo_alt=profile.photo_alt,
            photo=profile.photo,
            replace_photo=True,
        )
    if changed and not created:
        _stamp(course, created=False)
    session.flush()
    steps = sum(len(lesson.meta.steps) for lesson in package.lessons.values())
    return ImportResult(
        course=course,
        created=created,
        changed=changed or created,
        modules=len(package.course.modules),
        lessons=package.lesson_count,
        steps=steps,
    )


def _stamp(course: Course, *, created: bool) -> None:
    """Record a change: a new version, and the moment of publication."""
    now = utcnow()
    if not created:
        course.version += 1
        course.updated_at = now
    # published_at is set exactly while the course is published, from the moment it was.
    if course.status == CourseStatus.published and course.published_at is None:
        course.published_at = now
    elif course.status != CourseStatus.published:
        course.published_at = None


def _sync_content(
    session: Session, course: Course, package: CoursePackage, progress: Progress
) -> bool:
    """Modules by position, lessons by slug, steps by position; only differences are written."""
    course_id = _id(course)
    modules = list(
        session.exec(
            select(Module)
            .where(Module.course_id == course_id)
            .order_by(col(Module.position), col(Module.id))
        )
    )
    lessons = {
        row.slug: row for row in session.exec(select(Lesson).where(Lesson.course_id == course_id))
    }
    wanted = package.modules()
    changed, module_rows = _sync_modules(session, course_id, modules, wanted)
    placed: list[Placed] = []
    for module_row, module in zip(module_rows, wanted, strict=True):
        for position, lesson in enumerate(module.lessons):
            progress(lesson.meta.title)
            values = _lesson_values(lesson, module_id=_id(module_row), position=position)
            lesson_row = lessons.pop(lesson.meta.slug, None)
            if lesson_row is None:
                lesson_row = Lesson(course_id=course_id, slug=lesson.meta.slug, **values)
                session.add(lesson_row)
                changed = True
            # Updated in place, so learners' progress that refers to the lesson id stays;
            # a new version tells a studio tab still open on the lesson that it changed.
            elif _assign(lesson_row, values):
                lesson_row.version += 1
                changed = True
            placed.append((lesson_row, lesson))
    session.flush()
    changed |= _sync_steps(session, course_id, placed)
    # Lessons that stay have been moved to their new modules above, before any module goes.
    removed_lessons = [_id(row) for row in lessons.values()]
    removed_modules = [_id(row) for row in modules[len(module_rows) :]]
    _delete(session, Step, Step.lesson_id, removed_lessons)
    _delete(session, Lesson, Lesson.id, removed_lessons)
    _delete(session, Module, Module.id, removed_modules)
    return changed or bool(removed_lessons or removed_modules)


def _sync_modules(
    session: Session, course_id: int, rows: list[Module], wanted: list[PackageModule]
) -> tuple[bool, list[Module]]:
    """Update the modules in place by position and add missing ones; surplus rows are left."""
    changed = False
    result: list[Module] = []
    for position, module in enumerate(wanted):
        values = _module_values(module.manifest, position)
        if position < len(rows):
            changed |= _assign(rows[position], values)
            result.append(rows[position])
        else:
            result.append(Module(course_id=course_id, **values))
            session.add(result[-1])
            changed = True
    session.flush()
    return changed, result


def _sync_steps(session: Session, course_id: int, placed: list[Placed]) -> bool:
    """Steps matched by position within their lesson, so a practice log keeps its step."""
    existing: dict[int, list[Step]] = {}
    query = (
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(Lesson.course_id == course_id)
        .order_by(col(Step.lesson_id), col(Step.position), col(Step.id))
    )
    for row in session.exec(query):
        existing.setdefault(row.lesson_id, []).append(row)
    changed = False
    surplus: list[int] = []
    for lesson_row, lesson in placed:
        rows = existing.get(_id(lesson_row), [])
        for position, step in enumerate(lesson.meta.steps):
            values = _step_values(step, position)
            if position < len(rows):
                changed |= _assign(rows[position], values)
            else:
                session.add(Step(lesson_id=_id(lesson_row), **values))
                changed = True
        surplus += [_id(row) for row in rows[len(lesson.meta.steps) :]]
    session.flush()
    _delete(session, Step, Step.id, surplus)
    return changed or bool(surplus)


def _id(row: User | Course | Module | Lesson | Step) -> int:
    """The id of a flushed row."""
    if row.id is None:
        raise RuntimeError(f"{type(row).__name__} has no id: flush before using it")
    return row.id


def _course_values(course: CourseManifest) -> dict[str, Any]:
    return {
        "title": course.title,
        "subtitle": course.subtitle,
        "description": course.description,
        "language": course.language,
        "price_cents": course.price_cents,
        "status": course.status.value,
        # A course in cohorts drips from its cohort's start (schema.PackageSchedule).
        "schedule": (
            Schedule.drip.value
            if course.schedule == PackageSchedule.cohorts
            else course.schedule.value
        ),
        "in_cohorts": course.schedule == PackageSchedule.cohorts,
        "cohort_preparation": course.before_start or "",
        "cover_image": course.cover_image,
        "outcomes": list(course.outcomes),
        "faq": [{"question": entry.question, "answer": entry.answer} for entry in course.faq],
        "inactive_after_days": course.inactive_after_days,
        "plan_instalments": course.payment_plan.instalments if course.payment_plan else 0,
        "plan_instalment_cents": (
            course.payment_plan.instalment_cents if course.payment_plan else None
        ),
        "cover_alt": course.cover_alt or None,
        "testimonials": [
            {"name": item.name, "text": item.text, "permission_on": item.permission_on.isoformat()}
            for item in course.testimonials
        ]
        or None,
    }


def _module_values(module: ModuleManifest, position: int) -> dict[str, Any]:
    return {
        "position": position,
        "title": module.title,
        "summary": module.summary,
        "unlock_after_days": module.unlock_after_days,
    }


def _lesson_values(lesson: PackageLesson, *, module_id: int, position: int) -> dict[str, Any]:
    meta, video = lesson.meta, lesson.meta.video
    return {
        "module_id": module_id,
        "position": position,
        "title": meta.title,
        "body": lesson.body,
        "video_provider": video.provider.value if video else None,
        "video_ref": video.id if video else None,
        "video_title": video.title if video else "",
        "estimated_minutes": meta.estimated_minutes,
        "free_preview": meta.free_preview,
        "journal_prompt": meta.journal_prompt,
    }


def _step_values(step: AnyStep, position: int) -> dict[str, Any]:
    # Every column is given, so a step that changes kind loses the fields of its old kind.
    exercise = step if isinstance(step, ExerciseStep) else None
    breathing = step if isinstance(step, BreathingStep) else None
    hold = exercise.hold_seconds if exercise else breathing.hold_seconds if breathing else None
    return {
        "position": position,
        "kind": step.kind,
        "title": step.title,
        "body": step.body,
        "hold_seconds": hold,
        "relax_seconds": exercise.relax_seconds if exercise else None,
        "reps": exercise.reps if exercise else None,
        "sets": exercise.sets if exercise else None,
        "rest_seconds": exercise.rest_seconds if exercise else None,
        "side": exercise.side.value if exercise and exercise.side else None,
        "cues": list(exercise.cues) if exercise else [],
        "inhale_seconds": breathing.inhale_seconds if breathing else None,
        "exhale_seconds": breathing.exhale_seconds if breathing else None,
        "cycles": breathing.cycles if breathing else None,
        "media_file": exercise.picture.file if exercise and exercise.picture else None,
        "media_alt": exercise.picture.alt if exercise and exercise.picture else None,
    }
