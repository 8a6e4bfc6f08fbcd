"""The account page: profile, email, password, sessions, two-step verification, your data."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts import (
    devices,
    email_change,
    personal_data,
    service,
    sessions,
    tokens,
    totp,
    twofactor,
)
from api.accounts.access import RequireUser, VisitorDep
from api.accounts.models import TokenPurpose, User
from api.consent import service as consent_service
from api.db import SessionDep, in_transaction
from api.errors import FormError
from api.invoices import service as invoices_service
from api.kit.ids import PathId, id_of
from api.payments import service as payments_service
from api.progress import practice
from web.forms import Form, Posted, Typed, invalid, posted
from web.pages.auth import clear_session_cookie, open_session, remember_language
from web.pages.common import settings_of, storage_of
from web.pages.links import button_page, link_invalid
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
    values: dict[str, Typed] | None = None,
) -> HTMLResponse:
    notice = request.query_params.get("notice")
    context: dict[str, Any] = {
        "account": user,
        "pending_email": email_change.pending(session, user=user),
        "sessions": sessions.active(session, user=user),
        "device_name": devices.describe,
        "current_session_id": visitor.auth_session.id if visitor.auth_session else None,
        "orders": payments_service.orders_of(session, user=user),
        "invoices": invoices_service.of_user(session, user=user),
        "order_statuses": payments_service.STATUS_LABELS,
        "health_consent": consent_service.health_consent_state(session, user=user),
        "practice_count": practice.count(session, user_id=id_of(user)),
        "notice": notice if notice in NOTICES else None,
        "errors": errors or {},
        "values": {"name": user.name, "language": user.language, **(values or {})},
    }
    return render(request, "account/index.html", context)


def _keep_this_browser(
    request: Request, session: SessionDep, user: User, response: Response
) -> None:
    """After every session ended, sign this browser in again under a new token."""
    open_session(request, session, response, user=user, mfa_pending=False)


@router.get("/account", response_class=HTMLResponse)
def show_account(
    request: Request, session: SessionDep, user: RequireUser, visitor: VisitorDep
) -> HTMLResponse:
    """Everything about her account on one page."""
    return _account_page(request, session, user, visitor)


class ProfileForm(Form):
    name: str = ""
    language: str = "nl"


class PasswordForm(Form):
    current_password: str = ""
    password: str = ""

    secret = frozenset({"current_password", "password"})


class EmailForm(Form):
    email: str = ""
    password: str = ""

    secret = frozenset({"password"})


@router.post("/account/profile", response_class=HTMLResponse)
def update_profile(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    visitor: VisitorDep,
    form: Annotated[Posted[ProfileForm], posted(ProfileForm)],
) -> Response:
    """Save name and language."""
    try:
        data = form.valid()
        service.update_profile(session, user=user, name=data.name, language=data.language)
    except FormError as exc:
        return invalid(exc, _account_page(request, session, user, visitor, **form.shown(exc)))
    response = RedirectResponse("/account?notice=saved", status_code=303)
    remember_language(response, settings_of(request), user)
    return response


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    visitor: VisitorDep,
    form: Annotated[Posted[PasswordForm], posted(PasswordForm)],
) -> Response:
    """New password; every session ends and this browser gets a fresh one."""
    try:
        data = form.valid()
        service.change_password(
            session, user=user, current=data.current_password, new=data.password
        )
    except FormError as exc:
        return invalid(exc, _account_page(request, session, user, visitor, **form.shown(exc)))
    response = RedirectResponse("/account?notice=password-changed", status_code=303)
    _keep_this_browser(request, session, user, response)
    return response


@router.post("/account/email", response_class=HTMLResponse)
def change_email(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    visitor: VisitorDep,
    form: Annotated[Posted[EmailForm], posted(EmailForm)],
) -> Response:
    """Send a confirmation link to the new address and a cancel link to the current one."""
    try:
        data = form.valid()
        email_change.request(
            session, settings_of(request), user=user, password=data.password, new_email=data.email
        )
    except FormError as exc:
        # The page has other email and password inputs: this form's are named new_….
        shown = form.shown(exc, prefix="new_")
        return invalid(exc, _account_page(request, session, user, visitor, **shown))
    return RedirectResponse("/account?notice=email-sent", status_code=303)


@router.post("/account/email/cancel")
def cancel_email_change(session: SessionDep, user: RequireUser) -> RedirectResponse:
    """Call off her waiting address change."""
    email_change.cancel(session, user=user)
    return RedirectResponse("/account?notice=email-change-cancelled", status_code=303)


@router.post("/account/verify/resend")
def resend_verification(request: Request, session: SessionDep, user: RequireUser) -> Response:
    """Send the verification link again."""
    service.resend_verification(session, settings_of(request), user=user)
    return RedirectResponse("/account?notice=verification-sent", status_code=303)


@router.get("/account/confirm-email/{token}", response_class=HTMLResponse)
def show_confirm_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button that confirms the new address."""
    return button_page(
        request, session, token, TokenPurpose.change_email, "account/confirm_email.html"
    )


@router.post("/account/confirm-email/{token}", response_class=HTMLResponse)
def confirm_email(request: Request, session: SessionDep, token: str) -> Response:
    """Switch to the new address."""
    try:
        email_change.confirm(session, settings_of(request), token=token)
    except (tokens.InvalidLink, FormError) as exc:  # FormError: the address was taken meanwhile
        return link_invalid(request, exc)
    return RedirectResponse("/account?notice=email-changed", status_code=303)


@router.get("/account/cancel-email/{token}", response_class=HTMLResponse)
def show_cancel_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button that calls off the change (the link goes to the old address)."""
    return button_page(
        request, session, token, TokenPurpose.cancel_email, "account/cancel_email.html"
    )


@router.post("/account/cancel-email/{token}", response_class=HTMLResponse)
def cancel_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """Call the change off; the confirmation link stops working."""
    try:
        email_change.cancel_by_link(session, token=token)
    except tokens.InvalidLink as exc:
        return link_invalid(request, exc)
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


class EnableForm(Form):
    code: str = ""

    secret = frozenset({"code"})


class ConfirmPasswordForm(Form):
    password: str = ""

    secret = frozenset({"password"})


class DeleteForm(ConfirmPasswordForm):
    confirmation: str = ""


def _two_factor_page(
    request: Request,
    session: SessionDep,
    user: User,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Typed] | None = None,
) -> HTMLResponse:
    """The page, with the errors of a refused form."""
    context: dict[str, Any] = {"account": user, "errors": errors or {}, "values": values or {}}
    if user.has_totp:
        context["remaining"] = twofactor.remaining_recovery_codes(session, user=user)
    else:
        secret = twofactor.pending_secret(session, user=user)
        uri = totp.provisioning_uri(secret, account=user.email)
        context.update(secret=secret, qr=totp.qr_svg(uri))
    return render(request, "account/two_factor.html", context)


@router.get("/account/two-factor", response_class=HTMLResponse)
@in_transaction  # the first visit stores the secret the QR code shows
def show_two_factor(request: Request, session: SessionDep, user: RequireUser) -> HTMLResponse:
    """Set up, or see the state of, two-step verification."""
    return _two_factor_page(request, session, user)


@router.post("/account/two-factor", response_class=HTMLResponse)
def enable_two_factor(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    form: Annotated[Posted[EnableForm], posted(EnableForm)],
) -> HTMLResponse:
    """Switch it on with a first code, show the recovery codes once; other browsers are out."""
    try:
        codes = twofactor.enable(session, user=user, code=form.valid().code)
    except FormError as exc:
        return invalid(exc, _two_factor_page(request, session, user, **form.shown(exc)))
    response = render(request, "account/recovery_codes.html", {"codes": codes, "first_time": True})
    _keep_this_browser(request, session, user, response)
    return response


@router.post("/account/two-factor/recovery-codes", response_class=HTMLResponse)
def new_recovery_codes(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    form: Annotated[Posted[ConfirmPasswordForm], posted(ConfirmPasswordForm)],
) -> HTMLResponse:
    """Replace the recovery codes after checking the password."""
    if not user.has_totp:
        return _two_factor_page(request, session, user)
    try:
        password = form.valid().password
        service.confirm_password(session, user=user, password=password, field="password")
    except FormError as exc:
        return invalid(exc, _two_factor_page(request, session, user, **form.shown(exc)))
    codes = twofactor.replace_recovery_codes(session, user=user)
    return render(request, "account/recovery_codes.html", {"codes": codes, "first_time": False})


@router.post("/account/two-factor/disable", response_class=HTMLResponse)
def disable_two_factor(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    form: Annotated[Posted[ConfirmPasswordForm], posted(ConfirmPasswordForm)],
) -> Response:
    """Switch it off (learners only)."""
    try:
        twofactor.disable(session, user=user, password=form.valid().password)
    except FormError as exc:
        # The page has a second password field (new recovery codes); show this error at this form.
        shown = form.shown(exc, prefix="disable_")
        return invalid(exc, _two_factor_page(request, session, user, **shown))
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
    form: Annotated[Posted[DeleteForm], posted(DeleteForm)],
) -> HTMLResponse:
    """Delete the account for good and sign out."""
    try:
        data = form.valid()
        personal_data.delete_account(
            session,
            user=user,
            password=data.password,
            confirmation=data.confirmation,
            storage=storage_of(request),
        )
    except FormError as exc:
        return invalid(exc, render(request, "account/delete.html", form.shown(exc)))
    request.state.visitor = sessions.Visitor()
    request.state.header_user = None
    response = render(request, "account/deleted.html")
    clear_session_cookie(response, settings_of(request))
    return response
