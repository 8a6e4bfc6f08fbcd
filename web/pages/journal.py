"""Her journal: the list of her entries by day, the write and edit form (with a lesson's prompt
and the consent in the same form when it is missing), sharing one entry with her therapist and
taking it back, and deleting an entry after a confirmation."""

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import RequireUser
from api.accounts.models import User
from api.catalog.models import Course
from api.clock import Now, local_day
from api.consent import service as consent_service
from api.consent import texts
from api.consent.service import ConsentRequired, ConsentTextChanged
from api.db import SessionDep
from api.errors import AppError, FormError
from api.i18n import format_number
from api.i18n import gettext as _
from api.journal import service as journal
from api.journal.models import MAX_ENTRY_LENGTH, JournalEntry
from api.journal.service import EntryInput, LessonPrompt
from api.kit.ids import PathId, id_of
from api.kit.keyset import Cursor
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.common import ConfirmForm
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

JOURNAL = "/journal"
PAGE_SIZE = 30
NOTICES = frozenset({"saved", "changed", "deleted", "shared", "unshared"})
SCALE_VALUES = [str(n) for n in range(11)]


class EntryForm(EntryInput, Form):
    """The write and edit form: the entry, her consent when it is asked, and the lesson whose
    prompt she writes to (by course and lesson slug)."""

    agree: str = ""
    version: str = ""
    course: str = ""
    lesson: str = ""


class ShareForm(Form):
    course: str = ""
    # The list page she shared from (its cursor), so she stays where she was.
    page: str = ""


class UnshareForm(Form):
    page: str = ""


EntryPost = Annotated[Posted[EntryForm], posted(EntryForm)]


def _list_url(page: str = "", *, notice: str = "", anchor: str = "") -> str:
    query = {}
    if notice:
        query["notice"] = notice
    if Cursor.parse(page) is not None:
        query["cursor"] = page
    return JOURNAL + (f"?{urlencode(query)}" if query else "") + (f"#{anchor}" if anchor else "")


# --- the list -----------------------------------------------------------------------------------


@router.get("/journal", response_class=HTMLResponse)
def show_journal(
    request: Request, session: SessionDep, user: RequireUser, cursor: str = ""
) -> HTMLResponse:
    """Her entries, newest day first, each private or shared with a course's therapist."""
    # A cursor that cannot be read (an old or edited link) shows the newest entries.
    since = Cursor.parse(cursor)
    found = journal.entries(session, user_id=id_of(user), cursor=since, limit=PAGE_SIZE + 1)
    shown = found[:PAGE_SIZE]
    older = journal.next_cursor(shown[-1]) if len(found) > PAGE_SIZE else None
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "rows": shown,
        "courses": journal.share_options(session, user=user) if shown else [],
        "may_share": consent_service.has_health_consent(user),
        "page": str(since) if since else "",
        "older_url": f"{JOURNAL}?{urlencode({'cursor': str(older)})}" if older else None,
        "newest_url": JOURNAL if since else None,
        "notice": notice if notice in NOTICES else None,
    }
    return render(request, "journal/index.html", context)


# --- writing and editing ------------------------------------------------------------------------


def _form_page(
    request: Request,
    user: User,
    now: datetime,
    *,
    entry: JournalEntry | None = None,
    shared_course: Course | None = None,
    prompt: LessonPrompt | None = None,
    values: dict[str, Typed] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "entry": entry,
        "shared_course": shared_course,
        "prompt": prompt,
        "values": values or {},
        "errors": errors or {},
        "problem": problem,
        "today": local_day(now).isoformat(),
        "scale_values": SCALE_VALUES,
        "max_length": MAX_ENTRY_LENGTH,
        "max_length_text": format_number(MAX_ENTRY_LENGTH),
        "ask_consent": not consent_service.has_health_consent(user),
        "consent": texts.health_data_text(),
    }
    return render(request, "journal/form.html", context)


def _shown(form: Posted[EntryForm], exc: AppError) -> dict[str, Any]:
    """What the form shows again: everything she typed, and what is wrong where."""
    if isinstance(exc, FormError):
        errors = dict(exc.fields)
    elif isinstance(exc, ConsentRequired):
        errors = {
            "agree": _("Tick the box to let Kern keep your journal. What you wrote is still here.")
        }
    else:
        errors = {"agree": exc.message}
    return {"values": form.values, "errors": errors}


@router.get("/journal/new", response_class=HTMLResponse)
def new_entry(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    course: str = "",
    lesson: str = "",
) -> HTMLResponse:
    """An empty entry for today; from a lesson, with its prompt above the text box."""
    prompt = journal.lesson_prompt(session, user=user, slug=course, lesson_slug=lesson, now=now)
    values: dict[str, Typed] = {"day": local_day(now).isoformat()}
    if prompt is not None:
        values.update(course=course, lesson=lesson)
    return _form_page(request, user, now, prompt=prompt, values=values)


@router.post("/journal/new", response_class=HTMLResponse)
def write_entry(
    request: Request, session: SessionDep, user: RequireUser, now: Now, form: EntryPost
) -> Response:
    """Keep the entry (and her consent, given in the same form); what she typed stays on a
    refusal."""
    typed = form.values
    prompt = journal.lesson_prompt(
        session, user=user, slug=str(typed["course"]), lesson_slug=str(typed["lesson"]), now=now
    )
    try:
        data = form.valid()
        values = journal.check(data, now=now)
        _give_consent(session, request, user, data, now)
        entry = journal.write(session, user=user, values=values, prompt=prompt, now=now)
    except (FormError, ConsentRequired, ConsentTextChanged) as exc:
        return invalid(exc, _form_page(request, user, now, prompt=prompt, **_shown(form, exc)))
    return RedirectResponse(_list_url(notice="saved", anchor=f"entry-{entry.id}"), 303)


def _give_consent(
    session: SessionDep, request: Request, user: User, data: EntryForm, now: datetime
) -> None:
    """Record the consent she gave in this form, if she ticked the box."""
    if data.agree == "yes" and not consent_service.has_health_consent(user):
        consent_service.give_health_consent(
            session, user=user, version=data.version, language=locale_of(request), now=now
        )


def _entry_values(entry: JournalEntry) -> dict[str, Typed]:
    return {
        "text": entry.text,
        "day": entry.day.isoformat(),
        "tension": "" if entry.tension is None else str(entry.tension),
        "pain": "" if entry.pain is None else str(entry.pain),
    }


@router.get("/journal/{entry_id}/edit", response_class=HTMLResponse)
def show_entry(
    request: Request, session: SessionDep, user: RequireUser, now: Now, entry_id: PathId
) -> HTMLResponse:
    """Her entry in the form, to change or delete."""
    entry = journal.entry_of(session, user=user, entry_id=entry_id)
    shared = journal.shared_course(session, entry=entry)
    return _form_page(
        request, user, now, entry=entry, shared_course=shared, values=_entry_values(entry)
    )


@router.post("/journal/{entry_id}/edit", response_class=HTMLResponse)
def save_entry(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    entry_id: PathId,
    form: EntryPost,
) -> Response:
    """Save her changes; what she typed stays on a refusal."""
    entry = journal.entry_of(session, user=user, entry_id=entry_id)
    try:
        data = form.valid()
        values = journal.check(data, now=now)
        _give_consent(session, request, user, data, now)
        journal.edit(session, user=user, entry=entry, values=values, now=now)
    except (FormError, ConsentRequired, ConsentTextChanged) as exc:
        shared = journal.shared_course(session, entry=entry)
        page = _form_page(
            request, user, now, entry=entry, shared_course=shared, **_shown(form, exc)
        )
        return invalid(exc, page)
    return RedirectResponse(_list_url(notice="changed", anchor=f"entry-{entry.id}"), 303)


@router.post("/journal/{entry_id}/delete", response_class=HTMLResponse)
def delete_entry(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    entry_id: PathId,
    form: Annotated[Posted[ConfirmForm], posted(ConfirmForm)],
) -> Response:
    """Delete her entry after its confirmation button."""
    entry = journal.entry_of(session, user=user, entry_id=entry_id)
    if not form.valid().confirmed:
        problem = _("Nothing was deleted: confirm with the button “Yes, delete”.")
        page = _form_page(
            request,
            user,
            now,
            entry=entry,
            shared_course=journal.shared_course(session, entry=entry),
            values=_entry_values(entry),
            problem=problem,
        )
        page.status_code = 422
        return page
    journal.remove(session, entry=entry)
    return RedirectResponse(_list_url(notice="deleted"), status_code=303)


# --- sharing ------------------------------------------------------------------------------------


@router.post("/journal/{entry_id}/share")
def share_entry(
    session: SessionDep,
    user: RequireUser,
    now: Now,
    entry_id: PathId,
    form: Annotated[Posted[ShareForm], posted(ShareForm)],
) -> Response:
    """Let the therapist of one of her courses read this entry."""
    entry = journal.entry_of(session, user=user, entry_id=entry_id)
    data = form.valid()
    course_id = int(data.course) if data.course.isascii() and data.course.isdigit() else None
    journal.share(session, user=user, entry=entry, course_id=course_id, now=now)
    return RedirectResponse(
        _list_url(data.page, notice="shared", anchor=f"entry-{entry.id}"), status_code=303
    )


@router.post("/journal/{entry_id}/unshare")
def unshare_entry(
    session: SessionDep,
    user: RequireUser,
    entry_id: PathId,
    form: Annotated[Posted[UnshareForm], posted(UnshareForm)],
) -> Response:
    """Make the entry private again."""
    entry = journal.entry_of(session, user=user, entry_id=entry_id)
    journal.unshare(session, entry=entry)
    return RedirectResponse(
        _list_url(form.valid().page, notice="unshared", anchor=f"entry-{entry.id}"),
        status_code=303,
    )
