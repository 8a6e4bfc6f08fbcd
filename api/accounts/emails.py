"""The account messages, rendered in the recipient's language and queued in the outbox."""

from sqlmodel import Session

from api.accounts.models import User
from api.config import Settings
from api.i18n import N_
from api.mail.compose import queue


def verify_email(session: Session, settings: Settings, *, user: User, link: str) -> None:
    """Ask a new user to confirm her address."""
    queue(
        session,
        settings,
        user=user,
        subject=N_("Confirm your email address for Kern"),
        template="verify_email",
        action=N_("Confirm my address"),
        context={"link": link},
    )


def welcome(session: Session, settings: Settings, *, user: User) -> None:
    """Welcome her once her address is confirmed: where to start and what Kern will send."""
    queue(
        session,
        settings,
        user=user,
        subject=N_("Welcome to Kern"),
        template="welcome",
        action=N_("Find a course"),
    )


def reset_password(session: Session, settings: Settings, *, user: User, link: str) -> None:
    """Send the link that sets a new password."""
    queue(
        session,
        settings,
        user=user,
        subject=N_("Set a new password for Kern"),
        template="reset_password",
        action=N_("Set a new password"),
        context={"link": link},
    )


def confirm_email_change(
    session: Session, settings: Settings, *, user: User, new_email: str, link: str
) -> None:
    """Ask the new address to confirm the change."""
    queue(
        session,
        settings,
        user=user,
        to=new_email,
        subject=N_("Confirm your new email address for Kern"),
        template="confirm_email_change",
        action=N_("Confirm my new address"),
        context={"link": link, "new_email": new_email},
    )


def email_changed(session: Session, settings: Settings, *, user: User, old_email: str) -> None:
    """Tell the old address that the account moved, in case it was not her."""
    queue(
        session,
        settings,
        user=user,
        to=old_email,
        subject=N_("Your Kern email address was changed"),
        template="email_changed",
        action=N_("Open Kern"),
        context={"old_email": old_email},
    )


def email_change_requested(
    session: Session, settings: Settings, *, user: User, new_email: str, link: str
) -> None:
    """Tell the current address at once that a change was asked for, with a link to stop it."""
    queue(
        session,
        settings,
        user=user,
        subject=N_("A new email address was requested for your Kern account"),
        template="email_change_requested",
        action=N_("Cancel the change"),
        context={"link": link, "new_email": new_email},
    )


def already_registered(session: Session, settings: Settings, *, user: User) -> None:
    """Someone signed up with an address that has an account: point her to logging in."""
    queue(
        session,
        settings,
        user=user,
        subject=N_("You already have a Kern account"),
        template="already_registered",
        action=N_("Log in"),
    )


def sign_in_link(session: Session, settings: Settings, *, user: User, link: str) -> None:
    """Send the link that signs her in without her password."""
    queue(
        session,
        settings,
        user=user,
        subject=N_("Your sign-in link for Kern"),
        template="sign_in_link",
        action=N_("Sign in to Kern"),
        context={"link": link},
    )
