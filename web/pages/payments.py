"""Buying a course: to Stripe's payment page, back to the success page; the demo checkout."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from api.accounts.access import RequireUser
from api.catalog import service as catalog_service
from api.clock import Now
from api.db import SessionDep, in_transaction
from api.errors import FormError
from api.payments import checkout, discounts, fulfilment, plans, service, stripe_client
from api.payments.models import OrderStatus
from web.forms import Checkbox, Form, Posted, invalid, posted
from web.pages.catalog import course_page
from web.pages.common import settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)


class CheckoutForm(Form):
    """The buy form on the course page: at once or in instalments, a discount code, and her
    request for access to start now (unticked at first; required for either way of paying)."""

    pay: str = "once"  # once | plan
    code: str = Field(default="", max_length=100)
    withdrawal_waiver: Checkbox = False
    cohort: int | None = None  # the group she joins, in a course that runs in cohorts


@router.post("/courses/{slug}/checkout")
def start_checkout(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    slug: str,
    form: Annotated[Posted[CheckoutForm], posted(CheckoutForm)],
) -> Response:
    """Send her to the payment page (or to the course, when she has it already)."""
    outline = catalog_service.outline(session, slug=slug, viewer=user)
    try:
        data = form.valid()
        checkout.refuse_what_the_demo_cannot(
            settings_of(request), in_instalments=data.pay == "plan", code=data.code
        )
        code = discounts.check(session, data.code, course=outline.course)
        url = checkout.start_checkout(
            session,
            settings_of(request),
            user=user,
            course=outline.course,
            waiver=data.withdrawal_waiver,
            in_instalments=data.pay == "plan",
            code=code,
            cohort_id=data.cohort,
        )
    except FormError as exc:
        return invalid(exc, course_page(request, session, now, slug, **form.shown(exc)))
    if url.startswith("/"):
        return RedirectResponse(url, status_code=303)
    # Kern's CSP lets forms submit to Kern only (form-action 'self'), and browsers apply that to
    # the redirects after a form as well, so a 303 to Stripe would be blocked. This page moves
    # on by itself (meta refresh, which browsers treat as a redirect and keep out of the
    # history), with a button in case it does not.
    page = render(request, "payments/redirect.html", {"url": url})
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/courses/{slug}/instalment")
def pay_instalment(session: SessionDep, user: RequireUser, slug: str) -> RedirectResponse:
    """To Stripe's page for her overdue instalment (or back to the course when none is open)."""
    outline = catalog_service.outline(session, slug=slug, viewer=user)
    url = plans.pay_url(session, user=user, course=outline.course)
    return RedirectResponse(url or f"/courses/{slug}", status_code=303)


@router.get("/checkout/success", response_class=HTMLResponse)
@in_transaction  # fulfilment locks the order and grants access all or nothing
def checkout_success(
    request: Request, session: SessionDep, user: RequireUser, session_id: str = ""
) -> HTMLResponse:
    """Back from paying: fulfil from what Stripe says (not the address) and say where she is."""
    try:
        order = fulfilment.fulfil_on_return(
            session, settings_of(request), checkout_session_id=session_id[:300]
        )
    except stripe_client.PaymentsUnavailable:
        # She may well have paid: the webhook gives access when Stripe answers again.
        return render(request, "payments/success.html", {"state": "unconfirmed"}, status_code=503)
    if order is None or order.user_id != user.id:
        return render(request, "payments/success.html", {"state": "unknown"}, status_code=404)
    return render(request, "payments/success.html", service.return_page(session, order=order))


@router.get("/checkout/demo/{checkout_id}", response_class=HTMLResponse)
def show_demo_checkout(
    request: Request, session: SessionDep, user: RequireUser, checkout_id: str
) -> HTMLResponse:
    """The stand-in for Stripe's page when payments are not set up (never in production)."""
    order, course = service.demo_checkout(
        session, settings_of(request), checkout_id=checkout_id, user=user
    )
    return render(request, "payments/demo.html", {"order": order, "course": course})


@router.post("/checkout/demo/{checkout_id}")
def pay_demo_checkout(
    request: Request, session: SessionDep, user: RequireUser, checkout_id: str
) -> Response:
    """Pay the demo checkout: the same fulfilment as a real payment."""
    settings = settings_of(request)
    order, _course = service.demo_checkout(session, settings, checkout_id=checkout_id, user=user)
    if order.status == OrderStatus.pending:
        fulfilment.pay_demo(session, settings, order=order)
    return RedirectResponse(f"/checkout/success?session_id={checkout_id}", status_code=303)
