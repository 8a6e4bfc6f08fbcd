"""The studio's attention list ("Aandacht"): who in her courses needs attention now, and why,
with a form per reason to mark it handled."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.accounts.access import RequireInstructor
from api.accounts.models import User
from api.attention import service as attention
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError
from api.kit.ids import PathId
from web.forms import Form, Posted, Typed, invalid, posted
from web.templating import render

router = APIRouter(include_in_schema=False)


class HandledForm(Form):
    reason_key: str = ""
    note: str = ""


def _attention_page(
    request: Request,
    session: Session,
    user: User,
    now: datetime,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Typed] | None = None,
) -> HTMLResponse:
    entries = attention.waiting(session, viewer=user, now=now)
    context: dict[str, Any] = {
        "entries": entries,
        "counts": attention.count_by_kind(entries),
        "labels": attention.KIND_LABELS,
        "errors": errors or {},
        "values": values or {},
        "notice": request.query_params.get("notice"),
        "max_note": attention.MAX_NOTE_LENGTH,
    }
    return render(request, "studio/attention.html", context)


@router.get("/studio/attention", response_class=HTMLResponse)
def show_attention(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> HTMLResponse:
    """Her learners who need attention now, longest waiting first, each with the reasons."""
    return _attention_page(request, session, user, now)


@router.post("/studio/attention/{enrolment_id}/handled", response_class=HTMLResponse)
def mark_handled(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    now: Now,
    enrolment_id: PathId,
    form: Annotated[Posted[HandledForm], posted(HandledForm)],
) -> Response:
    """Take one reason of one learner off the list, with an optional short note."""
    try:
        data = form.valid()
        attention.mark_handled(
            session,
            viewer=user,
            enrolment_id=enrolment_id,
            reason_key=data.reason_key,
            note=data.note,
            now=now,
        )
    except FormError as exc:
        # Each reason has its own form; the template names its fields by the reason's key.
        shown = form.shown(exc, prefix=f"{enrolment_id}-{form.values.get('reason_key', '')}-")
        return invalid(exc, _attention_page(request, session, user, now, **shown))
    return RedirectResponse("/studio/attention?notice=handled", status_code=303)
