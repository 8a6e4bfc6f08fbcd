"""Uploaded media (lesson videos, covers, step pictures) from MEDIA_DIR, with range requests,
and the adaptive streams (playlists, segments, poster) the worker made of the videos.

A file is served only by the rules of the courses that own it (api/media/access.py): a video or
a step's picture to those who may open a lesson showing it, as the lesson page itself is; a
cover to those who may see the course, which is everyone once it is published.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from api.accounts.access import visitor_of
from api.accounts.models import User
from api.clock import Now
from api.db import SessionDep
from api.errors import NotFound
from api.i18n import gettext as _
from api.media import access as media_access
from api.media import files, hls, streams
from web.pages.common import settings_of

router = APIRouter(include_in_schema=False)

# Only image and video types are served: an uploaded .html would run in Kern's own origin.
# Uploads are named by Kern with the extension of the format their content has. A drawing (.svg)
# is stored only when it holds nothing but shapes (api/media/pictures.py), and is served with a
# policy that lets it load and run nothing, should someone open it on its own.
MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mov": "video/quicktime",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}
DRAWING_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"


def media_path(media_dir: Path, name: str) -> Path | None:
    """The file called `name` directly inside `media_dir`, or None when there is none."""
    # The name is checked before any file system access, so a crafted name never reaches
    # outside MEDIA_DIR.
    if not files.is_safe_name(name):
        return None
    if Path(name).suffix.lower() not in MEDIA_TYPES:
        return None
    root = media_dir.resolve()
    path = (root / name).resolve()
    # resolve() follows symlinks: a link pointing out of MEDIA_DIR is refused too, and so is
    # one to another name inside it (which would be served with the link's type and rules).
    if path.parent != root or path.name != name or not path.is_file():
        return None
    return path


# HEAD too: players and download managers ask for the size before fetching ranges.
@router.api_route("/media/{name}", methods=["GET", "HEAD"])
def serve_media(request: Request, session: SessionDep, now: Now, name: str) -> FileResponse:
    """One media file; Starlette answers Range requests with 206 so video can seek."""
    path = media_path(settings_of(request).media_dir, name)
    if path is None:
        raise NotFound(_("We could not find this file."))

    def viewer() -> User | None:
        # Asked only when the answer depends on who she is: a published cover needs no one.
        return visitor_of(request, session).signed_in

    public = media_access.ensure_may_fetch(session, name=path.name, viewer=viewer, now=now)
    # A video, or the cover of a course not published, is for some people only: no shared
    # cache may keep a copy.
    cache = "public, max-age=86400" if public else "private, max-age=3600"
    headers = {"Cache-Control": cache}
    if path.suffix.lower() == ".svg":
        headers["Content-Security-Policy"] = DRAWING_POLICY
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix.lower()], headers=headers)


@router.api_route("/media/hls/{stream_prefix}/{part}", methods=["GET", "HEAD"])
def serve_stream(
    request: Request, session: SessionDep, now: Now, stream_prefix: str, part: str
) -> FileResponse:
    """One file of a video's stream, to whoever may watch the video itself (a paid lesson's
    segments only to learners with access)."""
    found = hls.PREFIX.match(stream_prefix) is not None
    stream = streams.by_prefix(session, prefix=stream_prefix) if found else None
    path = None
    if stream is not None:
        path = hls.output_file(settings_of(request).media_dir, stream_prefix, part)
    if stream is None or path is None:
        raise NotFound(_("We could not find this file."))
    viewer = visitor_of(request, session).signed_in
    media_access.ensure_may_watch(session, name=stream.name, viewer=viewer, now=now)
    media_type = hls.MEDIA_TYPES[path.suffix]
    return FileResponse(
        path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"}
    )
