"""Certificates of completion: made on the course, listed on her account, checked by anyone
with the code printed on it."""

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import CurrentUser, RequireUser
from api.accounts.models import User
from api.catalog import service as catalog
from api.certificates import pdf, service
from api.certificates.models import Certificate
from api.clock import Now
from api.db import SessionDep
from api.errors import FormError
from api.i18n import format_number
from api.kit.ids import id_of
from api.progress import service as progress_service
from web.forms import Form, Posted, invalid, posted
from web.pages.common import settings_of
from web.templating import render

router = APIRouter(include_in_schema=False)


class CertificateForm(Form):
    name: str = ""


CertificatePost = Annotated[Posted[CertificateForm], posted(CertificateForm)]


def verify_url(request: Request, certificate: Certificate) -> str:
    return f"{settings_of(request).base_url.rstrip('/')}/certificates/{certificate.code}"


def _course_page(
    request: Request,
    session: SessionDep,
    user: User,
    now: Any,
    slug: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    outline = catalog.outline(session, slug=slug, viewer=user, now=now)
    progress = (
        progress_service.read(session, outline=outline, user_id=id_of(user))
        if outline.enrolled
        else None
    )
    found = service.of_course(session, user=user, course_id=id_of(outline.course))
    context = {
        "outline": outline,
        "course": outline.course,
        "progress": progress,
        "finished": progress is not None
        and outline.lesson_count > 0
        and progress.completed_count == outline.lesson_count,
        "certificate": found,
        "verify_url": verify_url(request, found) if found else None,
        "hours": format_number(service.hours_of(found.minutes if found else outline.total_minutes)),
        "values": values or {"name": found.name if found else user.name},
        "errors": errors or {},
    }
    return render(request, "certificates/course.html", context, status_code=status_code)


@router.get("/courses/{slug}/certificate", response_class=HTMLResponse)
def show_for_course(
    request: Request, session: SessionDep, user: RequireUser, now: Now, slug: str
) -> HTMLResponse:
    """Her certificate of this course, or the form that makes it once every lesson is done."""
    return _course_page(request, session, user, now, slug)


@router.post("/courses/{slug}/certificate", response_class=HTMLResponse)
def make_for_course(
    request: Request,
    session: SessionDep,
    user: RequireUser,
    now: Now,
    slug: str,
    form: CertificatePost,
) -> Response:
    """Make her certificate with the name she chose (or print the one she has anew)."""
    outline = catalog.outline(session, slug=slug, viewer=user, now=now)
    try:
        data = form.valid()
        try:
            name = service.clean_name(data.name)
        except ValueError as exc:
            raise FormError({"name": str(exc)}) from None
        progress = progress_service.read(session, outline=outline, user_id=id_of(user))
        service.issue(
            session,
            user=user,
            outline=outline,
            completed=progress.completed_count,
            name=name,
            now=now,
        )
    except FormError as exc:
        page = _course_page(request, session, user, now, slug, **form.shown(exc))
        return invalid(exc, page)
    return RedirectResponse(f"/courses/{slug}/certificate?notice=made", status_code=303)


@router.get("/certificates/{code}", response_class=HTMLResponse)
def verify(request: Request, session: SessionDep, _user: CurrentUser, code: str) -> HTMLResponse:
    """What the certificate with this code says, for whoever checks it; nothing else of hers."""
    certificate = service.by_code(session, code=code)
    context = {
        "certificate": certificate,
        "hours": format_number(service.hours_of(certificate.minutes)),
    }
    response = render(request, "certificates/verify.html", context)
    response.headers["x-robots-tag"] = "noindex"
    return response


@router.get("/certificates/{code}/pdf")
def download(request: Request, session: SessionDep, user: RequireUser, code: str) -> Response:
    """Her certificate as a PDF; only she can download it."""
    certificate = service.own(session, user=user, code=code)
    body = pdf.render(certificate, verify_url=verify_url(request, certificate))
    filename = f"certificaat-{certificate.code[:8]}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{filename}"',
            "cache-control": "private, no-store",
        },
    )


@router.get("/account/certificates", response_class=HTMLResponse)
def list_mine(request: Request, session: SessionDep, user: RequireUser) -> HTMLResponse:
    """Every certificate she made, to see and download again."""
    context = {"certificates": service.mine(session, user=user)}
    return render(request, "certificates/mine.html", context)
