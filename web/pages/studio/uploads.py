"""Uploading a course's cover image, a lesson's video file and a step's picture.

Starlette reads a multipart upload in full (into a temporary file) before the route runs, so
the size of an upload is checked first, from its Content-Length, by `UploadRoute`: a file far
over the limit is refused before any of it is read. The exact limit is then enforced again while
the file is copied, which also catches a request that declared less than it sent.
"""

import re
from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any, TypedDict, TypeVar

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path

from api.accounts.access import RequireInstructor, visitor_of
from api.catalog import profile as instructor_profile
from api.config import Settings
from api.db import SessionDep
from api.errors import FormError
from api.i18n import gettext as _
from api.kit.ids import PathId, id_of
from api.media import images, pictures
from api.media import service as media
from api.media.files import MB, UploadRefused, too_large
from api.studio.access import owned_course
from web.pages.common import settings_of, storage_of
from web.pages.studio.profile import profile_page
from web.templating import render

SizeLimit = Callable[[Settings], int]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

# Room for the multipart framing and the CSRF field around the file itself.
MULTIPART_SLACK = 64 * 1024
_LIMITS: dict[Callable[..., Any], SizeLimit] = {}


def upload_limit(limit: SizeLimit) -> Callable[[Endpoint], Endpoint]:
    """Mark a route as taking an upload of at most `limit(settings)` bytes (see UploadRoute)."""

    def mark(endpoint: Endpoint) -> Endpoint:
        _LIMITS[endpoint] = limit
        return endpoint

    return mark


class UploadRoute(APIRoute):
    """A route that refuses an upload over its limit before reading the request's body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = _LIMITS.get(self.endpoint)
        if limit is None:
            return handler

        async def guarded(request: Request) -> Response:
            allowed = limit(settings_of(request))
            declared = request.headers.get("content-length", "")
            # Without a length the body could be endless; browsers always send one for a form.
            if not declared.isdigit() or int(declared) > allowed + MULTIPART_SLACK:
                # The page header shows who is signed in, as on every other studio page.
                await run_in_threadpool(_resolve_visitor, request)
                return refused(request, too_large(allowed))
            return await handler(request)

        return guarded


def upload_paths(routers: Iterable[APIRouter]) -> list[re.Pattern[str]]:
    """The paths of the routes that take an upload: they may receive bodies far larger than
    other routes, and check their own limits (see api/security/body_limit.py)."""
    return [
        compile_path(context.path or "")[0]
        for router in routers
        for context in iter_route_contexts(router.routes)
        if getattr(context.original_route, "endpoint", None) in _LIMITS
    ]


def _resolve_visitor(request: Request) -> None:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        visitor_of(request, session)


def back_link(request: Request) -> tuple[str, str]:
    """Where the instructor came from, to go back to after a refused upload: URL and label."""
    slug = request.path_params.get("slug")
    lesson_id = request.path_params.get("lesson_id")
    step_id = request.path_params.get("step_id")
    if slug and request.url.path.startswith("/studio/articles/"):
        return f"/studio/articles/{slug}", _("Back to the article")
    if slug and lesson_id and step_id:
        url = f"/studio/courses/{slug}/lessons/{lesson_id}?edit={step_id}#step-{step_id}"
        return url, _("Back to the lesson")
    if slug and lesson_id:
        return f"/studio/courses/{slug}/lessons/{lesson_id}", _("Back to the lesson")
    if slug:
        return f"/studio/courses/{slug}", _("Back to the course")
    if request.url.path == "/studio/profile":
        return "/studio/profile", _("Back to your profile")
    return "/studio/import", _("Back to importing")


def refused(request: Request, error: UploadRefused) -> HTMLResponse:
    """A small page that says why the file was not saved, with the way back."""
    back, label = back_link(request)
    context = {"message": error.message, "back": back, "back_label": label}
    return render(request, "studio/upload_error.html", context, status_code=error.status_code)


router = APIRouter(include_in_schema=False, route_class=UploadRoute)

Upload = Annotated[UploadFile | None, File()]


def video_limit(settings: Settings) -> int:
    return settings.media_max_video_mb * MB


class FormLimits(TypedDict, total=False):
    """The multipart limits FastAPI takes per route (`form_limits`)."""

    max_files: int
    max_fields: int
    max_part_size: int


# An upload form holds one file, the CSRF token and perhaps a description; anything more is not
# from Kern's pages.
ONE_FILE: FormLimits = {"max_files": 1, "max_fields": 4, "max_part_size": 4096}


@router.post(
    "/studio/courses/{slug}/cover",
    response_class=HTMLResponse,
    form_limits=ONE_FILE,
)
@upload_limit(lambda _settings: images.MAX_BYTES)
def save_cover(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    image: Upload = None,
    alt: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Store the uploaded image as the course's cover (its file name is never used) and the
    words that describe it; without a new image, only the words change."""
    course = owned_course(session, viewer=user, slug=slug)
    try:
        keep = course.cover_image is not None and (image is None or not image.filename)
        media.set_cover(
            session,
            course=course,
            source=None if keep or image is None else image.file,
            storage=storage_of(request),
            alt=alt,
            keep_image=keep,
        )
    except UploadRefused as exc:
        return refused(request, exc)
    return RedirectResponse(f"/studio/courses/{course.slug}?notice=cover-saved", status_code=303)


@router.post(
    "/studio/profile",
    response_class=HTMLResponse,
    form_limits={"max_files": 1, "max_fields": 6, "max_part_size": 24 * 1024},
)
@upload_limit(lambda _settings: images.MAX_BYTES)
def save_profile(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    photo: Upload = None,
    photo_alt: Annotated[str, Form()] = "",
    credentials: Annotated[str, Form()] = "",
    bio: Annotated[str, Form()] = "",
) -> Response:
    """Save her profile, and her new photo when she chose one."""
    has_file = photo is not None and bool(photo.filename)
    try:
        media.save_profile(
            session,
            user=user,
            source=photo.file if photo is not None and has_file else None,
            storage=storage_of(request),
            bio=bio,
            credentials=credentials,
            photo_alt=photo_alt,
        )
    except UploadRefused as exc:
        return refused(request, exc)
    except FormError as exc:
        found = instructor_profile.of(session, user_id=id_of(user))
        values = {"photo_alt": photo_alt, "credentials": credentials, "bio": bio}
        photo_name = found.photo if found else None
        return profile_page(request, photo_name, values, exc.fields, status_code=exc.status_code)
    return RedirectResponse("/studio/profile?notice=saved", status_code=303)


@router.post(
    "/studio/courses/{slug}/lessons/{lesson_id}/video",
    response_class=HTMLResponse,
    form_limits=ONE_FILE,
)
@upload_limit(video_limit)
def save_video(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    video: Upload = None,
) -> Response:
    """Store the uploaded MP4 or WebM file as the lesson's video."""
    course = owned_course(session, viewer=user, slug=slug)
    settings = settings_of(request)
    try:
        media.set_lesson_video(
            session,
            course=course,
            lesson_id=lesson_id,
            source=video.file if video else None,
            storage=storage_of(request),
            max_bytes=video_limit(settings),
        )
    except UploadRefused as exc:
        return refused(request, exc)
    return RedirectResponse(
        f"/studio/courses/{course.slug}/lessons/{lesson_id}?notice=video-saved", status_code=303
    )


@router.post(
    "/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/picture",
    response_class=HTMLResponse,
    form_limits=ONE_FILE,
)
@upload_limit(lambda _settings: pictures.MAX_BYTES)
def save_step_picture(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    step_id: PathId,
    alt: Annotated[str, Form()] = "",
    picture: Upload = None,
) -> Response:
    """Store a picture or short loop of the exercise's position, with its description."""
    course = owned_course(session, viewer=user, slug=slug)
    try:
        media.set_step_picture(
            session,
            course=course,
            lesson_id=lesson_id,
            step_id=step_id,
            source=picture.file if picture else None,
            alt=alt,
            storage=storage_of(request),
        )
    except UploadRefused as exc:
        return refused(request, exc)
    return RedirectResponse(_step_url(course.slug, lesson_id, step_id, "picture-saved"), 303)


@router.post("/studio/courses/{slug}/lessons/{lesson_id}/steps/{step_id}/picture/remove")
def remove_step_picture(
    request: Request,
    session: SessionDep,
    user: RequireInstructor,
    slug: str,
    lesson_id: PathId,
    step_id: PathId,
) -> RedirectResponse:
    """Take the picture off the exercise; the file goes once nothing shows it."""
    course = owned_course(session, viewer=user, slug=slug)
    media.remove_step_picture(
        session,
        course=course,
        lesson_id=lesson_id,
        step_id=step_id,
        storage=storage_of(request),
    )
    return RedirectResponse(_step_url(course.slug, lesson_id, step_id, "picture-removed"), 303)


def _step_url(slug: str, lesson_id: int, step_id: int, notice: str) -> str:
    return (
        f"/studio/courses/{slug}/lessons/{lesson_id}?notice={notice}&edit={step_id}#step-{step_id}"
    )
