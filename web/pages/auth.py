"""Signing up, in and out: registration, login with a second factor, logout.

The links mailed for these (verify, reset, sign in) are answered in web/pages/links.py."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import AfterValidator

from api import i18n
from api.accounts import requests, service, sessions, twofactor
from api.accounts.access import VisitorDep
from api.accounts.models import User
from api.config import Settings
from api.db import SessionDep
from api.errors import FormError, TooManyAttempts
from api.i18n import gettext as _
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.common import client_ip, settings_of
from web.pages.home import ONE_YEAR, NextPath, safe_next
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

# Where a learner lands after signing in or up, unless she was on her way somewhere: her
# "Vandaag" page, with what to do today.
HOME = "/today"
# Where her verification link leads when she was not on her way anywhere.
WELCOME = f"{HOME}?notice=welcome"


def _onward(target: str) -> str:
    return safe_next(target or HOME)


# The hidden `next` input of the sign-in forms: a local path, HOME when none was given.
Onward = Annotated[str, AfterValidator(_onward)]


class RegisterForm(Form):
    name: str = ""
    email: str = ""
    password: str = ""
    language: str = "nl"
    next: NextPath = ""

    secret = frozenset({"password"})
    tidy = frozenset({"next"})


class LoginForm(Form):
    email: str = ""
    password: str = ""
    next: Onward = HOME

    secret = frozenset({"password"})
    tidy = frozenset({"next"})


class CodeForm(Form):
    code: str = ""
    next: Onward = HOME

    secret = frozenset({"code"})
    tidy = frozenset({"next"})


def _secure(settings: Settings) -> bool:
    return settings.base_url.startswith("https://") or settings.is_production


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """HttpOnly, SameSite=Lax, Secure over https; lives as long as the session may."""
    response.set_cookie(
        sessions.cookie_name(settings),
        token,
        max_age=settings.session_max_days * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        sessions.cookie_name(settings), path="/", secure=_secure(settings), httponly=True
    )


def remember_language(response: Response, settings: Settings, user: User) -> None:
    """Show the interface in the language the user chose in her account."""
    response.set_cookie(
        i18n.LOCALE_COOKIE,
        user.language,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
    )


def open_session(
    request: Request, session: SessionDep, response: Response, *, user: User, mfa_pending: bool
) -> None:
    """A new session for her in this browser, its token in the response's cookie."""
    settings = settings_of(request)
    token = sessions.start(
        session,
        settings,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        ip_address=client_ip(request),
        mfa_pending=mfa_pending,
    )
    set_session_cookie(response, settings, token)


def _start_session(
    request: Request,
    session: SessionDep,
    visitor: sessions.Visitor,
    *,
    user: User,
    target: str,
    mfa_pending: bool,
) -> RedirectResponse:
    """Replace any current session by a new one (a new token at every login) and redirect."""
    if visitor.auth_session is not None:
        sessions.end(session, auth_session=visitor.auth_session)
    response = RedirectResponse(target, status_code=303)
    open_session(request, session, response, user=user, mfa_pending=mfa_pending)
    remember_language(response, settings_of(request), user)
    return response


def sign_in(
    request: Request, session: SessionDep, visitor: sessions.Visitor, *, user: User, target: str
) -> RedirectResponse:
    """Sign her in and go to `target`; with two-step verification on, only half-way: the code
    step comes first, whatever proved who she is (her password or a mailed link)."""
    if user.has_totp:
        return _start_session(
            request,
            session,
            visitor,
            user=user,
            target="/login/two-factor?" + urlencode({"next": target}),
            mfa_pending=True,
        )
    return _start_session(request, session, visitor, user=user, target=target, mfa_pending=False)


def too_many(
    request: Request, template: str, exc: TooManyAttempts, values: dict[str, Typed]
) -> HTMLResponse:
    """The form again, with what she typed (never a password), the wait, 429 and Retry-After."""
    context = {"values": values, "alert": exc.message, "limited": True}
    response = render(request, template, context, status_code=429)
    response.headers.update(exc.headers)
    return response


# --- registration -------------------------------------------------------------------------


@router.get("/register", response_class=HTMLResponse)
def show_register(request: Request, visitor: VisitorDep, next: str = "") -> Response:
    """The sign-up form; `next` is where she returns afterwards (e.g. the course she chose)."""
    if visitor.signed_in:
        return RedirectResponse(safe_next(next or HOME), status_code=303)
    values = {"language": locale_of(request), "next": safe_next(next) if next else ""}
    return render(request, "auth/register.html", {"values": values})


@router.post("/register", response_class=HTMLResponse)
def register(
    request: Request,
    session: SessionDep,
    _visitor: VisitorDep,
    form: Annotated[Posted[RegisterForm], posted(RegisterForm)],
) -> Response:
    """Queue the sign-up and ask her to open her mail: the same page whether or not the address
    has an account (that one gets a mail saying so); her link confirms and signs her in."""
    try:
        data = form.valid()
        requests.register(
            session,
            name=data.name,
            email=data.email,
            password=data.password,
            language=data.language,
            next_path=data.next or WELCOME,
            ip=client_ip(request),
        )
    except TooManyAttempts as exc:
        return too_many(request, "auth/register.html", exc, form.values)
    except FormError as exc:
        return invalid(exc, render(request, "auth/register.html", form.shown(exc)))
    email = service.normalise_email(data.email)
    return render(request, "auth/register_sent.html", {"email": email})


# --- login and logout ---------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def show_login(request: Request, visitor: VisitorDep, next: str = HOME) -> Response:
    """The login form."""
    if visitor.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = request.query_params.get("notice")
    return render(
        request, "auth/login.html", {"values": {"next": safe_next(next)}, "notice": notice}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    visitor: VisitorDep,
    form: Annotated[Posted[LoginForm], posted(LoginForm)],
) -> Response:
    """Check the password; continue to the second factor when she has one."""
    try:
        data = form.valid()
        user = service.log_in(
            session, email=data.email, password=data.password, ip=client_ip(request)
        )
    except TooManyAttempts as exc:
        return too_many(request, "auth/login.html", exc, form.values)
    if user is None:
        alert = _("This email address and password do not match. Check both and try again.")
        context = {"values": form.values, "alert": alert}
        return render(request, "auth/login.html", context, status_code=400)
    return sign_in(request, session, visitor, user=user, target=data.next)


@router.get("/login/two-factor", response_class=HTMLResponse)
def show_login_two_factor(request: Request, visitor: VisitorDep, next: str = HOME) -> Response:
    """Ask for the code from the authenticator app."""
    if visitor.pending_user is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "auth/login_two_factor.html", {"values": {"next": safe_next(next)}})


@router.post("/login/two-factor", response_class=HTMLResponse)
def login_two_factor(
    request: Request,
    session: SessionDep,
    visitor: VisitorDep,
    form: Annotated[Posted[CodeForm], posted(CodeForm)],
) -> Response:
    """Accept a TOTP or recovery code and finish signing in."""
    user, pending = visitor.pending_user, visitor.auth_session
    if user is None or pending is None:
        return RedirectResponse("/login", status_code=303)
    try:
        data = form.valid()
        twofactor.check_login_code(session, user=user, code=data.code)
    except TooManyAttempts as exc:
        return too_many(request, "auth/login_two_factor.html", exc, form.values)
    except FormError as exc:
        return invalid(exc, render(request, "auth/login_two_factor.html", form.shown(exc)))
    settings = settings_of(request)
    token = sessions.complete_second_factor(session, settings, auth_session=pending)
    response = RedirectResponse(data.next, status_code=303)
    set_session_cookie(response, settings, token)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, visitor: VisitorDep) -> RedirectResponse:
    """End the session on the server and forget the cookie."""
    if visitor.auth_session is not None:
        sessions.end(session, auth_session=visitor.auth_session)
    response = RedirectResponse("/login?notice=logged-out", status_code=303)
    clear_session_cookie(response, settings_of(request))
    # Pages of hers the browser kept. Not "storage": that would also empty the player's queue of
    # practice not yet sent, which waits for her next login (static/js/player.js); the service
    # worker drops the pages it kept itself (static/js/sw.js).
    response.headers["clear-site-data"] = '"cache"'
    return response
