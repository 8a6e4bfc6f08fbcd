"""Messages from templates, in the recipient's own language, as plain text and HTML."""

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from api import i18n
from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.i18n import gettext as _
from api.mail.html import blocks
from api.mail.outbox import enqueue
from api.mail.service import Attachment, Message
from api.mail.templating import templates
from api.mail.unsubscribe import Topic, make_link

DEFAULT_ACTION = N_("Open Kern")


def compose(
    settings: Settings,
    *,
    user: User,
    subject: str,
    template: str,
    to: str | None = None,
    subject_values: Mapping[str, object] | None = None,
    context: Mapping[str, object] | None = None,
    action: str = DEFAULT_ACTION,
    unsubscribe_url: str | None = None,
    attachment: Attachment | None = None,
) -> Message:
    """`<template>.txt` (api/mail/templates) and the subject, rendered in the user's language;
    the HTML part is the same text in `layout.html`, its first link on a line of its own a
    button labelled `action` (a msgid)."""
    token = i18n.current_locale.set(user.language)
    try:
        text = templates.get_template(f"{template}.txt").render(
            user=user, base_url=settings.base_url, **(context or {})
        )
        title = _(subject, **(subject_values or {}))
        html = templates.get_template("layout.html").render(
            locale=user.language,
            subject=title,
            blocks=blocks(text),
            button_label=_(action),
            preferences_url=f"{settings.base_url}/account/mail",
        )
    finally:
        i18n.current_locale.reset(token)
    return Message(
        to=to or user.email,
        subject=title,
        text=text,
        html=html,
        unsubscribe_url=unsubscribe_url,
        attachment=attachment,
    )


def queue(
    session: Session,
    settings: Settings,
    *,
    user: User,
    template: str,
    subject: str,
    action: str = DEFAULT_ACTION,
    to: str | None = None,
    subject_values: Mapping[str, object] | None = None,
    context: Mapping[str, object] | None = None,
    key: str | None = None,
    stop: Topic | None = None,
    now: datetime | None = None,
    attachment: Attachment | None = None,
) -> bool:
    """Compose `<template>.txt` for the user and queue it in the session's transaction;
    False when a message with the same `key` was queued before. With `stop`, the template gets
    `stop_url` (the signed link that stops this kind of mail), which the mail program's own
    unsubscribe button uses too."""
    stop_url = None
    if stop is not None:
        if user.id is None:
            raise ValueError("a mail with a stop link needs a stored account")
        stop_url = make_link(settings, user_id=user.id, topic=stop)
    message = compose(
        settings,
        user=user,
        to=to,
        subject=subject,
        subject_values=subject_values,
        template=template,
        context={**(context or {}), **({"stop_url": stop_url} if stop_url else {})},
        action=action,
        unsubscribe_url=stop_url,
        attachment=attachment,
    )
    return enqueue(session, message, kind=template, user_id=user.id, key=key, now=now)
