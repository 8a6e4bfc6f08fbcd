"""The account page: profile, email, password, sessions, two-step verification, your data."""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import email_change, personal_data, service, sessions, tokens, totp, twofactor
from api.accounts.access import RequireUser, VisitorDep
from api.accounts.models import TokenPurpose, User
from api.consent import service as consent_service
from api.db import SessionDep
from api.errors import FormError, TooManyAttempts
from api.kit.ids import PathId, id_of
from api.payments import service as payments_service
from api.progress import practice
from api.ratelimit import service as ratelimit
from web.pages.auth import clear_session_cookie, remember_language, set_session_cookie
from web.pages.common import FormStr, client_ip, settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = frozenset(
    {
        "welcome",
        "verified",
        "saved",
        "password-changed",
        "email-sent",
        "email-changed",
        "email-change-cancelled",
        "verification-sent",
        "sessions-ended",
        "two-factor-on",
        "two-factor-off",
        "consent-given",
        "consent-withdrawn",
        "practice-log-deleted",
    }
)


def _account_page(
    request: Request,
    session: SessionDep,
    user: User,
    visitor: sessions.Visitor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "account": user,
        "pending_email": email_change.pending(session, user=user),
        "sessions": sessions.active(session, user=user),
        "current_session_id": visitor.auth_session.id if visitor.auth_session else None,
        "orders": payments_service.orders_of(session, user=user),
        "order_statuses": payments_service.STATUS_LABELS,
        "health_consent": consent_service.health_consent_state(session, user=user),
        "practice_count": practice.count(session, user_id=id_of(user)),
        "notice": notice if notice in NOTICES else None,
        "errors": errors or {},
        "values": {"name": user.name, "language": user.language, **(values or {})},
    }
    response = render(request, "account/index.html", context, status_code=status_code)
    # A refusal for too many wrong passwords says when she may try again.
    response.headers.update(headers or {})
    return response


def _keep_this_browser(
    request: Request, session: SessionDep, user: User, response: Response
) -> None:
    """After every session ended, sign this browser in again under a new token."""
    settings = settings_of(request)
    token = sessions.start(
        session,
        settings,
        user=user,
        user_agent=request.headers.get("user-agent", ""),
        ip_address=client_ip(request),
    )
    set_session_cookie(response, settings, token)


@router.get("/account", response_class=HTMLResponse)
def show_account(
    request: Request, session: SessionDep, user: RequireUser, visitor: VisitorDep
) -> HTMLResponse:
    """Everything about her account on one page."""
    return _account_page(request, session, user, visitor)


@router.post("/account/profile", response_class=HTMLResponse)
def update_profile(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    visitor: VisitorDep,
    name: FormStr = "",
    language: FormStr = "nl",
) -> Response:
    """Save name and language."""
    try:
        service.update_profile(session, user=user, name=name, language=language)
    except FormError as exc:
        return _account_page(
            request,
            session,
            user,
            visitor,
            errors=exc.fields,
            values={"name": name, "language": language},
            status_code=422,
        )
    response = RedirectResponse("/account?notice=saved", status_code=303)
    remember_language(response, settings_of(request), user)
    return response


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    visitor: VisitorDep,
    current_password: FormStr = "",
    password: FormStr = "",
) -> Response:
    """New password; every session ends and this browser gets a fresh one."""
    try:
        service.change_password(session, user=user, current=current_password, new=password)
    except FormError as exc:
        return _account_page(
            request,
            session,
            user,
            visitor,
            errors=exc.fields,
            status_code=exc.status_code,
            headers=exc.headers,
        )
    response = RedirectResponse("/account?notice=password-changed", status_code=303)
    _keep_this_browser(request, session, user, response)
    return response


@router.post("/account/email", response_class=HTMLResponse)
def change_email(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    visitor: VisitorDep,
    email: FormStr = "",
    password: FormStr = "",
) -> Response:
    """Send a confirmation link to the new address and a cancel link to the current one."""
    try:
        email_change.request(
            session, settings_of(request), user=user, password=password, new_email=email
        )
    except FormError as exc:
        errors = {f"new_{key}": value for key, value in exc.fields.items()}
        return _account_page(
            request,
            session,
            user,
            visitor,
            errors=errors,
            values={"new_email": email},
            status_code=exc.status_code,
            headers=exc.headers,
        )
    return RedirectResponse("/account?notice=email-sent", status_code=303)


@router.post("/account/email/cancel")
def cancel_email_change(session: SessionDep, user: RequireUser) -> RedirectResponse:
    """Call off her waiting address change."""
    email_change.cancel(session, user=user)
    return RedirectResponse("/account?notice=email-change-cancelled", status_code=303)


@router.post("/account/verify/resend")
def resend_verification(request: Request, session: SessionDep, user: RequireUser) -> Response:
    """Send the verification link again."""
    key = f"verify:account:{user.id}"
    try:
        ratelimit.guard(session, [(key, ratelimit.RESET_PER_ACCOUNT)])
    except TooManyAttempts:
        return RedirectResponse("/account?notice=verification-sent", status_code=303)
    ratelimit.record(session, key)
    if user.email_verified_at is None:
        service.send_verification(session, settings_of(request), user=user)
    return RedirectResponse("/account?notice=verification-sent", status_code=303)


@router.get("/account/confirm-email/{token}", response_class=HTMLResponse)
def show_confirm_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button that confirms the new address."""
    try:
        record = tokens.peek(session, token=token, purpose=TokenPurpose.change_email)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return render(
        request, "account/confirm_email.html", {"token": token, "new_email": record.new_email}
    )


@router.post("/account/confirm-email/{token}", response_class=HTMLResponse)
def confirm_email(request: Request, session: SessionDep, token: str) -> Response:
    """Switch to the new address."""
    try:
        email_change.confirm(session, settings_of(request), token=token)
    except (tokens.InvalidLink, FormError) as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return RedirectResponse("/account?notice=email-changed", status_code=303)


@router.get("/account/cancel-email/{token}", response_class=HTMLResponse)
def show_cancel_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button that calls off the change (the link goes to the old address)."""
    try:
        record = tokens.peek(session, token=token, purpose=TokenPurpose.cancel_email)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return render(
        request, "account/cancel_email.html", {"token": token, "new_email": record.new_email}
    )


@router.post("/account/cancel-email/{token}", response_class=HTMLResponse)
def cancel_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """Call the change off; the confirmation link stops working."""
    try:
        email_change.cancel_by_link(session, token=token)
    except tokens.InvalidLink as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=400)
    return render(request, "account/cancel_email.html", {"cancelled": True})


@router.post("/account/sessions/{session_id}/end")
def end_session(session_id: PathId, session: SessionDep, user: RequireUser) -> RedirectResponse:
    """Log out one of her other browsers."""
    sessions.end_one_of(session, user=user, session_id=session_id)
    return RedirectResponse("/account?notice=sessions-ended", status_code=303)


@router.post("/account/sessions/end-others")
def end_other_sessions(
    session: SessionDep, user: RequireUser, visitor: VisitorDep
) -> RedirectResponse:
    """Log out everywhere except here."""
    if visitor.auth_session is not None:
        sessions.end_others(session, user=user, keep=visitor.auth_session)
    return RedirectResponse("/account?notice=sessions-ended", status_code=303)


# --- two-step verification ------------------------------------------------------------------


def _two_factor_page(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    refused: FormError | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page, with the errors of a refused form (its status, and Retry-After if limited)."""
    context: dict[str, Any] = {
        "account": user,
        "errors": errors or (refused.fields if refused else {}),
    }
    if user.has_totp:
        context["remaining"] = twofactor.remaining_recovery_codes(session, user=user)
    else:
        secret = twofactor.pending_secret(session, user=user)
        uri = totp.provisioning_uri(secret, account=user.email)
        context.update(secret=secret, qr=totp.qr_svg(uri))
    status_code = refused.status_code if refused else 200
    response = render(request, "account/two_factor.html", context, status_code=status_code)
    response.headers.update(refused.headers if refused else {})
    return response


@router.get("/account/two-factor", response_class=HTMLResponse)
def show_two_factor(request: Request, session: SessionDep, user: RequireUser) -> HTMLResponse:
    """Set up, or see the state of, two-step verification."""
    return _two_factor_page(request, session, user)


@router.post("/account/two-factor", response_class=HTMLResponse)
def enable_two_factor(
    request: Request, session: SessionDep, user: RequireUser, code: FormStr = ""
) -> HTMLResponse:
    """Switch it on with a first code, show the recovery codes once; other browsers are out."""
    try:
        codes = twofactor.enable(session, user=user, code=code)
    except FormError as exc:
        return _two_factor_page(request, session, user, refused=exc)
    response = render(request, "account/recovery_codes.html", {"codes": codes, "first_time": True})
    _keep_this_browser(request, session, user, response)
    return response


@router.post("/account/two-factor/recovery-codes", response_class=HTMLResponse)
def new_recovery_codes(
    request: Request, session: SessionDep, user: RequireUser, password: FormStr = ""
) -> HTMLResponse:
    """Replace the recovery codes after checking the password."""
    if not user.has_totp:
        return _two_factor_page(request, session, user)
    try:
        service.confirm_password(session, user=user, password=password, field="password")
    except FormError as exc:
        return _two_factor_page(request, session, user, refused=exc)
    codes = twofactor.replace_recovery_codes(session, user=user)
    return render(request, "account/recovery_codes.html", {"codes": codes, "first_time": False})


@router.post("/account/two-factor/disable", response_class=HTMLResponse)
def disable_two_factor(
    request: Request, session: SessionDep, user: RequireUser, password: FormStr = ""
) -> Response:
    """Switch it off (learners only)."""
    try:
        twofactor.disable(session, user=user, password=password)
    except FormError as exc:
        # The page has a second password field (new recovery codes); show this error at this form.
        errors = {"disable_password": exc.message}
        return _two_factor_page(request, session, user, refused=exc, errors=errors)
    return RedirectResponse("/account?notice=two-factor-off", status_code=303)


# --- your data ---------------------------------------------------------------------------


@router.get("/account/export")
def export_data(session: SessionDep, user: RequireUser) -> Response:
    """Download everything Kern holds about her, as JSON."""
    data = personal_data.export(session, user=user)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="kern-mijn-gegevens.json"',
            # Her health data and contact details: not for shared caches or the back button.
            "Cache-Control": "no-store",
        },
    )


@router.get("/account/delete", response_class=HTMLResponse)
def show_delete_account(request: Request, user: RequireUser) -> HTMLResponse:
    """Explain what deleting means and ask for confirmation."""
    return render(request, "account/delete.html")


@router.post("/account/delete", response_class=HTMLResponse)
def delete_account(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    password: FormStr = "",
    confirmation: FormStr = "",
) -> HTMLResponse:
    """Delete the account for good and sign out."""
    try:
        personal_data.delete_account(
            session, user=user, password=password, confirmation=confirmation
        )
    except FormError as exc:
        response = render(
            request,
            "account/delete.html",
            {"errors": exc.fields, "values": {"confirmation": confirmation}},
            status_code=exc.status_code,
        )
        response.headers.update(exc.headers)
        return response
    request.state.visitor = sessions.Visitor()
    request.state.header_user = None
    response = render(request, "account/deleted.html")
    clear_session_cookie(response, settings_of(request))
    return response
