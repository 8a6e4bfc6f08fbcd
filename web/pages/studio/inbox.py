"""The instructor's inbox: her learners' questions, the longest waiting first; one
conversation with its reply form; and a public question and answer made of one."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.catalog import service as catalog
from api.catalog.models import Course
from api.clock import Now
from api.db import SessionDep, in_transaction
from api.errors import FormError
from api.i18n import gettext as _
from api.i18n import ngettext
from api.kit.ids import Id, PathId, QueryId, id_of
from api.messages import notices
from api.messages import public as public_questions
from api.messages import service as messages
from api.messages.models import MAX_MESSAGE_LENGTH
from api.messages.service import InboxRow, Shown
from api.studio.access import owned_course
from web.forms import Checkbox, Form, Posted, Typed, invalid, posted
from web.pages.common import ConfirmForm, settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)


def waited(since: datetime, now: datetime) -> str:
    """How long a question has waited, in words: "waiting 2 days"."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return _("waiting since just now")
    if minutes < 60:
        return ngettext("waiting %(num)s minute", "waiting %(num)s minutes", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("waiting %(num)s hour", "waiting %(num)s hours", hours)
    return ngettext("waiting %(num)s day", "waiting %(num)s days", hours // 24)


@router.get("/studio/inbox", response_class=HTMLResponse)
def show_inbox(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> HTMLResponse:
    """Her learners' conversations: unanswered first (the longest waiting on top, with how
    long), then the others by their latest message."""
    rows = messages.inbox(session, viewer=user)
    context = {
        "rows": rows,
        "waited": {id_of(r.thread): waited(r.thread.awaiting_reply_since, now) for r in rows
                   if r.thread.awaiting_reply_since is not None},
        "waiting": sum(1 for row in rows if row.waiting),
        "viewer": user,
    }  # fmt: skip
    return render(request, "studio/inbox.html", context)


# --- one conversation ---------------------------------------------------------------------------


class ReplyForm(Form):
    body: str = ""


def thread_path(slug: str, thread_id: int) -> str:
    return f"/studio/courses/{slug}/questions/{thread_id}"


def _thread_page(
    request: Request,
    session: Session,
    row: InboxRow,
    now: datetime,
    viewer: User,
    *,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    shown = messages.conversation(session, thread=row.thread)
    if values is None:
        messages.mark_read_by_instructor(session, thread=row.thread, now=now)
    path = thread_path(row.course.slug, id_of(row.thread))
    context: dict[str, Any] = {
        "row": row,
        "course": row.course,
        "learner": row.learner,
        "viewer_id": viewer.id,
        "messages": shown,
        "path": path,
        "public_base": f"{path}/public?message=",
        "waited": (
            waited(row.thread.awaiting_reply_since, now) if row.thread.awaiting_reply_since else ""
        ),
        "values": values or {},
        "errors": errors or {},
        "max_length": MAX_MESSAGE_LENGTH,
        "notice": request.query_params.get("notice") == "sent",
    }
    return render(request, "studio/inbox_thread.html", context)


@router.get("/studio/courses/{slug}/questions/{thread_id}", response_class=HTMLResponse)
@in_transaction  # opening it marks her messages read
def show_thread(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    thread_id: PathId,
) -> HTMLResponse:
    """The conversation, oldest first, and one form to answer; opening it reads her
    messages."""
    row = messages.studio_thread(session, viewer=user, slug=slug, thread_id=thread_id)
    return _thread_page(request, session, row, now, user)


@router.post("/studio/courses/{slug}/questions/{thread_id}", response_class=HTMLResponse)
def send_reply(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    slug: str,
    thread_id: PathId,
    form: Annotated[Posted[ReplyForm], posted(ReplyForm)],
) -> Response:
    """Answer her; she hears of it by mail (without the text) and on "Vandaag"."""
    row = messages.studio_thread(session, viewer=user, slug=slug, thread_id=thread_id)
    try:
        sent = messages.reply(session, thread=row.thread, author=user, body=form.valid().body,
                              now=now)  # fmt: skip
    except FormError as exc:
        return invalid(exc, _thread_page(request, session, row, now, user, **form.shown(exc)))
    notices.answered(
        session, settings_of(request), sent=sent, course=row.course, learner=row.learner
    )
    return RedirectResponse(f"{thread_path(slug, thread_id)}?notice=sent#latest", status_code=303)


# --- a public question and answer made of it ----------------------------------------------------


class PublicForm(Form):
    message: Id | None = None
    lesson_id: Id | None = None
    question: str = ""
    answer: str = Field(default="", max_length=MAX_MESSAGE_LENGTH * 2)
    anonymous: Checkbox = False


def _answer_after(shown: list[Shown], message_id: int) -> str:
    """The first answer after her message, as the starting point of the public answer."""
    after = False
    for item in shown:
        if item.message.id == message_id:
            after = True
        elif after and not item.message.from_learner:
            return item.message.body
    return ""


def _public_page(
    request: Request,
    session: Session,
    row: InboxRow,
    original: Shown,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "row": row,
        "course": row.course,
        "original": original,
        "modules": catalog.modules_of(session, row.course),
        "path": thread_path(row.course.slug, id_of(row.thread)),
        "values": values,
        "errors": errors or {},
    }
    return render(request, "studio/inbox_public.html", context)


@router.get("/studio/courses/{slug}/questions/{thread_id}/public", response_class=HTMLResponse)
def show_public_form(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    thread_id: PathId,
    message: QueryId = None,
) -> HTMLResponse:
    """Her question and the answer, to be rewritten before they may go on the lesson."""
    row = messages.studio_thread(session, viewer=user, slug=slug, thread_id=thread_id)
    shown = messages.conversation(session, thread=row.thread)
    original = _original(shown, message)
    values = {
        "message": str(original.message.id),
        "question": original.message.body,
        "answer": _answer_after(shown, id_of(original.message)),
        "lesson_id": str(original.lesson.id) if original.lesson else "",
    }
    return _public_page(request, session, row, original, values)


def _original(shown: list[Shown], message_id: int | None) -> Shown:
    """Her message the form starts from: the one asked for, else her latest."""
    hers = [item for item in shown if item.message.from_learner]
    chosen = [item for item in hers if item.message.id == message_id]
    if chosen:
        return chosen[0]
    if hers:
        return hers[-1]
    raise FormError({"message": _("There is no question in this conversation yet.")})


@router.post("/studio/courses/{slug}/questions/{thread_id}/public", response_class=HTMLResponse)
def publish_question(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    thread_id: PathId,
    form: Annotated[Posted[PublicForm], posted(PublicForm)],
) -> Response:
    """Put the rewritten question and answer on the lesson; only when she ticked that nothing
    identifies the learner any more and the question is no longer her own words."""
    row = messages.studio_thread(session, viewer=user, slug=slug, thread_id=thread_id)
    shown = messages.conversation(session, thread=row.thread)
    original = _original(shown, form.form.message if form.form else None)
    try:
        data = form.valid()
        if not data.anonymous:
            raise FormError(
                {"anonymous": _("Check the text once more, then tick this box to confirm it.")}
            )
        if data.lesson_id is None:
            raise FormError({"lesson_id": _("Choose a lesson of this course.")})
        item = public_questions.publish(
            session, course=row.course, lesson_id=data.lesson_id, question=data.question,
            answer=data.answer, original=original.message.body,
        )  # fmt: skip
    except FormError as exc:
        page = _public_page(request, session, row, original, **form.shown(exc))
        return invalid(exc, page)
    target = f"/studio/courses/{slug}/lessons/{item.lesson_id}?notice=question-published#questions"
    return RedirectResponse(target, status_code=303)


# --- public questions on the lesson's studio page -----------------------------------------------


class LessonQuestionForm(Form):
    question: str = ""
    answer: str = ""


def _lesson_page_url(course: Course, lesson_id: int, notice: str) -> str:
    return f"/studio/courses/{course.slug}/lessons/{lesson_id}?notice={notice}#questions"


@router.post("/studio/courses/{slug}/lesson-questions/{question_id}", response_class=HTMLResponse)
def save_lesson_question(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    question_id: PathId,
    form: Annotated[Posted[LessonQuestionForm], posted(LessonQuestionForm)],
) -> Response:
    """Change a public question and its answer."""
    course = owned_course(session, viewer=user, slug=slug)
    item = public_questions.in_course(session, course=course, question_id=question_id)
    try:
        data = form.valid()
        public_questions.update(session, item=item, question=data.question, answer=data.answer)
    except FormError as exc:
        context = {"course": course, "item": item, **form.shown(exc)}
        return invalid(exc, render(request, "studio/lesson_question.html", context))
    return RedirectResponse(
        _lesson_page_url(course, item.lesson_id, "question-saved"), status_code=303
    )


@router.post("/studio/courses/{slug}/lesson-questions/{question_id}/delete")
def delete_lesson_question(
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    question_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Take a public question off its lesson."""
    course = owned_course(session, viewer=user, slug=slug)
    item = public_questions.in_course(session, course=course, question_id=question_id)
    if not form.valid().confirmed:
        return RedirectResponse(_lesson_page_url(course, item.lesson_id, ""), status_code=303)
    public_questions.remove(session, item=item)
    return RedirectResponse(
        _lesson_page_url(course, item.lesson_id, "question-deleted"), status_code=303
    )
