"""Her questions to her therapist: asking from a lesson or from "Vandaag", and her
conversation about a course with every message both ways."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts.access import RequireUser
from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson
from api.clock import Now
from api.consent import service as consent_service
from api.consent import texts
from api.consent.service import ConsentRequired, ConsentTextChanged
from api.db import SessionDep, in_transaction
from api.errors import AppError, FormError, NotFound
from api.i18n import gettext as _
from api.messages import notices
from api.messages import service as messages
from api.messages.models import MAX_MESSAGE_LENGTH
from api.messages.service import TooManyMessages
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.common import settings_of
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


class AskForm(Form):
    """A question or a reply of hers; `lesson` (a slug) names the lesson she asked from,
    `course` (a slug) the course when she asks from "Vandaag"."""

    body: str = ""
    lesson: str = ""
    course: str = ""
    agree: str = ""
    version: str = ""


AskPost = Annotated[Posted[AskForm], posted(AskForm)]


def thread_url(slug: str) -> str:
    return f"/courses/{slug}/questions"


def _enrolled(session: Session, user: User, slug: str, now: datetime) -> catalog.CourseOutline:
    """The course, when she follows it; NotFound otherwise (also for staff, who answer in the
    studio)."""
    outline = catalog.outline(session, slug=slug, viewer=user, now=now)
    if not outline.enrolled:
        raise NotFound(_("You can ask a question in a course you follow."))
    return outline


def _lesson_of(user: User, outline: catalog.CourseOutline, slug: str) -> Lesson | None:
    """The lesson she asked from, when it is one of the course she may open."""
    for lesson in outline.lessons:
        if lesson.slug == slug and catalog.may_open(user, outline, lesson):
            return lesson
    return None


@dataclass(frozen=True, slots=True)
class CourseChoice:
    """A course she may ask about, as the question form offers it: plain values, so that a
    kept form can be found by them (progress/ask_card.html)."""

    slug: str
    title: str
    language: str


def course_choices(courses: Iterable[Course]) -> tuple[CourseChoice, ...]:
    return tuple(CourseChoice(course.slug, course.title, course.language) for course in courses)


def ask_form_context(user: User) -> dict[str, Any]:
    """What a form that sends a message needs to ask her consent in place."""
    return {
        "ask_consent": not consent_service.has_health_consent(user),
        "consent": texts.health_data_text(),
        "max_length": MAX_MESSAGE_LENGTH,
    }


def _thread_page(
    request: Request,
    session: Session,
    user: User,
    outline: catalog.CourseOutline,
    now: datetime,
    *,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    thread = messages.thread_of(session, course=outline.course, learner=user)
    shown = messages.conversation(session, thread=thread) if thread else []
    if thread is not None and values is None:
        messages.mark_read_by_learner(session, thread=thread, now=now)
    context: dict[str, Any] = {
        "course": outline.course,
        "instructor": outline.instructor,
        "messages": shown,
        "values": values or {},
        "errors": errors or {},
        "notice": request.query_params.get("notice") == "sent",
        **ask_form_context(user),
    }
    return render(request, "conversations/thread.html", context)


@router.get("/courses/{slug}/questions", response_class=HTMLResponse)
@in_transaction  # opening it marks the answers read
def show_thread(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str
) -> HTMLResponse:
    """Her conversation with the course's therapist, oldest first; opening it reads the
    answers."""
    return _thread_page(request, session, user, _enrolled(session, user, slug, now), now)


def _send(
    request: Request,
    session: Session,
    user: User,
    outline: catalog.CourseOutline,
    form: Posted[AskForm],
    now: datetime,
) -> None:
    """Check and store her message (and her consent, when she gave it with it), then queue the
    mail to her therapist."""
    data = form.valid()
    body = messages.clean_body(data.body)  # her text first: consent is recorded only with it
    if data.agree == "yes" and not consent_service.has_health_consent(user):
        consent_service.give_health_consent(
            session, user=user, version=data.version, language=locale_of(request), now=now
        )
    sent = messages.ask(
        session,
        learner=user,
        outline=outline,
        body=body,
        lesson=_lesson_of(user, outline, data.lesson),
        now=now,
    )
    notices.question_asked(session, settings_of(request), sent=sent, course=outline.course)


SENDING_ERRORS = (FormError, ConsentRequired, ConsentTextChanged, TooManyMessages)


def shown_again(form: Posted[AskForm], exc: AppError) -> dict[str, Any]:
    """What the page shows again after a refused message: her text and the message at its
    input."""
    if isinstance(exc, FormError):
        errors = dict(exc.fields)
    elif isinstance(exc, ConsentRequired):
        errors = {
            "agree": _("Tick the box to let Kern keep your message. Your text is still here.")
        }
    elif isinstance(exc, TooManyMessages):
        errors = {"body": exc.message}
    else:
        errors = {"agree": exc.message}
    return {"values": form.values, "errors": errors}


@router.post("/courses/{slug}/questions", response_class=HTMLResponse)
def send_in_course(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str, form: AskPost
) -> Response:
    """Her question from a lesson, or her reply in the conversation."""
    outline = _enrolled(session, user, slug, now)
    try:
        _send(request, session, user, outline, form, now)
    except SENDING_ERRORS as exc:
        page = _thread_page(request, session, user, outline, now, **shown_again(form, exc))
        return invalid(exc, page)
    return RedirectResponse(f"{thread_url(slug)}?notice=sent#latest", status_code=303)


def _ask_page(
    request: Request,
    session: Session,
    user: User,
    now: datetime,
    *,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "outlines": catalog.enrolled_outlines(session, viewer=user, now=now),
        "values": values or {},
        "errors": errors or {},
        **ask_form_context(user),
    }
    return render(request, "conversations/ask.html", context)


@router.get("/questions", response_class=HTMLResponse)
def show_ask(request: Request, session: SessionDep, user: RequireUser, now: Now) -> HTMLResponse:
    """Ask her therapist a question about one of her courses, and find her conversations."""
    return _ask_page(request, session, user, now)


@router.post("/questions", response_class=HTMLResponse)
def send_from_today(
    request: Request, session: SessionDep, user: RequireUser, now: Now, form: AskPost
) -> Response:
    """Her question from "Vandaag", about the course she chose."""
    slug = form.form.course if form.form else ""
    outlines = {o.course.slug: o for o in catalog.enrolled_outlines(session, viewer=user, now=now)}
    try:
        outline = outlines.get(slug)
        if outline is None:
            raise FormError({"course": _("Choose the course your question is about.")})
        _send(request, session, user, outline, form, now)
    except SENDING_ERRORS as exc:
        return invalid(exc, _ask_page(request, session, user, now, **shown_again(form, exc)))
    return RedirectResponse(f"{thread_url(slug)}?notice=sent#latest", status_code=303)
