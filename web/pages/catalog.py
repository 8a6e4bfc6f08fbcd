"""The course catalog, a course's page and its lessons, as a learner reads them."""

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from api.accounts.access import CurrentUser, RequireUser
from api.accounts.models import User
from api.catalog import service, steps, video
from api.catalog.markdown import render_markdown
from api.catalog.models import CourseStatus, Step
from api.db import SessionDep
from api.enrolment import service as enrolment_service
from web.pages.common import settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)

# How the guided player (a later issue) finds a step's timing: data-hold, data-reps, ...
DATA_ATTRIBUTES = {
    "hold_seconds": "hold",
    "relax_seconds": "relax",
    "reps": "reps",
    "sets": "sets",
    "rest_seconds": "rest",
    "side": "side",
    "inhale_seconds": "inhale",
    "exhale_seconds": "exhale",
    "cycles": "cycles",
}


@dataclass(frozen=True)
class StepView:
    """A step as the lesson page shows it: plain-text dose, instructions and player data."""

    step: Step
    description: str
    body_html: Markup
    data: dict[str, str]


def _step_view(step: Step) -> StepView:
    data = {"kind": step.kind}
    data.update({DATA_ATTRIBUTES[name]: str(v) for name, v in steps.params(step).items()})
    return StepView(step, steps.describe(step), render_markdown(step.body), data)


def _open_lessons(user: User | None, outline: service.CourseOutline) -> set[int | None]:
    """Ids of the lessons this visitor may open, for links and lock marks."""
    return {lesson.id for lesson in outline.lessons if service.may_open(user, outline, lesson)}


@router.get("/courses", response_class=HTMLResponse)
def list_courses(request: Request, session: SessionDep, _user: CurrentUser) -> HTMLResponse:
    """Every published course."""
    return render(request, "catalog/index.html", {"courses": service.list_published(session)})


@router.get("/courses/{slug}", response_class=HTMLResponse)
def show_course(
    request: Request, session: SessionDep, user: CurrentUser, slug: str
) -> HTMLResponse:
    """What the course teaches, its lessons, price, teacher and questions."""
    outline = service.outline(session, slug=slug, viewer=user)
    context = {
        "outline": outline,
        "course": outline.course,
        "is_draft": outline.course.status == CourseStatus.draft,
        "open_lessons": _open_lessons(user, outline),
        "markdown": render_markdown,
        "can_buy": settings_of(request).payments_available,
    }
    return render(request, "catalog/course.html", context)


@router.post("/courses/{slug}/enrol")
def enrol(request: Request, session: SessionDep, user: RequireUser, slug: str) -> RedirectResponse:
    """One click into a free course; straight on to its first lesson."""
    outline = service.outline(session, slug=slug, viewer=user)
    enrolment_service.enrol_free(session, user=user, course=outline.course)
    first = outline.lessons[0] if outline.lessons else None
    target = f"/courses/{slug}/lessons/{first.slug}" if first else f"/courses/{slug}"
    return RedirectResponse(target, status_code=303)


@router.get("/courses/{slug}/lessons/{lesson_slug}", response_class=HTMLResponse)
def show_lesson(
    request: Request, session: SessionDep, user: CurrentUser, slug: str, lesson_slug: str
) -> HTMLResponse:
    """One lesson: video, explanation and exercises; a friendly lock when it is not open."""
    try:
        view = service.lesson_view(session, slug=slug, lesson_slug=lesson_slug, viewer=user)
    except service.LessonLocked as locked:
        locked_context = {
            "outline": locked.outline,
            "lesson": locked.lesson,
            "message": locked.message,
        }
        return render(request, "catalog/locked.html", locked_context, status_code=403)
    lesson = view.lesson
    context: dict[str, Any] = {
        "view": view,
        "course": view.outline.course,
        "lesson": lesson,
        "is_draft": view.outline.course.status == CourseStatus.draft,
        "embed": video.embed_for(
            lesson.video_provider, lesson.video_ref, lesson.video_title or lesson.title
        ),
        "body_html": render_markdown(lesson.body),
        "steps": [_step_view(step) for step in view.steps],
        "open_lessons": _open_lessons(user, view.outline),
    }
    return render(request, "catalog/lesson.html", context)
