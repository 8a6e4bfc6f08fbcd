"""Messages from templates, in the recipient's own language, as plain text and HTML."""

from collections.abc import Mapping

from api import i18n
from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.i18n import gettext as _
from api.mail.html import blocks
from api.mail.service import Message
from web.templating import templates

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
) -> Message:
    """`mail/<template>.txt` and the subject, rendered in the user's language; the HTML part
    is the same text in `mail/layout.html`, its first link on a line of its own a button
    labelled `action` (a msgid)."""
    token = i18n.current_locale.set(user.language)
    try:
        text = templates.get_template(f"mail/{template}.txt").render(
            user=user, base_url=settings.base_url, **(context or {})
        )
        title = _(subject, **(subject_values or {}))
        html = templates.get_template("mail/layout.html").render(
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
    )
