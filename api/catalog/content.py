"""A course's modules, lessons and steps, read once per course version and kept per process.

Every lesson page, course page and "Vandaag" needs the same course content; reading and
building it on every request would double a course page's cost and add three statements
(docs/performance.md#course-content-once-per-version). The `course` row, which a page reads
anyway, carries `content_version`, which database triggers bump whenever a module, lesson or step of
the course changes (migration d2a9e4c1b7f3). A cached copy is used only while its version is
the course's current one, so a studio edit shows on the next request in every worker.

The cached objects are shared between requests and threads: read them, never change them or
add them to a session (studio and import code read content with `service.modules_of`).
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Protocol

from sqlmodel import Session, col, select

from api.catalog.models import Course, Lesson, Module, Step, StepKind
from api.kit.ids import id_of

# Far more courses than a small platform has; a bound so that the cache cannot grow unchecked.
MAX_COURSES = 500


class WithLessons(Protocol):
    """A module with its lessons in order: a `Part` here, a `ModuleOutline` in an outline."""

    @property
    def module(self) -> Module: ...

    @property
    def lessons(self) -> Sequence[Lesson]: ...


def places(parts: Iterable[WithLessons]) -> dict[int | None, int]:
    """Each lesson's place in course order (from 0), by lesson id."""
    lessons = (lesson for part in parts for lesson in part.lessons)
    return {lesson.id: place for place, lesson in enumerate(lessons)}


def modules_by_lesson(parts: Iterable[WithLessons]) -> dict[int | None, Module]:
    """Each lesson's module, by lesson id."""
    return {lesson.id: part.module for part in parts for lesson in part.lessons}


@dataclass(frozen=True)
class Part:
    """A module with its lessons, in order."""

    module: Module
    lessons: tuple[Lesson, ...]


@dataclass(frozen=True)
class CourseContent:
    """One version of a course's content."""

    course_id: int
    version: int
    # With the id, the moment the course was made: SQLite may give a deleted course's id to a
    # new course, whose version could by chance match the old one's.
    created_at: datetime
    parts: tuple[Part, ...]
    steps: dict[int, tuple[Step, ...]]  # by lesson id, in order

    def steps_of(self, lesson: Lesson) -> tuple[Step, ...]:
        return self.steps.get(id_of(lesson), ())

    # Worked out once per version, like `practised`: every outline of this version asks for
    # them (service.CourseOutline), "Vandaag" for each of her courses on every visit.
    @cached_property
    def place_of(self) -> dict[int | None, int]:
        return places(self.parts)

    @cached_property
    def module_of(self) -> dict[int | None, Module]:
        return modules_by_lesson(self.parts)

    @cached_property
    def practised(self) -> dict[int, tuple[int, Lesson, tuple[Step, ...]]]:
        """The lessons with exercise or breathing steps, by id: each one's place in the course,
        the lesson and those steps in order. Worked out once per version ("Vandaag" asks on
        every visit); computing it twice in two threads at once gives the same value."""
        kinds = (StepKind.exercise.value, StepKind.breathing.value)
        found: dict[int, tuple[int, Lesson, tuple[Step, ...]]] = {}
        lessons = (lesson for part in self.parts for lesson in part.lessons)
        for place, lesson in enumerate(lessons):
            chosen = tuple(step for step in self.steps_of(lesson) if step.kind in kinds)
            if chosen:
                found[id_of(lesson)] = (place, lesson, chosen)
        return found


def version_of(course: Course) -> tuple[int, datetime, int]:
    """The version of a course's content as a key for what is made from it (rendered parts):
    its id, the moment it was made (see `CourseContent.created_at`) and `content_version`."""
    return (id_of(course), course.created_at, course.content_version)


_cache: OrderedDict[int, CourseContent] = OrderedDict()
_lock = threading.Lock()


def content_of(session: Session, courses: Sequence[Course]) -> dict[int, CourseContent]:
    """The content of each course at its version: from the cache, else read (three statements
    for all courses that missed) and kept."""
    found: dict[int, CourseContent] = {}
    missing: list[Course] = []
    with _lock:
        for course in courses:
            cached = _cache.get(id_of(course))
            if (
                cached is not None
                and cached.version == course.content_version
                and cached.created_at == course.created_at
            ):
                _cache.move_to_end(cached.course_id)
                found[cached.course_id] = cached
            else:
                missing.append(course)
    if not missing:
        return found
    fresh = _read(session, missing)
    with _lock:
        for content in fresh.values():
            _cache[content.course_id] = content
            _cache.move_to_end(content.course_id)
        while len(_cache) > MAX_COURSES:
            _cache.popitem(last=False)
    return found | fresh


def modules_and_lessons(
    session: Session, course_ids: Sequence[int | None]
) -> tuple[Sequence[Module], Sequence[Lesson]]:
    """The courses' modules and lessons, each in course order (two statements for all)."""
    modules = session.exec(
        select(Module)
        .where(col(Module.course_id).in_(course_ids))
        .order_by(col(Module.course_id), col(Module.position))
    ).all()
    lessons = session.exec(
        select(Lesson)
        .where(col(Lesson.course_id).in_(course_ids))
        .order_by(col(Lesson.course_id), col(Lesson.position))
    ).all()
    return modules, lessons


def _read(session: Session, courses: Sequence[Course]) -> dict[int, CourseContent]:
    ids = [course.id for course in courses]
    modules, lessons = modules_and_lessons(session, ids)
    steps = session.exec(
        select(Step)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .where(col(Lesson.course_id).in_(ids))
        .order_by(col(Step.lesson_id), col(Step.position))
    ).all()
    # Out of the request's session: a rollback there would expire them for every later reader.
    for row in (*modules, *lessons, *steps):
        session.expunge(row)
    by_module: dict[int | None, list[Lesson]] = {module.id: [] for module in modules}
    for lesson in lessons:
        if lesson.module_id in by_module:
            by_module[lesson.module_id].append(lesson)
    by_lesson: dict[int, list[Step]] = {}
    for step in steps:
        by_lesson.setdefault(step.lesson_id, []).append(step)
    parts: dict[int, list[Part]] = {id_of(course): [] for course in courses}
    for module in modules:
        parts[module.course_id].append(Part(module, tuple(by_module[module.id])))
    lesson_course = {lesson.id: lesson.course_id for lesson in lessons}
    steps_by_course: dict[int, dict[int, tuple[Step, ...]]] = {cid: {} for cid in parts}
    for lesson_id, items in by_lesson.items():
        steps_by_course[lesson_course[lesson_id]][lesson_id] = tuple(items)
    return {
        id_of(course): CourseContent(
            course_id=id_of(course),
            version=course.content_version,
            created_at=course.created_at,
            parts=tuple(parts[id_of(course)]),
            steps=steps_by_course[id_of(course)],
        )
        for course in courses
    }
