"""The studio's course pages: her courses, the course form, status, deleting, and modules."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.attention import service as attention
from api.catalog.markdown import render_markdown
from api.catalog.models import Course
from api.catalog.packages.schema import is_slug
from api.clock import Now
from api.db import SessionDep
from api.errors import Conflict, FormError, NotFound
from api.i18n import gettext as _
from api.kit.ids import PathId
from api.messages import service as messages
from api.studio import checkins as checkins_service
from api.studio import courses as service
from api.studio import modules as modules_service
from api.studio import questionnaires as questionnaires_service
from api.studio.access import owned_course
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.common import ConfirmForm, MoveForm
from web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = frozenset(
    {
        "created",
        "saved",
        "unchanged",
        "published",
        "draft",
        "archived",
        "module-added",
        "module-saved",
        "module-deleted",
        "lesson-deleted",
        "cover-saved",
        "imported",
        "questionnaire-deleted",
        "check-in-added",
        "check-in-deleted",
        "testimonial-added",
        "testimonial-deleted",
    }
)
# The id of a move button to give focus back to after moving a module ("module-12-up").
_FOCUS = re.compile(r"^(?:module|check-in)-\d{1,10}-(?:up|down)$")


class CoursePost(service.CourseForm, Form):
    # Its "Show preview" button shows the description instead of saving.
    action: str = "save"


class PreviewForm(Form):
    text: str = ""


class StatusForm(Form):
    status: str = ""


CourseFormDep = Annotated[Posted[CoursePost], posted(CoursePost)]
ModuleFormDep = Annotated[Posted[modules_service.ModuleForm], posted(modules_service.ModuleForm)]


def _own(session: Session, user: User, slug: str) -> Course:
    # A path that cannot be a slug never reaches the query: PostgreSQL refuses a NUL in it
    # with an error, where a 404 is the answer. (Belongs in owned_course; asked of the lead.)
    if not is_slug(slug):
        raise NotFound(_("We could not find this course."))
    return owned_course(session, viewer=user, slug=slug)


def _preview(form: service.CourseForm) -> Markup:
    return render_markdown(service.clean_text(form.description)[: service.MARKDOWN_LENGTH])


def course_page(
    request: Request,
    session: Session,
    course: Course,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Typed] | None = None,
    preview: Markup | None = None,
    open_module: int | None = None,
) -> HTMLResponse:
    """The course's page; `values` (what she typed in one of its forms) overrides what is saved.

    Also shown by the questionnaire pages, for the forms of its questionnaires and check-ins.
    """
    notice = request.query_params.get("notice")
    focus = request.query_params.get("focus", "")
    days = modules_service.default_unlock_days(session, course=course)
    overview = service.overview(session, course=course)
    questionnaires = questionnaires_service.of_course(session, course=course)
    context: dict[str, Any] = {
        "course": course,
        "overview": overview,
        "questionnaires": questionnaires,
        "questionnaire_options": [
            (str(line.questionnaire.id), line.questionnaire.title) for line in questionnaires
        ],
        "module_options": [(str(n), str(n)) for n in range(1, len(overview.modules) + 1)],
        "check_ins": checkins_service.of_course(session, course=course),
        "values": {
            **service.CourseForm.of(course).values(),
            "new-module-unlock_after_days": str(days),
            **(values or {}),
        },
        "errors": errors or {},
        "preview": preview,
        "open_module": open_module,
        "notice": notice if notice in NOTICES else None,
        "focus": focus if _FOCUS.match(focus) else None,
    }
    return render(request, "studio/course.html", context)


def _to_course(slug: str, notice: str, anchor: str = "") -> RedirectResponse:
    url = f"/studio/courses/{slug}?notice={notice}" + (f"#{anchor}" if anchor else "")
    return RedirectResponse(url, status_code=303)


# --- courses --------------------------------------------------------------------------------


@router.get("/studio", response_class=HTMLResponse)
def show_studio(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> HTMLResponse:
    """Her courses (an admin's: all) with their status and learners, and how many of her
    learners need attention now."""
    rows = service.list_courses(session, viewer=user)
    notice = "deleted" if request.query_params.get("notice") == "deleted" else None
    waiting = len(attention.waiting(session, viewer=user, now=now))
    context = {
        "rows": rows,
        "notice": notice,
        "viewer": user,
        # The inbox link says how many questions wait for an answer (one statement).
        "waiting": messages.waiting_count(session, viewer=user),
        "attention_count": waiting,
    }
    return render(request, "studio/index.html", context)


@router.get("/studio/courses/new", response_class=HTMLResponse)
def show_new_course(request: Request, user: RequireInstructor) -> HTMLResponse:
    """An empty course form."""
    return render(request, "studio/course_form.html", {"values": service.CourseForm().values()})


@router.post("/studio/courses/new", response_class=HTMLResponse)
def create_course(
    request: Request, session: SessionDep, user: RequireInstructor, form: CourseFormDep
) -> Response:
    """Create the course as a draft of hers; the "preview" button shows the description instead."""
    template = "studio/course_form.html"
    try:
        data = form.valid()
        if data.action == "preview":
            return render(request, template, {"values": form.values, "preview": _preview(data)})
        course = service.create_course(session, owner=user, form=data)
    except FormError as exc:
        return invalid(exc, render(request, template, form.shown(exc)))
    return _to_course(course.slug, "created")


@router.get("/studio/courses/{slug}", response_class=HTMLResponse)
def show_course(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str
) -> HTMLResponse:
    """The course with its modules and lessons, its status, and its details form."""
    return course_page(request, session, _own(session, user, slug))


@router.post("/studio/courses/{slug}", response_class=HTMLResponse)
def update_course(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str, form: CourseFormDep
) -> Response:
    """Save the course's details, or show the description's preview."""
    course = _own(session, user, slug)
    try:
        data = form.valid()
        if data.action == "preview":
            preview = _preview(data)
            return course_page(request, session, course, values=form.values, preview=preview)
        changed = service.update_course(session, course=course, form=data)
    except FormError as exc:
        return invalid(exc, course_page(request, session, course, **form.shown(exc)))
    return _to_course(course.slug, "saved" if changed else "unchanged", "details")


@router.post("/studio/preview", response_class=HTMLResponse)
def preview_markdown(
    user: RequireInstructor, form: Annotated[Posted[PreviewForm], posted(PreviewForm)]
) -> HTMLResponse:
    """The Markdown as learners will see it: a sanitised HTML fragment for the live preview."""
    text = form.valid().text
    if len(text) > service.MARKDOWN_LENGTH:
        message = _("The text can be at most %(max)s characters.", max=service.MARKDOWN_LENGTH)
        return HTMLResponse(Markup('<p class="field__error">%s</p>') % message, status_code=422)
    # Bypass render_markdown's cache: every keystroke's text is new and would only crowd out
    # the published texts it holds.
    return HTMLResponse(render_markdown.__wrapped__(service.clean_text(text)))


@router.post("/studio/courses/{slug}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[StatusForm], posted(StatusForm)],
) -> Response:
    """Publish, take back to draft, or archive."""
    course = _own(session, user, slug)
    try:
        service.set_status(session, course=course, status=form.valid().status)
    except (Conflict, FormError) as exc:
        return invalid(exc, course_page(request, session, course, errors={"status": exc.message}))
    return _to_course(course.slug, course.status)


@router.get("/studio/courses/{slug}/delete", response_class=HTMLResponse)
def confirm_delete(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str
) -> HTMLResponse:
    """Ask for confirmation, or explain why archiving is the way to go."""
    course = _own(session, user, slug)
    return _delete_page(request, session, course)


def _delete_page(
    request: Request,
    session: Session,
    course: Course,
    *,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "course": course,
        "overview": service.overview(session, course=course),
        "blockers": service.deletion_blockers(session, course=course),
        "errors": errors or {},
    }
    return render(request, "studio/delete.html", context)


@router.post("/studio/courses/{slug}/delete", response_class=HTMLResponse)
def delete_course(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete the course for good, when nobody has used it."""
    course = _own(session, user, slug)
    try:
        service.delete_course(session, course=course, confirmed=form.valid().confirmed)
    except Conflict as exc:
        return invalid(exc, _delete_page(request, session, course))
    except FormError as exc:
        return invalid(exc, _delete_page(request, session, course, errors=exc.fields))
    return RedirectResponse("/studio?notice=deleted", status_code=303)


# --- modules --------------------------------------------------------------------------------


@router.post("/studio/courses/{slug}/modules", response_class=HTMLResponse)
def add_module(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    form: ModuleFormDep,
) -> Response:
    """Add a module at the end of the course."""
    course = _own(session, user, slug)
    try:
        module = modules_service.add_module(session, course=course, form=form.valid())
    except FormError as exc:
        shown = form.shown(exc, prefix="new-module-")
        return invalid(exc, course_page(request, session, course, **shown))
    return _to_course(course.slug, "module-added", f"module-{module.id}")


@router.post("/studio/courses/{slug}/modules/{module_id}", response_class=HTMLResponse)
def update_module(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    module_id: PathId,
    form: ModuleFormDep,
) -> Response:
    """Save a module's title, summary and opening day."""
    course = _own(session, user, slug)
    module = modules_service.module_in(session, course=course, module_id=module_id)
    try:
        modules_service.update_module(session, course=course, module=module, form=form.valid())
    except FormError as exc:
        shown = form.shown(exc, prefix=f"module-{module_id}-")
        return invalid(exc, course_page(request, session, course, open_module=module_id, **shown))
    return _to_course(course.slug, "module-saved", f"module-{module_id}")


@router.post("/studio/courses/{slug}/modules/{module_id}/move")
def move_module(
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    module_id: PathId,
    form: Annotated[Posted[MoveForm], posted(MoveForm)],
) -> RedirectResponse:
    """Move a module one place up or down; the same button has the focus afterwards."""
    course = _own(session, user, slug)
    module = modules_service.module_in(session, course=course, module_id=module_id)
    direction = form.valid().direction
    modules_service.move_module(session, course=course, module=module, direction=direction)
    # The button's id is named, not used as a #fragment: browsers skip `autofocus` on a page
    # whose address has a fragment, and following a fragment does not move the focus.
    button = f"module-{module_id}-{direction}"
    return RedirectResponse(f"/studio/courses/{course.slug}?focus={button}", 303)


def _module_delete_page(
    request: Request, session: Session, course: Course, module_id: int
) -> HTMLResponse:
    module = modules_service.module_in(session, course=course, module_id=module_id)
    parts = service.overview(session, course=course).modules
    context = {
        "course": course,
        "module": module,
        "lessons": next((part.lessons for part in parts if part.module.id == module_id), []),
        "blocker": modules_service.module_blocker(session, module=module),
    }
    return render(request, "studio/module_delete.html", context)


@router.get("/studio/courses/{slug}/modules/{module_id}/delete", response_class=HTMLResponse)
def confirm_delete_module(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str, module_id: PathId
) -> HTMLResponse:
    """Ask for confirmation, showing the lessons that go with the module."""
    course = _own(session, user, slug)
    return _module_delete_page(request, session, course, module_id)


@router.post("/studio/courses/{slug}/modules/{module_id}/delete", response_class=HTMLResponse)
def delete_module(
    request: Request, session: SessionDep, user: RequireInstructor, slug: str, module_id: PathId
) -> Response:
    """Delete a module with its lessons, unless learners have progress in them."""
    course = _own(session, user, slug)
    module = modules_service.module_in(session, course=course, module_id=module_id)
    try:
        modules_service.delete_module(session, course=course, module=module)
    except Conflict as exc:
        return invalid(exc, _module_delete_page(request, session, course, module_id))
    return _to_course(course.slug, "module-deleted", "modules")
