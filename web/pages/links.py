"""Links by mail: confirm the address, set a new password, sign in without the password.

Opening a link (GET) only shows a button: mail scanners open links, and must not use them up.
Pressing it (POST) does the work. Asking for a link answers the same whatever the address.
"""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import requests, service, sessions, tokens
from api.accounts.access import VisitorDep
from api.accounts.models import TokenPurpose
from api.db import SessionDep
from api.errors import AppError, FormError, TooManyAttempts
from web.forms import Form, Posted, invalid, posted
from web.pages.auth import HOME, Onward, clear_session_cookie, sign_in, too_many
from web.pages.common import client_ip, settings_of
from web.pages.home import safe_next
from web.templating import render

router = APIRouter(include_in_schema=False)


class AddressForm(Form):
    email: str = ""


class LinkForm(AddressForm):
    next: Onward = HOME

    tidy = frozenset({"next"})


class NewPasswordForm(Form):
    password: str = ""

    secret = frozenset({"password"})


def link_invalid(request: Request, exc: AppError) -> HTMLResponse:
    """The page for a link that no longer works (used, expired or replaced)."""
    return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)


def button_page(
    request: Request, session: SessionDep, token: str, purpose: TokenPurpose, template: str
) -> HTMLResponse:
    """The page with the one button, if the link still works: opening a mailed link changes
    nothing (mail scanners open links), pressing its button does."""
    try:
        record = tokens.peek(session, token=token, purpose=purpose)
    except tokens.InvalidLink as exc:
        return link_invalid(request, exc)
    return render(request, template, {"token": token, "new_email": record.new_email})


def _signed_in_by_link(
    request: Request,
    session: SessionDep,
    visitor: sessions.Visitor,
    *,
    token: str,
    purpose: TokenPurpose,
    default: str,
) -> Response:
    """Use the link and sign its owner in (the code step first if she has one)."""
    try:
        used = service.use_link(session, settings_of(request), token=token, purpose=purpose)
    except tokens.InvalidLink as exc:
        return link_invalid(request, exc)
    target = safe_next(used.next_path or default)
    if visitor.signed_in is not None and visitor.signed_in.id == used.user.id:
        return RedirectResponse(target, status_code=303)
    return sign_in(request, session, visitor, user=used.user, target=target)


# --- confirm the address -------------------------------------------------------------------


@router.get("/verify-email/{token}", response_class=HTMLResponse)
def show_verify_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button to confirm."""
    return button_page(request, session, token, TokenPurpose.verify_email, "auth/verify_email.html")


@router.post("/verify-email/{token}")
def verify_email(
    request: Request, session: SessionDep, visitor: VisitorDep, token: str
) -> Response:
    """Confirm the address and sign her in; on to where she was going when she signed up."""
    return _signed_in_by_link(
        request,
        session,
        visitor,
        token=token,
        purpose=TokenPurpose.verify_email,
        default="/account?notice=verified",
    )


# --- sign in with a link -------------------------------------------------------------------


@router.get("/login/link", response_class=HTMLResponse)
def show_sign_in_link(request: Request, visitor: VisitorDep, next: str = HOME) -> Response:
    """Ask for the address to mail a sign-in link to."""
    if visitor.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/sign_in_link.html", {"values": {"next": safe_next(next)}})


@router.post("/login/link", response_class=HTMLResponse)
def ask_sign_in_link(
    request: Request, session: SessionDep, form: Annotated[Posted[LinkForm], posted(LinkForm)]
) -> HTMLResponse:
    """Mail a sign-in link if the address has an account; answer the same either way."""
    template = "auth/sign_in_link.html"
    try:
        data = form.valid()
        requests.ask_sign_in_link(
            session, email=data.email, next_path=data.next, ip=client_ip(request)
        )
    except TooManyAttempts as exc:
        return too_many(request, template, exc, form.values)
    except FormError as exc:
        return invalid(exc, render(request, template, form.shown(exc)))
    return render(request, template, {"values": form.values, "sent": True})


@router.get("/login/link/{token}", response_class=HTMLResponse)
def show_use_sign_in_link(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button that signs her in."""
    return button_page(request, session, token, TokenPurpose.sign_in, "auth/sign_in_confirm.html")


@router.post("/login/link/{token}")
def use_sign_in_link(
    request: Request, session: SessionDep, visitor: VisitorDep, token: str
) -> Response:
    """Sign her in (the code step first if she has one) and continue."""
    return _signed_in_by_link(
        request, session, visitor, token=token, purpose=TokenPurpose.sign_in, default=HOME
    )


# --- forgot and reset password -------------------------------------------------------------


@router.get("/forgot-password", response_class=HTMLResponse)
def show_forgot_password(request: Request) -> HTMLResponse:
    """Ask for the address to send a reset link to."""
    return render(request, "auth/forgot_password.html")


@router.post("/forgot-password", response_class=HTMLResponse)
def forgot_password(
    request: Request,
    session: SessionDep,
    form: Annotated[Posted[AddressForm], posted(AddressForm)],
) -> HTMLResponse:
    """Send a link if the address is known; answer the same either way."""
    template = "auth/forgot_password.html"
    try:
        requests.ask_reset(session, email=form.valid().email, ip=client_ip(request))
    except TooManyAttempts as exc:
        return too_many(request, template, exc, form.values)
    except FormError as exc:
        return invalid(exc, render(request, template, form.shown(exc)))
    return render(request, template, {"values": form.values, "sent": True})


@router.get("/reset-password/{token}", response_class=HTMLResponse)
def show_reset_password(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """The form for a new password, if the link is still valid."""
    return button_page(
        request, session, token, TokenPurpose.reset_password, "auth/reset_password.html"
    )


@router.post("/reset-password/{token}", response_class=HTMLResponse)
def reset_password(
    request: Request,
    session: SessionDep,
    token: str,
    form: Annotated[Posted[NewPasswordForm], posted(NewPasswordForm)],
) -> Response:
    """Set the new password; every session and mailed link ends, so she logs in again."""
    settings = settings_of(request)
    try:
        password = form.valid().password
        service.reset_password(session, settings, token=token, password=password)
    except tokens.InvalidLink as exc:
        return link_invalid(request, exc)
    except FormError as exc:
        page = render(request, "auth/reset_password.html", {"token": token, **form.shown(exc)})
        return invalid(exc, page)
    response = RedirectResponse("/login?notice=password-reset", status_code=303)
    clear_session_cookie(response, settings)
    return response
