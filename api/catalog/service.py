"""Reading courses: the catalog, a course's outline and a lesson, with who may see what.

Each function uses a fixed number of statements whatever the size of the course (course,
modules, lessons, steps: one query each), so pages stay fast as courses grow.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_
from sqlmodel import Session, col, select

from api.accounts.models import Role, User
from api.catalog.models import Course, CourseStatus, Lesson, Module, Step
from api.enrolment.models import Enrolment
from api.errors import AppError, NotFound
from api.i18n import gettext as _


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


class LessonLocked(AppError):
    """The lesson exists but this visitor may not open it (yet)."""

    status_code = 403
    code = "lesson_locked"

    def __init__(self, outline: CourseOutline | None = None, lesson: Lesson | None = None) -> None:
        super().__init__(_("This lesson opens when you are enrolled in the course."))
        # The page that explains the lock links back to the course and its free lesson.
        self.outline = outline
        self.lesson = lesson


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


def can_see(viewer: User | None, course: Course) -> bool:
    """Published courses are public; drafts only for those who may preview them."""
    return course.status == CourseStatus.published or can_preview(viewer, course)


def list_published(session: Session) -> list[tuple[Course, User]]:
    """Published courses with their instructors, newest first (one statement)."""
    rows = session.exec(
        select(Course, User)
        .join(User, col(User.id) == Course.instructor_id)
        .where(Course.status == CourseStatus.published)
        # NULLS LAST on both backends (PostgreSQL would put them first when descending).
        .order_by(col(Course.published_at).desc().nulls_last(), col(Course.id).desc())
    ).all()
    return list(rows)


def outline(session: Session, *, slug: str, viewer: User | None) -> CourseOutline:
    """The course outline, or NotFound for unknown slugs and for drafts the viewer may not see."""
    # The viewer's enrolment comes with the course in the same statement (an outer join), so a
    # signed-in visitor costs no extra round trip.
    row = session.exec(
        select(Course, User, Enrolment)
        .join(User, col(User.id) == Course.instructor_id)
        .outerjoin(
            Enrolment,
            and_(
                col(Enrolment.course_id) == Course.id,
                col(Enrolment.user_id) == (viewer.id if viewer else None),
            ),
        )
        .where(Course.slug == slug[:80])
    ).first()
    if row is None or not can_see(viewer, row[0]):
        raise NotFound(_("We could not find this course."))
    course, instructor, enrolment = row
    return CourseOutline(
        course=course,
        instructor=instructor,
        modules=modules_of(session, course),
        enrolment=enrolment,
    )


def modules_of(session: Session, course: Course) -> list[ModuleOutline]:
    """The course's modules with their lessons, in order (two statements)."""
    modules = session.exec(
        select(Module).where(Module.course_id == course.id).order_by(col(Module.position))
    ).all()
    lessons = session.exec(
        select(Lesson).where(Lesson.course_id == course.id).order_by(col(Lesson.position))
    ).all()
    by_module = {module.id: ModuleOutline(module) for module in modules}
    for lesson in lessons:
        if lesson.module_id in by_module:
            by_module[lesson.module_id].lessons.append(lesson)
    return list(by_module.values())


def may_open(viewer: User | None, outline: CourseOutline, lesson: Lesson) -> bool:
    """Free previews are open to all; the rest to enrolled learners, the instructor and admins."""
    return lesson.free_preview or outline.enrolled or can_preview(viewer, outline.course)


def lesson_view(
    session: Session, *, slug: str, lesson_slug: str, viewer: User | None
) -> LessonView:
    """A lesson the viewer may open, with steps and previous/next; NotFound or LessonLocked."""
    course_outline = outline(session, slug=slug, viewer=viewer)
    ordered = course_outline.lessons
    index = next((i for i, item in enumerate(ordered) if item.slug == lesson_slug), None)
    if index is None:
        raise NotFound(_("We could not find this lesson."))
    lesson = ordered[index]
    if not may_open(viewer, course_outline, lesson):
        raise LessonLocked(course_outline, lesson)
    steps = session.exec(
        select(Step).where(Step.lesson_id == lesson.id).order_by(col(Step.position))
    ).all()
    module = next(o.module for o in course_outline.modules if o.module.id == lesson.module_id)
    return LessonView(
        outline=course_outline,
        module=module,
        lesson=lesson,
        steps=list(steps),
        previous=ordered[index - 1] if index > 0 else None,
        next=ordered[index + 1] if index + 1 < len(ordered) else None,
    )


def featured(session: Session) -> tuple[Course, User] | None:
    """The course the home page shows: the newest published paid course, else any."""
    courses = list_published(session)
    paid = [row for row in courses if not row[0].is_free]
    candidates = paid or courses
    return candidates[0] if candidates else None
