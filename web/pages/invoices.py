"""Invoices: her own as PDF from her account, the quarter's revenue for the studio."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.accounts.access import RequireInstructor, RequireUser
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError
from api.invoices import pdf, revenue
from api.invoices import service as invoices
from web.templating import locale_of, render

router = APIRouter(include_in_schema=False)


@router.get("/account/invoices/{number}")
def download_invoice(
    request: Request, session: SessionDep, user: RequireUser, number: str
) -> Response:
    """Her invoice or credit note as PDF; anyone else's is not found."""
    document = invoices.own(session, user=user, number=number)
    content = pdf.pdf_of(session, document, language=locale_of(request))
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{pdf.file_name(document)}"',
            "Cache-Control": "private, no-store",
        },
    )


def _quarter(request: Request, now: Now) -> revenue.Quarter:
    text = request.query_params.get("quarter")
    return revenue.Quarter.parse(text[:20]) if text is not None else revenue.Quarter.of(now)


@router.get("/studio/revenue", response_class=HTMLResponse)
def show_revenue(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> HTMLResponse:
    """The quarter's invoices, credit notes and VAT: all for an admin, her own for an
    instructor."""
    try:
        quarter = _quarter(request, now)
    except FormError as exc:
        context: dict[str, Any] = {"report": None, "error": exc.fields["quarter"]}
        return render(request, "studio/revenue.html", context, status_code=422)
    report = revenue.report(session, viewer=user, quarter=quarter)
    context = {
        "report": report,
        "credited": revenue.credited_numbers(session, report.documents),
        "error": None,
    }
    return render(request, "studio/revenue.html", context)


@router.get("/studio/revenue.csv")
def revenue_csv(
    request: Request, session: SessionDep, user: RequireInstructor, now: Now
) -> Response:
    """The quarter's documents as CSV for the bookkeeper."""
    try:
        quarter = _quarter(request, now)
    except FormError as exc:
        return Response(exc.fields["quarter"] + "\n", status_code=422, media_type="text/plain")
    report = revenue.report(session, viewer=user, quarter=quarter)
    text = revenue.as_csv(report, credited=revenue.credited_numbers(session, report.documents))
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="kern-omzet-{quarter}.csv"',
            "Cache-Control": "private, no-store",
        },
    )
