"""A lesson in the studio: its text, video and steps, their order, and deleting them."""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.catalog.markdown import render_markdown
from api.catalog.models import Course, Lesson, Module, VideoProvider
from api.db import SessionDep
from api.errors import Conflict, FormError
from api.i18n import gettext as _
from api.kit.ids import PathId, id_of
from api.media import streams
from api.messages import public as public_questions
from api.studio import lessons, modules
from api.studio import steps as studio_steps
from api.studio.access import owned_course
from web.forms import Checkbox, Form, Posted, Shown, Typed, invalid, posted
from web.pages.common import ConfirmForm, MoveForm, storage_of
from web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = frozenset(
    {
        "created",
        "saved",
        "moved",
        "video-saved",  # from the video upload (web/pages/studio/uploads.py)
        "step-added",
        "step-saved",
        "step-moved",
        "step-deleted",
        "picture-saved",  # from a step's picture (web/pages/studio/uploads.py)
        "picture-removed",
        "question-published",  # from a conversation (web/pages/studio/inbox.py)
        "question-saved",
        "question-deleted",
    }
)


class LessonForm(lessons.LessonInput, Form):
    # The template names this input apart from the course's `slug` in the page's address.
    slug: str = Field(default="", alias="lesson_slug")
    free_preview: Checkbox = False
    remove_video: Checkbox = False
    # The lesson's version when the form was opened (see lessons.save), and the pressed button:
    # "preview" shows the text instead of saving.
    version: str = ""
    action: str = ""


class LessonMoveForm(MoveForm):
    # "course" when the button was on the course's page, which she then goes back to.
    return_to: str = ""


class StepKindForm(Form):
    kind: str = ""


LessonPost = Annotated[Posted[LessonForm], posted(LessonForm)]


def _course(session: SessionDep, user: User, slug: str) -> Course:
    return owned_course(session, viewer=user, slug=slug)


def _lesson(session: SessionDep, user: User, slug: str, lesson_id: int) -> tuple[Course, Lesson]:
    """The course and its lesson, when this instructor teaches the course; 403 or 404."""
    course = owned_course(session, viewer=user, slug=slug)
    return course, lessons.lesson_of(session, course=course, lesson_id=lesson_id)


def _lesson_url(course: Course, lesson: Lesson, query: str = "", anchor: str = "") -> str:
    url = f"/studio/courses/{course.slug}/lessons/{lesson.id}"
    return url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _lesson_page(
    request: Request,
    session: SessionDep,
    course: Course,
    lesson: Lesson,
    *,
    status_code: int = 200,
    step_form: tuple[int, Shown] | None = None,
    **shown: Any,
) -> HTMLResponse:
    """The lesson's studio page; `shown` overrides what the page shows (typed values, errors…),
    `step_form` is one refused step form's."""
    view = lessons.page(session, course=course, lesson=lesson)
    step_values: dict[int | None, Mapping[str, Typed]] = {
        line.step.id: studio_steps.form_values(line.step) for line in view.steps
    }
    step_errors: dict[int, dict[str, str]] = {}
    open_step = request.query_params.get("edit", "")
    if step_form is not None:
        step_id, refused = step_form
        step_values[step_id], step_errors[step_id] = refused["values"], refused["errors"]
        open_step = str(step_id)
    notice = request.query_params.get("notice")
    stream = _stream(session, lesson)
    context: dict[str, Any] = {
        "course": course,
        "module": view.module,
        "lesson": lesson,
        "view": view,
        "values": lessons.form_values(lesson),
        "errors": {},
        "step_values": step_values,
        "step_errors": step_errors,
        "open_step": open_step,
        "notice": notice if notice in NOTICES else None,
        "focus": request.query_params.get("focus", ""),
        "bounds": studio_steps.NUMBERS,
        "preview": None,
        "conflict": None,
        "problem": None,
        # Its public questions and answers, to edit or delete (one statement).
        "lesson_questions": public_questions.of_lesson(session, lesson_id=id_of(lesson)),
        "stream": stream,
        "stream_status": streams.status_text(stream) if stream else None,
        **shown,
    }
    return render(request, "studio/lesson.html", context, status_code=status_code)


def _new_page(
    request: Request,
    course: Course,
    module: Module,
    **shown: Any,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "course": course,
        "module": module,
        "lesson": None,
        "values": {"estimated_minutes": "5"},
        "errors": {},
        "preview": None,
        **shown,
    }
    return render(request, "studio/lesson.html", context)


# --- the lesson -------------------------------------------------------------------------------


@router.get("/studio/courses/{slug}/modules/{module_id}/lessons/new", response_class=HTMLResponse)
def new_lesson(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str, module_id: PathId
) -> HTMLResponse:
    """An empty lesson form for this module."""
    course = _course(session, user, slug)
    module = modules.module_in(session, course=course, module_id=module_id)
    return _new_page(request, course, module)


@router.post("/studio/courses/{slug}/modules/{module_id}/lessons/new", response_class=HTMLResponse)
def create_lesson(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    module_id: PathId,
    form: LessonPost,
) -> Response:
    """Add the lesson at the end of the module (or show a preview of its text)."""
    course = _course(session, user, slug)
    module = modules.module_in(session, course=course, module_id=module_id)
    try:
        data = form.valid()
        if data.action == "preview":
            preview = render_markdown(data.body)
            return _new_page(request, course, module, values=form.values, preview=preview)
        lesson = lessons.create(session, course=course, module=module, data=data)
    except FormError as exc:
        return invalid(exc, _new_page(request, course, module, **form.shown(exc)))
    return RedirectResponse(_lesson_url(course, lesson, "notice=created"), status_code=303)


@router.get("/studio/courses/{slug}/lessons/{lesson_id}", response_class=HTMLResponse)
def show_lesson(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str, lesson_id: PathId
) -> HTMLResponse:
    """The lesson's form, its video and its steps."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    return _lesson_page(request, session, course, lesson)


@router.get("/studio/courses/{slug}/lessons/{lesson_id}/video/status")
def video_status(
    session: SessionDep, user: RequireInstructor, slug: str, lesson_id: PathId
) -> JSONResponse:
    """How the conversion of the lesson's uploaded video stands, for the page to follow."""
    _course_found, lesson = _lesson(session, user, slug, lesson_id)
    stream = _stream(session, lesson)
    if stream is None:
        return JSONResponse({"state": None}, headers={"Cache-Control": "no-store"})
    body = {
        "state": stream.state.value,
        "progress": stream.progress,
        "reason": stream.reason,
        "text": streams.status_text(stream),
        "length": stream.length,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _stream(session: SessionDep, lesson: Lesson) -> streams.StreamView | None:
    if lesson.video_provider != VideoProvider.file or not lesson.video_ref:
        return None
    return streams.view_of(session, name=lesson.video_ref)


@router.post("/studio/courses/{slug}/lessons/{lesson_id}", response_class=HTMLResponse)
def save_lesson(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    form: LessonPost,
) -> Response:
    """Save the lesson, unless it was saved elsewhere since this form was opened."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    try:
        data = form.valid()
        if data.action == "preview":
            preview = render_markdown(data.body)
            return _lesson_page(
                request, session, course, lesson, values=form.values, preview=preview
            )
        lessons.save(
            session,
            course=course,
            lesson=lesson,
            data=data,
            version=data.version,
            storage=storage_of(request),
        )
    except lessons.LessonChanged as exc:
        return invalid(exc, _lesson_page(request, session, course, lesson, **_conflict(exc, form)))
    except FormError as exc:
        return invalid(exc, _lesson_page(request, session, course, lesson, **form.shown(exc)))
    return RedirectResponse(_lesson_url(course, lesson, "notice=saved"), status_code=303)


def _conflict(exc: lessons.LessonChanged, form: Posted[LessonForm]) -> dict[str, Any]:
    """She sees what is saved now next to what she typed; saving again (from the version she
    has now seen) is her choice."""
    saved = lessons.form_values(exc.current)
    conflict = {"saved": saved, "different": lessons.changed_fields(saved, form.values)}
    return {"values": {**form.values, "version": saved["version"]}, "conflict": conflict}


@router.post("/studio/courses/{slug}/lessons/{lesson_id}/move")
def move_lesson(
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    form: Annotated[Posted[LessonMoveForm], posted(LessonMoveForm)],
) -> RedirectResponse:
    """One place up or down within the module; back to the page the button was on."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    data = form.valid()
    lessons.move(session, course=course, lesson=lesson, direction=data.direction)
    # The pressed button gets the focus back by name, not by a #fragment: browsers skip
    # `autofocus` on a page whose address has a fragment.
    if data.return_to == "course":
        focus = f"lesson-{lesson.id}-{data.direction}"
        return RedirectResponse(f"/studio/courses/{slug}?focus={focus}", status_code=303)
    target = _lesson_url(course, lesson, f"notice=moved&focus=lesson-{data.direction}")
    return RedirectResponse(target, status_code=303)


@router.post("/studio/courses/{slug}/lessons/{lesson_id}/delete", response_class=HTMLResponse)
def delete_lesson(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete the lesson and its steps, unless learners have worked on it."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    try:
        if not form.valid().confirmed:
            raise Conflict(_("Nothing was deleted: confirm with the button “Yes, delete”."))
        lessons.delete(session, course=course, lesson=lesson)
    except Conflict as exc:
        return invalid(exc, _lesson_page(request, session, course, lesson, problem=exc.message))
    return RedirectResponse(f"/studio/courses/{slug}?notice=lesson-deleted", status_code=303)


# --- its steps --------------------------------------------------------------------------------


@router.post("/studio/courses/{slug}/lessons/{lesson_id}/steps", response_class=HTMLResponse)
def add_step(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    form: Annotated[Posted[StepKindForm], posted(StepKindForm)],
) -> Response:
    """A new step at the end, with the usual dosing, opened for editing."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    try:
        step = studio_steps.add(session, course=course, lesson=lesson, kind=form.valid().kind)
    except FormError as exc:
        return invalid(exc, _lesson_page(request, session, course, lesson, problem=exc.message))
    query = f"notice=step-added&edit={step.id}"
    return RedirectResponse(_lesson_url(course, lesson, query, f"step-{step.id}"), status_code=303)


@router.post(
    "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}", response_class=HTMLResponse
)
def save_step(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    step_id: PathId,
    form: Annotated[Posted[studio_steps.StepInput], posted(studio_steps.StepInput)],
) -> Response:
    """Save a step's text and parameters; every wrong field is shown, nothing half-saved."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    step = studio_steps.step_of(session, lesson=lesson, step_id=step_id)
    try:
        studio_steps.save(session, course=course, lesson=lesson, step=step, data=form.valid())
    except FormError as exc:
        page = _lesson_page(request, session, course, lesson, step_form=(step_id, form.shown(exc)))
        return invalid(exc, page)
    target = _lesson_url(course, lesson, "notice=step-saved", f"step-{step_id}")
    return RedirectResponse(target, status_code=303)


@router.post("/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/move")
def move_step(
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    step_id: PathId,
    form: Annotated[Posted[MoveForm], posted(MoveForm)],
) -> RedirectResponse:
    """One place up or down; the page comes back with focus on the same button."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    step = studio_steps.step_of(session, lesson=lesson, step_id=step_id)
    direction = form.valid().direction
    studio_steps.move(session, course=course, lesson=lesson, step=step, direction=direction)
    query = f"notice=step-moved&focus=step-{step_id}-{direction}"
    return RedirectResponse(_lesson_url(course, lesson, query), status_code=303)


@router.post(
    "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/delete",
    response_class=HTMLResponse,
)
def delete_step(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    step_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete the step after its confirmation button."""
    course, lesson = _lesson(session, user, slug, lesson_id)
    step = studio_steps.step_of(session, lesson=lesson, step_id=step_id)
    if not form.valid().confirmed:
        problem = _("Nothing was deleted: confirm with the button “Yes, delete”.")
        return _lesson_page(request, session, course, lesson, problem=problem, status_code=422)
    studio_steps.delete(session, course=course, lesson=lesson, step=step)
    return RedirectResponse(_lesson_url(course, lesson, "notice=step-deleted", "steps"), 303)
