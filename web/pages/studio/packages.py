"""Course packages in the studio: download a course as a zip, and import one."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.accounts.access import RequireInstructor
from api.catalog.packages import PackageError
from api.catalog.packages import archive as package_archive
from api.db import SessionDep
from api.errors import Conflict, FormError
from api.i18n import gettext as _
from api.media import service as media
from api.media.files import MB
from api.studio.access import owned_course
from web.forms import invalid
from web.pages.common import settings_of, storage_of
from web.pages.studio.uploads import ONE_FILE, Upload, UploadRoute, upload_limit
from web.templating import render

router = APIRouter(include_in_schema=False, route_class=UploadRoute)


@router.get("/studio/courses/{slug}/export.zip")
def export_package(session: SessionDep, user: RequireInstructor, slug: str) -> Response:
    """The course as a zip in the `courses/` format, the same files `kern export` writes."""
    course = owned_course(session, viewer=user, slug=slug)
    data = package_archive.export_zip(session, slug=course.slug)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{course.slug}.zip"',
            "Cache-Control": "private, no-store",
        },
    )


def _import_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {"errors": errors or {}, "problems": problems or []}
    return render(request, "studio/import.html", context, status_code=status_code)


@router.get("/studio/import", response_class=HTMLResponse)
def show_import(request: Request, user: RequireInstructor) -> HTMLResponse:
    """The form to upload a course package."""
    return _import_page(request)


@router.post(
    "/studio/import",
    response_class=HTMLResponse,
    form_limits=ONE_FILE,
)
@upload_limit(lambda _settings: package_archive.MAX_ARCHIVE_BYTES)
def import_course(
    request: Request, session: SessionDep, user: RequireInstructor, package: Upload = None
) -> Response:
    """Create or update a course from an uploaded zip, checked as `kern import` checks it."""
    try:
        if package is None or not package.size:
            raise FormError({"package": _("Choose the zip file of a course package first.")})
        settings = settings_of(request)
        result = media.import_zip(
            session,
            source=package.file,
            instructor=user,
            storage=storage_of(request),
            max_video_bytes=settings.media_max_video_mb * MB,
        )
    except FormError as exc:
        return invalid(exc, _import_page(request, errors=exc.fields))
    except PackageError as exc:
        return invalid(exc, _import_page(request, problems=exc.messages))
    except Conflict:
        # The package names a course of another instructor: hers to change, not this one's.
        message = _(
            "A course with this web address (slug) belongs to another instructor, so nothing "
            "was imported. To import it as a course of your own, give it another slug in "
            "course.yaml."
        )
        return _import_page(request, errors={"package": message}, status_code=403)
    slug = result.course.slug
    notice = "imported" if result.changed else "unchanged"
    return RedirectResponse(f"/studio/courses/{slug}?notice={notice}", status_code=303)
