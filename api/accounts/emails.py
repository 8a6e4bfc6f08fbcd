"""The account messages, rendered in the recipient's language and handed to the mail module."""

import logging

from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.mail.compose import compose
from api.mail.service import MailError, send

log = logging.getLogger("kern.accounts")


def _send(
    settings: Settings, *, user: User, to: str, subject: str, template: str, **context: object
) -> None:
    """Render `mail/<template>.txt` in the user's language and send it."""
    message = compose(
        settings, user=user, to=to, subject=subject, template=template, context=context
    )
    try:
        send(settings, message)
    except MailError:
        # The change itself is saved; the person can ask for the mail again from the page.
        # (A transactional outbox with retries replaces this in the email issue.)
        log.exception("could not send %s mail to user %s", template, user.id)


def verify_email(settings: Settings, *, user: User, link: str) -> None:
    """Ask a new user to confirm her address."""
    _send(
        settings,
        user=user,
        to=user.email,
        subject=N_("Confirm your email address for Kern"),
        template="verify_email",
        link=link,
    )


def reset_password(settings: Settings, *, user: User, link: str) -> None:
    """Send the link that sets a new password."""
    _send(
        settings,
        user=user,
        to=user.email,
        subject=N_("Set a new password for Kern"),
        template="reset_password",
        link=link,
    )


def confirm_email_change(settings: Settings, *, user: User, new_email: str, link: str) -> None:
    """Ask the new address to confirm the change."""
    _send(
        settings,
        user=user,
        to=new_email,
        subject=N_("Confirm your new email address for Kern"),
        template="confirm_email_change",
        link=link,
        new_email=new_email,
    )


def email_changed(settings: Settings, *, user: User, old_email: str) -> None:
    """Tell the old address that the account moved, in case it was not her."""
    _send(
        settings,
        user=user,
        to=old_email,
        subject=N_("Your Kern email address was changed"),
        template="email_changed",
        old_email=old_email,
    )
