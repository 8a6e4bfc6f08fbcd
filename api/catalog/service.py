"""Reading courses: the catalog, a course's outline and a lesson, with who may see what.

Each function uses a fixed number of statements whatever the size of the course (course,
modules, lessons, steps: one query each), so pages stay fast as courses grow.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, exists, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import join as orm_join
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.accounts.sessions import Visitor
from api.catalog import schedule
from api.catalog.content import (
    CourseContent,
    content_of,
    modules_and_lessons,
    modules_by_lesson,
    places,
)
from api.catalog.models import (
    Course,
    CourseStatus,
    InstructorProfile,
    Lesson,
    Module,
    Step,
)
from api.catalog.packages.schema import SLUG
from api.clock import local_day
from api.db import utcnow
from api.enrolment.models import Enrolment, EnrolmentStatus
from api.errors import AppError, NotFound
from api.i18n import format_day
from api.i18n import gettext as _
from api.intake.models import ExceptionKind, IntakeException, IntakeHours
from api.kit.ids import id_of
from api.kit.lookup import index_in


@dataclass
class ModuleOutline:
    module: Module
    lessons: list[Lesson] = field(default_factory=list)


@dataclass
class CourseOutline:
    """A course with its instructor, modules and lessons (without steps), in order."""

    course: Course
    instructor: User
    modules: list[ModuleOutline]
    # The viewer's enrolment in this course, whatever its status (None when there is none).
    enrolment: Enrolment | None = None
    # The moment the outline was read for: drip modules open relative to it.
    now: datetime = field(default_factory=utcnow)
    # What the course page shows about the instructor (read with the course, when it is).
    profile: InstructorProfile | None = None
    # Whether the instructor can be booked for an intake (read with the course, when it is).
    takes_intakes: bool = False
    # The cached content the modules were taken from, when they were: it knows each lesson's
    # place and module once per version instead of once per outline.
    content: CourseContent | None = None
    # When each module opens for this enrolment, by module id, as `opens_at` works it out.
    _opens: dict[int | None, datetime | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def enrolled(self) -> bool:
        """Whether the viewer has an active enrolment."""
        return self.enrolment is not None and self.enrolment.is_active

    @property
    def lessons(self) -> list[Lesson]:
        return [lesson for outline in self.modules for lesson in outline.lessons]

    @property
    def lesson_count(self) -> int:
        return sum(len(outline.lessons) for outline in self.modules)

    @property
    def total_minutes(self) -> int:
        return sum(lesson.estimated_minutes for lesson in self.lessons)

    @property
    def first_preview(self) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.free_preview), None)

    @cached_property
    def place_of(self) -> dict[int | None, int]:
        """Each lesson's place in course order (from 0), by lesson id: how far she is is worked
        out from her progress records with it, not by looking each lesson up in them."""
        return self.content.place_of if self.content is not None else places(self.modules)

    @cached_property
    def module_of(self) -> dict[int | None, Module]:
        """Each lesson's module, by lesson id."""
        return (
            self.content.module_of if self.content is not None else modules_by_lesson(self.modules)
        )

    def opens_at(self, module: Module) -> datetime | None:
        """When a module opens for the viewer's enrolment (drip, or her cohort's start); None when
        nothing holds it back or she has no enrolment. Worked out once per module: a page asks
        for every lesson of it."""
        if self.enrolment is None:
            return None
        if module.id not in self._opens:
            self._opens[module.id] = schedule.module_opens_at(self.course, self.enrolment, module)
        return self._opens[module.id]

    def is_open(self, module: Module) -> bool:
        """Whether the module's drip date (if any) has come for the viewer."""
        opens = self.opens_at(module)
        return opens is None or opens <= self.now


class LessonLocked(AppError):
    """The lesson exists but this visitor may not open it (yet)."""

    status_code = 403
    code = "lesson_locked"

    def __init__(
        self,
        outline: CourseOutline | None = None,
        lesson: Lesson | None = None,
        opens_at: datetime | None = None,
    ) -> None:
        if opens_at is not None:
            message = _("This lesson opens on %(day)s.", day=format_day(opens_at))
        elif outline is not None and not outline.course.is_free:
            message = _("Buy the course to open this lesson.")
        else:
            message = _("Enrol in the course to open this lesson.")
        super().__init__(message)
        # The page that explains the lock links back to the course and its free lesson.
        self.outline = outline
        self.lesson = lesson
        self.opens_at = opens_at


@dataclass
class LessonView:
    """One lesson with its steps and its neighbours in the course."""

    outline: CourseOutline
    module: Module
    lesson: Lesson
    steps: list[Step]
    previous: Lesson | None
    next: Lesson | None

    @property
    def number(self) -> int:
        """The lesson's place in the whole course, counting from 1."""
        return next(
            i for i, item in enumerate(self.outline.lessons, 1) if item.id == self.lesson.id
        )


def can_preview(viewer: User | None, course: Course) -> bool:
    """The course's own instructor and admins see drafts and every lesson."""
    if viewer is None or (viewer.needs_totp and not viewer.has_totp):
        # Without the second factor their role requires, staff browse like everyone else.
        return False
    return viewer.role == Role.admin or viewer.id == course.instructor_id


def can_see(viewer: User | None, course: Course, enrolment: Enrolment | None = None) -> bool:
    """Published courses are public; archived ones stay open to the learners enrolled in them;
    drafts are only for those who may preview them."""
    if course.status == CourseStatus.published or can_preview(viewer, course):
        return True
    archived = course.status == CourseStatus.archived
    return archived and enrolment is not None and enrolment.is_active


# Built once: the catalog runs it for every visitor.
_PUBLISHED = (
    select(Course, User)
    .join(User, col(User.id) == Course.instructor_id)
    .where(Course.status == CourseStatus.published)
    # NULLS LAST on both backends (PostgreSQL would put them first when descending).
    .order_by(col(Course.published_at).desc().nulls_last(), col(Course.id).desc())
)


def list_published(session: Session) -> list[tuple[Course, User]]:
    """Published courses with their instructors, newest first (one statement)."""
    return list(session.exec(_PUBLISHED).all())


# Whether the course's instructor has times to be booked for an intake: weekly hours, or extra
# times from today on. That she has set times, not that one is still free: working out the free
# ones takes four statements (api/intake/service.py free_slots), and her booking page says so
# when every time is taken.
TAKES_INTAKES = or_(
    exists().where(col(IntakeHours.instructor_id) == Course.instructor_id),
    exists().where(
        col(IntakeException.instructor_id) == Course.instructor_id,
        col(IntakeException.kind) == ExceptionKind.extra.value,
        col(IntakeException.day) >= bindparam("today"),
    ),
).label("takes_intakes")

# A course with its instructor, her profile, the viewer's enrolment (outer joins) and whether
# the instructor takes intakes, so a signed-in visitor, the profile and the intake link cost no
# extra round trip. Built once: pages run it on every request.
# (Five columns are more than SQLModel's typed select() takes; SQLAlchemy's does the same.)
_COURSE_FOR_VIEWER = (
    sa_select(Course, User, Enrolment, InstructorProfile, TAKES_INTAKES)
    .join(User, col(User.id) == Course.instructor_id)
    .outerjoin(InstructorProfile, col(InstructorProfile.user_id) == Course.instructor_id)
    .outerjoin(
        Enrolment,
        and_(
            col(Enrolment.course_id) == Course.id,
            col(Enrolment.user_id) == bindparam("viewer_id"),
        ),
    )
    .where(col(Course.slug) == bindparam("slug"))
)


def outline(
    session: Session, *, slug: str, viewer: User | None, now: datetime | None = None
) -> CourseOutline:
    """The course outline, or NotFound for unknown slugs and for drafts the viewer may not see
    (one statement while the course's content is cached)."""
    if not SLUG.fullmatch(slug):
        # Not a slug any course can have (PostgreSQL would even refuse a NUL in it).
        raise NotFound(_("We could not find this course."))
    now = now or utcnow()
    row = session.execute(
        _COURSE_FOR_VIEWER,
        params={
            "slug": slug,
            "viewer_id": viewer.id if viewer else None,
            "today": local_day(now),
        },
    ).first()
    if row is None:
        raise NotFound(_("We could not find this course."))
    course, instructor, enrolment, profile, takes_intakes = row
    return outline_of(
        session,
        course=course,
        instructor=instructor,
        enrolment=enrolment,
        viewer=viewer,
        now=now,
        profile=profile,
        takes_intakes=bool(takes_intakes),
    )


def outline_of(
    session: Session,
    *,
    course: Course,
    instructor: User,
    enrolment: Enrolment | None,
    viewer: User | None,
    now: datetime | None = None,
    profile: InstructorProfile | None = None,
    takes_intakes: bool = False,
) -> CourseOutline:
    """The outline of a course row read with the viewer's enrolment (here, or with a page's
    data); NotFound for a course the viewer may not see (no statement while the course's
    content is cached). `takes_intakes`: its instructor has times to book an intake."""
    if not can_see(viewer, course, enrolment):
        raise NotFound(_("We could not find this course."))
    modules, content = _cached_modules(session, [course])[course.id]
    return CourseOutline(
        course=course,
        instructor=instructor,
        modules=modules,
        content=content,
        enrolment=enrolment,
        now=now or utcnow(),
        profile=profile,
        takes_intakes=takes_intakes,
    )


class ReadWithVisitor(Protocol):
    """A course row read with the visitor's session in one statement (a page's or a write's):
    what `outline_for` takes from it."""

    @property
    def visitor(self) -> Visitor: ...

    @property
    def course(self) -> Course: ...

    @property
    def instructor(self) -> User: ...

    @property
    def enrolment(self) -> Enrolment | None: ...


def outline_for(session: Session, found: ReadWithVisitor, *, now: datetime) -> CourseOutline:
    """`outline_of` for the course and visitor of such a row."""
    return outline_of(
        session,
        course=found.course,
        instructor=found.instructor,
        enrolment=found.enrolment,
        viewer=found.visitor.signed_in,
        now=now,
    )


def _cached_modules(
    session: Session, courses: list[Course]
) -> dict[int | None, tuple[list[ModuleOutline], CourseContent]]:
    """Each course's modules and lessons from the per-version content cache (no statement while
    the cache is current), with the content they come from."""
    contents = content_of(session, courses)
    found = {}
    for course in courses:
        content = contents[id_of(course)]
        modules = [ModuleOutline(part.module, list(part.lessons)) for part in content.parts]
        found[course.id] = (modules, content)
    return found


def modules_of(session: Session, course: Course) -> list[ModuleOutline]:
    """The course's modules with their lessons, in order (two statements)."""
    return _modules_by_course(session, [course.id]).get(course.id, [])


def _modules_by_course(
    session: Session, course_ids: list[int | None]
) -> dict[int | None, list[ModuleOutline]]:
    """Several courses' modules with their lessons, in order (two statements for all); read
    anew, for the studio and the export, which change or write them."""
    modules, lessons = modules_and_lessons(session, course_ids)
    by_module = {module.id: ModuleOutline(module) for module in modules}
    for lesson in lessons:
        if lesson.module_id in by_module:
            by_module[lesson.module_id].lessons.append(lesson)
    by_course: dict[int | None, list[ModuleOutline]] = {}
    for part in by_module.values():
        by_course.setdefault(part.module.course_id, []).append(part)
    return by_course


# Built once, like _COURSE_FOR_VIEWER: Vandaag runs it on every visit, and building the
# statement took longer than running it.
_ENROLLED_COURSES = (
    select(Course, User, Enrolment)
    .join(Enrolment, col(Enrolment.course_id) == Course.id)
    .join(User, col(User.id) == Course.instructor_id)
    .where(
        Enrolment.user_id == bindparam("viewer_id"),
        Enrolment.status == EnrolmentStatus.active,
    )
    .order_by(col(Enrolment.enrolled_at), col(Enrolment.id))
)


def enrolled_outlines(session: Session, *, viewer: User, now: datetime) -> list[CourseOutline]:
    """The outlines of every course the viewer is actively enrolled in, oldest enrolment first
    (one statement while their content is cached, three more for any that are not)."""
    rows = session.exec(_ENROLLED_COURSES, params={"viewer_id": viewer.id}).all()
    return outlines_of(session, rows, viewer=viewer, now=now)


def outlines_of(
    session: Session,
    rows: Sequence[tuple[Course, User, Enrolment]],
    *,
    viewer: User,
    now: datetime,
) -> list[CourseOutline]:
    """The outlines of courses read with their instructors and the viewer's enrolments (here or
    with a page's data), leaving out any she may not see (no statement while their content is
    cached)."""
    visible = [row for row in rows if can_see(viewer, row[0], row[2])]
    if not visible:
        return []
    parts = _cached_modules(session, [course for course, _user, _enrolment in visible])
    outlines = []
    for course, instructor, enrolment in visible:
        modules, content = parts[course.id]
        outlines.append(
            CourseOutline(
                course=course,
                instructor=instructor,
                modules=modules,
                content=content,
                enrolment=enrolment,
                now=now,
            )
        )
    return outlines


def may_open(viewer: User | None, outline: CourseOutline, lesson: Lesson) -> bool:
    """Free previews are open to all; the rest to enrolled learners once the lesson's module has
    opened, and always to the instructor and admins."""
    if lesson.free_preview or can_preview(viewer, outline.course):
        return True
    return outline.enrolled and outline.is_open(outline.module_of[lesson.id])


def open_lesson_ids(viewer: User | None, outline: CourseOutline) -> set[int | None]:
    """The ids of the lessons `may_open` lets the viewer open, worked out once per module: the
    viewer's rights and a module's drip date are the same for each of its lessons."""
    previews = can_preview(viewer, outline.course)
    enrolled = outline.enrolled
    found: set[int | None] = set()
    for part in outline.modules:
        whole_module = previews or (enrolled and outline.is_open(part.module))
        found.update(lesson.id for lesson in part.lessons if whole_module or lesson.free_preview)
    return found


def ensure_open(viewer: User | None, outline: CourseOutline, lesson: Lesson) -> None:
    """LessonLocked, with the opening date when only the drip schedule holds the lesson back."""
    if may_open(viewer, outline, lesson):
        return
    opens = outline.opens_at(outline.module_of[lesson.id]) if outline.enrolled else None
    raise LessonLocked(outline, lesson, opens)


def open_lesson(
    session: Session,
    *,
    slug: str,
    lesson_slug: str,
    viewer: User | None,
    now: datetime | None = None,
) -> tuple[CourseOutline, int]:
    """The outline and the index of a lesson the viewer may open; NotFound or LessonLocked."""
    course_outline = outline(session, slug=slug, viewer=viewer, now=now)
    return course_outline, open_index(course_outline, lesson_slug, viewer)


def open_index(course_outline: CourseOutline, lesson_slug: str, viewer: User | None) -> int:
    """The index of the lesson in the course, if the viewer may open it; NotFound or
    LessonLocked."""
    ordered = course_outline.lessons
    index = index_in(
        ordered, lambda item: item.slug == lesson_slug, message=_("We could not find this lesson.")
    )
    ensure_open(viewer, course_outline, ordered[index])
    return index


def lesson_view(
    session: Session,
    *,
    slug: str,
    lesson_slug: str,
    viewer: User | None,
    now: datetime | None = None,
) -> LessonView:
    """A lesson the viewer may open, with steps and previous/next; NotFound or LessonLocked."""
    course_outline = outline(session, slug=slug, viewer=viewer, now=now)
    return lesson_view_in(session, course_outline, lesson_slug=lesson_slug, viewer=viewer)


def lesson_view_in(
    session: Session, course_outline: CourseOutline, *, lesson_slug: str, viewer: User | None
) -> LessonView:
    """A lesson of an outline that was read already (no statement while the course's content is
    cached); NotFound or LessonLocked."""
    index = open_index(course_outline, lesson_slug, viewer)
    ordered = course_outline.lessons
    lesson = ordered[index]
    course = course_outline.course
    steps = content_of(session, [course])[id_of(course)].steps_of(lesson)
    return LessonView(
        outline=course_outline,
        module=course_outline.module_of[lesson.id],
        lesson=lesson,
        steps=list(steps),
        previous=ordered[index - 1] if index > 0 else None,
        next=ordered[index + 1] if index + 1 < len(ordered) else None,
    )


# A step with its lesson, module, course, instructor and the viewer's enrolment (if any).
StepRow = tuple[Step, Lesson, Module, Course, User, Enrolment | None]
STEP_COLUMNS = (Step, Lesson, Module, Course, User, Enrolment)


def step_joins() -> Any:
    """The step table joined to its lesson, module, course and the course's instructor."""
    return (
        orm_join(Step, Lesson, col(Lesson.id) == Step.lesson_id)
        .join(Module, col(Module.id) == Lesson.module_id)
        .join(Course, col(Course.id) == Lesson.course_id)
        .join(User, col(User.id) == Course.instructor_id)
    )


# Built once, like _COURSE_FOR_VIEWER: a practice logged is one of the busiest writes.
# (Six entities are more than SQLModel's typed select() takes; SQLAlchemy's does the same.)
_STEP_FOR_VIEWER = (
    sa_select(*STEP_COLUMNS)
    .select_from(
        step_joins().outerjoin(
            Enrolment,
            and_(
                col(Enrolment.course_id) == Course.id,
                col(Enrolment.user_id) == bindparam("viewer_id"),
            ),
        )
    )
    .where(col(Step.id) == bindparam("step_id"))
)


def open_step(
    session: Session, *, step_id: int, viewer: User, now: datetime
) -> tuple[CourseOutline, Lesson, Step]:
    """A step of a lesson the viewer may open, with its course and lesson (one statement);
    NotFound or LessonLocked."""
    row = session.execute(_STEP_FOR_VIEWER, {"step_id": step_id, "viewer_id": viewer.id}).first()
    return opened_step(tuple(row) if row else None, viewer=viewer, now=now)


def opened_step(
    row: StepRow | None, *, viewer: User, now: datetime
) -> tuple[CourseOutline, Lesson, Step]:
    """`open_step` for a step read already (here, or beside her session): NotFound or
    LessonLocked unless the viewer may open its lesson (no statement)."""
    if row is None or not can_see(viewer, row[3], row[5]):
        raise NotFound(_("We could not find this exercise."))
    step, lesson, module, course, instructor, enrolment = row
    # An outline of just this lesson is enough to decide whether it is open.
    partial = CourseOutline(
        course, instructor, [ModuleOutline(module, [lesson])], enrolment=enrolment, now=now
    )
    ensure_open(viewer, partial, lesson)
    return partial, lesson, step


def featured(session: Session) -> tuple[Course, User] | None:
    """The course the home page shows: the newest published paid course, else any."""
    courses = list_published(session)
    paid = [row for row in courses if not row[0].is_free]
    candidates = paid or courses
    return candidates[0] if candidates else None
