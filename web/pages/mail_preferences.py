"""Her mail and push notification choices (/account/mail) with the devices that receive
notifications, and the signed link in a mail that stops one kind of mail without logging in
(/unsubscribe/<token>)."""

from collections.abc import Mapping
from typing import Annotated, Any

from babel import Locale
from babel.dates import get_day_names
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api.accounts.access import RequireUser
from api.accounts.models import User
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError, NotFound
from api.i18n import gettext as _
from api.kit.ids import PathId, id_of
from api.mail.unsubscribe import Topic, read_token
from api.push import keys as push_keys
from api.push import service as push
from api.reminders import service
from api.reminders.models import MAX_REMINDER_TIMES
from web.forms import Checkbox, Form, Posted, invalid, posted
from web.pages.common import settings_of
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


def _weekday_labels(request: Request) -> list[tuple[str, str]]:
    """(value, name) for Monday to Sunday, named in the page's language."""
    names = get_day_names("wide", locale=Locale.parse(locale_of(request)))
    return [(str(day), str(names[day]).capitalize()) for day in range(7)]


class MailForm(Form):
    weekdays: list[str] = Field(default_factory=list)
    times: list[str] = Field(default_factory=list)
    module_opened: Checkbox = False
    new_enrolment: Checkbox = False
    new_message: Checkbox = False
    attention_summary: Checkbox = False
    reminder_mail: Checkbox = False
    reminder_push: Checkbox = False
    module_opened_push: Checkbox = False
    new_message_push: Checkbox = False


class UnsubscribeForm(Form):
    action: str = ""


def _mail_page(
    request: Request,
    session: SessionDep,
    user: User,
    values: Mapping[str, Any],
    *,
    stopped: bool = False,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    times = list(values["times"])[:MAX_REMINDER_TIMES]
    context = {
        "weekday_labels": _weekday_labels(request),
        "values": {**values, "times": times + [""] * (MAX_REMINDER_TIMES - len(times))},
        "errors": errors or {},
        "stopped": stopped,
        "asks_enrolments": service.receives_enrolment_notices(user),
        "notice": request.query_params.get("notice"),
        "devices": [
            (device, push.device_name(device)) for device in push.list_devices(session, user=user)
        ],
        "push_key": push_keys.keys(settings_of(request)).public_key,
    }
    return render(request, "account/mail.html", context)


@router.get("/account/mail", response_class=HTMLResponse)
def show_mail_preferences(request: Request, session: SessionDep, user: RequireUser) -> Response:
    """The days and times of her practice reminders, and which notices she receives."""
    preference = service.get(session, user_id=id_of(user))
    values = {
        "weekdays": [str(day) for day in service.weekdays_of(preference)],
        "times": service.times_of(preference),
        "module_opened": preference.module_opened,
        "new_enrolment": preference.new_enrolment,
        "new_message": preference.new_message,
        "attention_summary": preference.attention_summary,
        **{name: getattr(preference, name) for name in service.CHANNELS},
    }
    return _mail_page(request, session, user, values, stopped=service.is_stopped(preference))


@router.post("/account/mail", response_class=HTMLResponse)
def save_mail_preferences(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    form: Annotated[Posted[MailForm], posted(MailForm)],
) -> Response:
    """Save her choices; reminders start from the next chosen moment."""
    try:
        data = form.valid()
        service.save(
            session,
            user=user,
            weekdays=data.weekdays,
            times=data.times,
            module_opened=data.module_opened,
            new_enrolment=data.new_enrolment,
            new_message=data.new_message,
            attention_summary=data.attention_summary,
            channels={name: getattr(data, name) for name in service.CHANNELS},
            now=now,
        )
    except FormError as exc:
        return invalid(exc, _mail_page(request, session, user, **form.shown(exc)))
    return RedirectResponse("/account/mail?notice=saved", status_code=303)


@router.post("/account/mail/devices/{subscription_id}/remove")
def remove_push_device(
    subscription_id: PathId, session: SessionDep, user: RequireUser
) -> RedirectResponse:
    """No more notifications to one of her devices (an old phone, say)."""
    if not push.remove(session, user=user, subscription_id=subscription_id):
        raise NotFound(_("This device does not receive notifications."))
    return RedirectResponse("/account/mail?notice=device-removed#push", status_code=303)


def _unsubscribe_page(
    request: Request,
    token: str,
    *,
    topic: str | None,
    resumed: bool = False,
    asking: bool = False,
    **extra: Any,
) -> HTMLResponse:
    context = {"token": token, "topic": topic, "resumed": resumed, "asking": asking, **extra}
    return render(request, "account/unsubscribed.html", context, status_code=200 if topic else 400)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def confirm_unsubscribe(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """The link in a mail shows one button that stops that kind of mail; opening it changes
    nothing, because mail scanners and link previews open links too."""
    link = read_token(settings_of(request), token)
    if link is None or not service.has_account(session, user_id=link.user_id):
        return _unsubscribe_page(request, token, topic=None)
    return _unsubscribe_page(request, token, topic=link.topic.value, asking=True)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_or_resume(
    request: Request,
    session: SessionDep,
    token: str,
    now: Now,
    form: Annotated[Posted[UnsubscribeForm], posted(UnsubscribeForm)],
) -> HTMLResponse:
    """The one-click unsubscribe a mail program sends (RFC 8058: `List-Unsubscribe=One-Click`),
    the button on the link's page that stops the mail, or the one that turns it on again
    (`action=resume`). The signed token is the proof, so this path needs no CSRF token (see
    api/security/csrf.py)."""
    link = read_token(settings_of(request), token)
    if link is None:
        return _unsubscribe_page(request, token, topic=None)
    resuming = form.valid().action == "resume"
    change = service.resume if resuming else service.stop
    if not change(session, user_id=link.user_id, topic=link.topic, now=now):
        return _unsubscribe_page(request, token, topic=None)
    no_times = False
    if resuming and link.topic is Topic.reminders:
        no_times = service.get(session, user_id=link.user_id).next_reminder_at is None
    return _unsubscribe_page(
        request, token, topic=link.topic.value, resumed=resuming, no_times=no_times
    )
