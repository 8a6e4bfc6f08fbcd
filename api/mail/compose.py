"""Messages from templates, in the recipient's own language."""

from collections.abc import Mapping

from api import i18n
from api.accounts.models import User
from api.config import Settings
from api.i18n import gettext as _
from api.mail.service import Message
from web.templating import templates


def compose(
    settings: Settings,
    *,
    user: User,
    subject: str,
    template: str,
    to: str | None = None,
    subject_values: Mapping[str, object] | None = None,
    context: Mapping[str, object] | None = None,
) -> Message:
    """`mail/<template>.txt` and the subject, rendered in the user's language."""
    token = i18n.current_locale.set(user.language)
    try:
        text = templates.get_template(f"mail/{template}.txt").render(
            user=user, base_url=settings.base_url, **(context or {})
        )
        title = _(subject, **(subject_values or {}))
    finally:
        i18n.current_locale.reset(token)
    return Message(to=to or user.email, subject=title, text=text)
