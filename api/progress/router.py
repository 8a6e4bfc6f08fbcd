"""JSON endpoints for a learner's progress and practice log, and the summary of her day."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from api.accounts.access import (
    LoginFirst,
    RequireUser,
    remember,
    required,
    session_token,
    visitor_of,
)
from api.accounts.models import User
from api.accounts.schemas import SIGNED_IN_ERRORS
from api.accounts.sessions import Visitor
from api.catalog import service as catalog
from api.catalog.models import Lesson
from api.catalog.schemas import LessonLink
from api.catalog.service import CourseOutline
from api.clock import Now, week_start
from api.db import SessionDep, request_session
from api.errors import ErrorPublic, FormError, InvalidPublic, NotFound
from api.i18n import gettext as _
from api.kit.ids import QueryId, id_of
from api.kit.keyset import Cursor
from api.kit.lookup import index_in
from api.kit.threads import in_thread
from api.progress import access, practice, today, writes
from api.progress import service as progress_service
from api.progress.models import LessonProgress
from api.progress.schemas import (
    CourseBriefPublic,
    CourseProgressPublic,
    LessonProgressPublic,
    LessonStatePublic,
    ModuleProgressPublic,
    Moment,
    PositionUpdate,
    PracticeCreate,
    PracticeEntryPublic,
    PracticePage,
    PracticePublic,
    SummaryPublic,
    WeekDayPublic,
)
from api.progress.service import CourseProgress, ProgressRecord

router = APIRouter(prefix="/api/v1", tags=["progress"])

# The most practice logs one page of the log holds.
MAX_PAGE = 200

READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **SIGNED_IN_ERRORS,
    404: {"model": ErrorPublic, "description": "No such course, lesson or learner (not_found)"},
    422: {"model": InvalidPublic, "description": "Input that breaks a rule (invalid)"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    403: {
        "model": ErrorPublic,
        "description": "Lesson not open (yet): lesson_locked; a missing CSRF token: csrf; "
        "staff without two-step verification: two_factor_required",
    },
}
# A body that is not even text (not UTF-8) is refused before it is read as JSON.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **WRITE_ERRORS,
    400: {"model": ErrorPublic, "description": "The body cannot be read (error)"},
}


LearnerId = Annotated[
    QueryId, Query(description="Read this learner's data (the course's instructor or admins)")
]


def _link(lesson: Lesson | None) -> LessonLink | None:
    return LessonLink(slug=lesson.slug, title=lesson.title) if lesson else None


def _lesson_in(outline: CourseOutline, lesson_slug: str) -> Lesson:
    lessons = outline.lessons
    message = _("We could not find this lesson.")
    return lessons[index_in(lessons, lambda item: item.slug == lesson_slug, message=message)]


def _lesson_progress(
    lesson: Lesson, record: LessonProgress | ProgressRecord | None
) -> LessonProgressPublic:
    return LessonProgressPublic(
        lesson_slug=lesson.slug,
        completed=record is not None and record.completed,
        completed_at=record.completed_at if record else None,
        last_visited_at=record.last_visited_at if record else None,
        video_position_seconds=record.video_position_seconds if record else 0,
    )


def _course_progress(progress: CourseProgress, learner: User) -> CourseProgressPublic:
    outline = progress.outline
    return CourseProgressPublic(
        course_slug=outline.course.slug,
        learner_id=id_of(learner),
        percent=progress.percent,
        completed_count=progress.completed_count,
        lesson_count=outline.lesson_count,
        resume=_link(progress.resume),
        last_active_at=progress.last_active_at,
        modules=[
            ModuleProgressPublic(
                title=part.module.title,
                percent=progress.module_percent(part),
                open=outline.is_open(part.module),
                opens_at=outline.opens_at(part.module),
                lessons=[
                    LessonStatePublic(
                        slug=lesson.slug,
                        title=lesson.title,
                        completed=progress.completed(lesson),
                        open=catalog.may_open(learner, outline, lesson),
                    )
                    for lesson in part.lessons
                ],
            )
            for part in outline.modules
        ],
    )


@router.get("/courses/{slug}/progress", responses=READ_ERRORS)
def read_course_progress(
    session: SessionDep, user: RequireUser, now: Now, slug: str, learner_id: LearnerId = None
) -> CourseProgressPublic:
    """Her progress in a course: per module and lesson, and where to continue."""
    reading = access.course_reading(session, slug=slug, viewer=user, learner_id=learner_id, now=now)
    progress = progress_service.read(session, outline=reading.outline, user_id=reading.learner_id)
    return _course_progress(progress, reading.learner)


@router.get("/courses/{slug}/lessons/{lesson_slug}/progress", responses=READ_ERRORS)
def read_lesson_progress(
    session: SessionDep,
    user: RequireUser,
    now: Now,
    slug: str,
    lesson_slug: str,
    learner_id: LearnerId = None,
) -> LessonProgressPublic:
    """Her progress in one lesson: done or not, last visit and video position."""
    reading = access.course_reading(session, slug=slug, viewer=user, learner_id=learner_id, now=now)
    lesson = _lesson_in(reading.outline, lesson_slug)
    progress = progress_service.read(session, outline=reading.outline, user_id=reading.learner_id)
    return _lesson_progress(lesson, progress.by_lesson.get(id_of(lesson)))


def _open_lesson(
    session: Session, user: User, slug: str, lesson_slug: str, now: datetime
) -> Lesson:
    outline, index = catalog.open_lesson(
        session, slug=slug, lesson_slug=lesson_slug, viewer=user, now=now
    )
    return outline.lessons[index]


@router.put("/courses/{slug}/lessons/{lesson_slug}/completion", responses=WRITE_ERRORS)
async def complete_lesson(
    request: Request, now: Now, slug: str, lesson_slug: str
) -> LessonProgressPublic:
    """Mark a lesson she may open as done; again keeps the first moment."""
    # One of the two busiest writes: her session, the check and the write share one hand-off
    # to a worker thread and two statements (docs/performance.md#the-two-busiest-writes).
    return await in_thread(_complete_lesson, request, now, slug, lesson_slug)


def _visitor(
    request: Request, session: Session, found: writes.CourseRead | writes.StepRead | None
) -> Visitor:
    """The visitor the write's statement found; without its row (no such course or step), her
    session is read by itself, so that she still hears she must log in first."""
    if found is None:
        return visitor_of(request, session)
    remember(request, found.visitor)
    return found.visitor


def _complete_lesson(
    request: Request, now: datetime, slug: str, lesson_slug: str
) -> LessonProgressPublic:
    with request_session(request) as session:
        found = writes.course(
            session, request.app.state.settings, token=session_token(request), slug=slug
        )
        user = required(request, _visitor(request, session, found))
        if found is None:
            raise NotFound(_("We could not find this course."))
        lesson = writes.open_lesson(session, found, lesson_slug=lesson_slug, now=now)
        record = progress_service.complete(session, user_id=id_of(user), lesson=lesson, now=now)
        return _lesson_progress(lesson, record)


@router.delete("/courses/{slug}/lessons/{lesson_slug}/completion", responses=WRITE_ERRORS)
def undo_completion(
    session: SessionDep, user: RequireUser, now: Now, slug: str, lesson_slug: str
) -> LessonProgressPublic:
    """Mark a lesson as not done."""
    lesson = _open_lesson(session, user, slug, lesson_slug, now)
    record = progress_service.undo(session, user_id=id_of(user), lesson=lesson, now=now)
    return _lesson_progress(lesson, record)


@router.put("/courses/{slug}/lessons/{lesson_slug}/position", responses=BODY_ERRORS)
def save_position(
    session: SessionDep,
    user: RequireUser,
    now: Now,
    slug: str,
    lesson_slug: str,
    body: PositionUpdate,
) -> LessonProgressPublic:
    """Remember where she is in the lesson's video."""
    lesson = _open_lesson(session, user, slug, lesson_slug, now)
    record = progress_service.save_position(
        session, user_id=id_of(user), lesson=lesson, seconds=int(body.seconds), now=now
    )
    return _lesson_progress(lesson, record)


async def create_practice(
    request: Request, now: Now, body: PracticeCreate, response: Response
) -> PracticePublic:
    """Log a practice of an exercise or breathing step; a repeat is stored once."""
    # The other of the two busiest writes, as `complete_lesson`.
    logged, created = await in_thread(_create_practice, request, now, body)
    if not created:
        response.status_code = 200
    return logged


def _create_practice(
    request: Request, now: datetime, body: PracticeCreate
) -> tuple[PracticePublic, bool]:
    with request_session(request) as session:
        found = writes.step(
            session, request.app.state.settings, token=session_token(request), step_id=body.step_id
        )
        user = required(request, _visitor(request, session, found))
        entry = practice.PracticeInput(**body.model_dump())
        stored, created = practice.log_read(
            session, user=user, entry=entry, now=now, step=found.step if found else None
        )
        return PracticePublic.model_validate(stored), created


# Not a decorator: the route class that keeps the login check before the body's.
router.add_api_route(
    "/practice",
    create_practice,
    methods=["POST"],
    status_code=201,
    responses={
        200: {"model": PracticePublic, "description": "A repeat of a stored client_id: that log"},
        **BODY_ERRORS,
        409: {
            "model": ErrorPublic,
            "description": "She has not agreed to Kern keeping her health data, or withdrew "
            "(consent_required); nothing is stored, keep the log and ask her first",
        },
    },
    route_class_override=LoginFirst,
)


@router.get("/practice", responses=READ_ERRORS)
def list_practice(
    session: SessionDep,
    user: RequireUser,
    now: Now,
    course: Annotated[str | None, Query(description="Only this course (slug)")] = None,
    learner_id: LearnerId = None,
    before: Annotated[Moment | None, Query(description="Only logs before this")] = None,
    cursor: Annotated[
        str | None, Query(max_length=40, description="`next_cursor` of the page before")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> PracticePage:
    """Her practice log, newest first; with `learner_id`, a learner's log in one course."""
    owner_id, course_id = access.practice_reading(
        session, viewer=user, course_slug=course, learner_id=learner_id, now=now
    )
    after = Cursor.parse(cursor) if cursor is not None else None
    if cursor is not None and after is None:
        raise FormError({"cursor": _("Pass the next_cursor of the previous page as it was.")})
    found = practice.entries(
        session, user_id=owner_id, course_id=course_id, before=before, cursor=after, limit=limit
    )
    items = [
        PracticeEntryPublic(
            **PracticePublic.model_validate(entry.log).model_dump(),
            course_slug=entry.course_slug,
            course_title=entry.course_title,
            lesson_slug=entry.lesson_slug,
        )
        for entry in found
    ]
    more = len(found) == limit
    return PracticePage(
        items=items, next_cursor=str(practice.next_cursor(found[-1])) if more else None
    )


def _brief(item: today.CourseToday) -> CourseBriefPublic:
    return CourseBriefPublic(
        slug=item.progress.outline.course.slug,
        title=item.progress.outline.course.title,
        percent=item.progress.percent,
        completed_count=item.progress.completed_count,
        lesson_count=item.progress.outline.lesson_count,
        next_lesson=_link(item.next_lesson),
        next_opens_at=item.next_opens_at,
    )


@router.get("/summary", responses=SIGNED_IN_ERRORS)
def read_summary(session: SessionDep, user: RequireUser, now: Now) -> SummaryPublic:
    """Her streak, this week, the next lesson and each course's progress."""
    page = today.read(session, user=user, now=now)
    week = practice.week(session, user_id=id_of(user), monday=week_start(page.day))
    return SummaryPublic(
        day=page.day,
        streak=page.streak,
        practised_today=page.practised_today,
        week=[WeekDayPublic(day=d.day, practices=d.count, seconds=d.seconds) for d in week],
        next=_brief(page.next) if page.next else None,
        courses=[_brief(item) for item in page.courses],
    )
