"""Signing up, in and out: registration, login with a second factor, email links, password reset."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import i18n
from api.accounts import service, sessions, tokens, twofactor
from api.accounts.access import VisitorDep
from api.accounts.models import TokenPurpose, User
from api.config import Settings
from api.db import SessionDep
from api.errors import FormError, TooManyAttempts
from api.i18n import gettext as _
from api.ratelimit import service as ratelimit
from web.pages.common import FormStr, client_ip, settings_of
from web.pages.home import ONE_YEAR, safe_next
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)

# Where a learner lands after signing in or up, unless she was on her way somewhere: her
# "Vandaag" page, with what to do today.
HOME = "/today"


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


def sign_in(
    request: Request,
    session: SessionDep,
    visitor: sessions.Visitor,
    *,
    user: User,
    target: str,
    mfa_pending: bool = False,
) -> RedirectResponse:
    """Replace any current session by a new one (a new token at every login) and redirect."""
    settings = settings_of(request)
    if visitor.auth_session is not None:
        sessions.end(session, auth_session=visitor.auth_session)
    token = sessions.start(
        session,
        settings,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        ip_address=client_ip(request),
        mfa_pending=mfa_pending,
    )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, settings, token)
    remember_language(response, settings, user)
    return response


def _too_many(
    request: Request, template: str, exc: TooManyAttempts, values: dict[str, str]
) -> HTMLResponse:
    response = render(request, template, {"values": values, "alert": exc.message}, status_code=429)
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
    visitor: VisitorDep,
    name: FormStr = "",
    email: FormStr = "",
    password: FormStr = "",
    language: FormStr = "nl",
    next: FormStr = "",
) -> Response:
    """Create a learner account, send the verification mail and sign her in."""
    target = safe_next(next) if next else ""
    values = {"name": name, "email": email, "language": language, "next": target}
    ip_key = f"register:ip:{client_ip(request)}"
    try:
        ratelimit.guard(session, [(ip_key, ratelimit.REGISTER_PER_IP)])
        user = service.register(
            session,
            settings_of(request),
            name=name,
            email=email,
            password=password,
            language=language,
        )
    except TooManyAttempts as exc:
        return _too_many(request, "auth/register.html", exc, values)
    except FormError as exc:
        # Failed attempts count too: otherwise "this address has an account" could be asked
        # without limit to find out who uses Kern.
        ratelimit.record(session, ip_key)
        return render(
            request, "auth/register.html", {"values": values, "errors": exc.fields}, status_code=422
        )
    ratelimit.record(session, ip_key)
    return sign_in(request, session, visitor, user=user, target=target or f"{HOME}?notice=welcome")


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
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = HOME,
) -> Response:
    """Check the password; continue to the second factor when she has one."""
    target = safe_next(next)
    values = {"email": email, "next": target}
    account_key = f"login:account:{service.normalise_email(email)[:254]}"
    ip_key = f"login:ip:{client_ip(request)}"
    try:
        ratelimit.guard(
            session, [(account_key, ratelimit.LOGIN_PER_ACCOUNT), (ip_key, ratelimit.LOGIN_PER_IP)]
        )
    except TooManyAttempts as exc:
        return _too_many(request, "auth/login.html", exc, values)
    user = service.authenticate(session, email=email, password=password)
    if user is None:
        ratelimit.record(session, account_key, ip_key)
        alert = _("This email address and password do not match. Check both and try again.")
        return render(
            request, "auth/login.html", {"values": values, "alert": alert}, status_code=400
        )
    ratelimit.clear(session, account_key)
    if user.has_totp:
        return sign_in(
            request,
            session,
            visitor,
            user=user,
            target="/login/two-factor?" + urlencode({"next": target}),
            mfa_pending=True,
        )
    return sign_in(request, session, visitor, user=user, target=target)


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
    code: FormStr = "",
    next: FormStr = HOME,
) -> Response:
    """Accept a TOTP or recovery code and finish signing in."""
    user, pending = visitor.pending_user, visitor.auth_session
    if user is None or pending is None:
        return RedirectResponse("/login", status_code=303)
    values = {"next": safe_next(next)}
    key = f"2fa:account:{user.id}"
    try:
        ratelimit.guard(session, [(key, ratelimit.TWO_FACTOR_PER_ACCOUNT)])
    except TooManyAttempts as exc:
        return _too_many(request, "auth/login_two_factor.html", exc, values)
    if not twofactor.check(session, user=user, code=code):
        ratelimit.record(session, key)
        errors = {"code": _("This code is not correct. Try the newest code from your app.")}
        return render(
            request,
            "auth/login_two_factor.html",
            {"values": values, "errors": errors},
            status_code=400,
        )
    ratelimit.clear(session, key)
    settings = settings_of(request)
    token = sessions.complete_second_factor(session, settings, auth_session=pending)
    response = RedirectResponse(values["next"], status_code=303)
    set_session_cookie(response, settings, token)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, visitor: VisitorDep) -> RedirectResponse:
    """End the session on the server and forget the cookie."""
    if visitor.auth_session is not None:
        sessions.end(session, auth_session=visitor.auth_session)
    response = RedirectResponse("/login?notice=logged-out", status_code=303)
    clear_session_cookie(response, settings_of(request))
    return response


# --- links from emails: verify address, reset password -------------------------------------


@router.get("/verify-email/{token}", response_class=HTMLResponse)
def show_verify_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button to confirm (a GET must not change anything; mail scanners open links)."""
    try:
        tokens.peek(session, token=token, purpose=TokenPurpose.verify_email)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return render(request, "auth/verify_email.html", {"token": token})


@router.post("/verify-email/{token}")
def verify_email(request: Request, session: SessionDep, token: str) -> Response:
    """Confirm the address."""
    try:
        service.verify_email(session, settings_of(request), token=token)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return RedirectResponse("/account?notice=verified", status_code=303)


@router.get("/forgot-password", response_class=HTMLResponse)
def show_forgot_password(request: Request) -> HTMLResponse:
    """Ask for the address to send a reset link to."""
    return render(request, "auth/forgot_password.html")


@router.post("/forgot-password", response_class=HTMLResponse)
def forgot_password(request: Request, session: SessionDep, email: FormStr = "") -> HTMLResponse:
    """Send a link if the address is known; answer the same either way."""
    values = {"email": email}
    if problem := service.email_problem(service.normalise_email(email)):
        return render(
            request,
            "auth/forgot_password.html",
            {"values": values, "errors": {"email": problem}},
            status_code=422,
        )
    account_key = f"reset:account:{service.normalise_email(email)}"
    ip_key = f"reset:ip:{client_ip(request)}"
    try:
        ratelimit.guard(
            session, [(account_key, ratelimit.RESET_PER_ACCOUNT), (ip_key, ratelimit.RESET_PER_IP)]
        )
    except TooManyAttempts as exc:
        return _too_many(request, "auth/forgot_password.html", exc, values)
    ratelimit.record(session, account_key, ip_key)
    service.request_password_reset(session, settings_of(request), email=email)
    return render(request, "auth/forgot_password.html", {"values": values, "sent": True})


@router.get("/reset-password/{token}", response_class=HTMLResponse)
def show_reset_password(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """The form for a new password, if the link is still valid."""
    try:
        tokens.peek(session, token=token, purpose=TokenPurpose.reset_password)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return render(request, "auth/reset_password.html", {"token": token})


@router.post("/reset-password/{token}", response_class=HTMLResponse)
def reset_password(
    request: Request, session: SessionDep, token: str, password: FormStr = ""
) -> Response:
    """Set the new password; every session ends, so she logs in again with it."""
    try:
        service.reset_password(session, settings_of(request), token=token, password=password)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    except FormError as exc:
        return render(
            request,
            "auth/reset_password.html",
            {"token": token, "errors": exc.fields},
            status_code=422,
        )
    response = RedirectResponse("/login?notice=password-reset", status_code=303)
    clear_session_cookie(response, settings_of(request))
    return response
