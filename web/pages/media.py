"""Uploaded media (lesson videos, covers, step pictures) from the media storage, with range
requests, and the adaptive streams (playlists, segments, poster) the worker made of the videos.

A file is served only by the rules of the courses that own it (api/media/access.py): a video or
a step's picture to those who may open a lesson showing it, as the lesson page itself is; a
cover to those who may see the course, which is everyone once it is published.

With S3 storage Kern streams the object itself, after the access check, rather than sending the
browser to a signed URL of the bucket: the bucket then needs no public address, no signed link
can be passed on while it is valid, and seeking and resuming behave as with the local folder
(one range request to S3 per range the player asks for).
"""

import re
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from api.accounts.access import visitor_of
from api.accounts.models import User
from api.clock import Now
from api.db import SessionDep
from api.errors import NotFound
from api.i18n import gettext as _
from api.media import access as media_access
from api.media import files, hls, streams
from api.media.storage import MediaStorage
from web.pages.common import storage_of

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


# One range, as players and download managers ask: "bytes=10-", "bytes=10-19", "bytes=-500".
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def servable(name: str) -> bool:
    """Whether `name` is one plain file name of a type /media/ serves, checked before the
    storage is asked anything, so a crafted name never reaches a folder or another key."""
    return files.is_safe_name(name) and Path(name).suffix.lower() in MEDIA_TYPES


# HEAD too: players and download managers ask for the size before fetching ranges.
@router.api_route("/media/{name}", methods=["GET", "HEAD"])
def serve_media(request: Request, session: SessionDep, now: Now, name: str) -> Response:
    """One media file; a Range request gets 206 with just those bytes, so video can seek."""
    storage = storage_of(request)
    size = storage.size(name) if servable(name) else None
    if size is None:
        raise NotFound(_("We could not find this file."))

    def viewer() -> User | None:
        # Asked only when the answer depends on who she is: a published cover needs no one.
        return visitor_of(request, session).signed_in

    public = media_access.ensure_may_fetch(session, name=name, viewer=viewer, now=now)
    # A video, or the cover of a course not published, is for some people only: no shared
    # cache may keep a copy.
    cache = "public, max-age=86400" if public else "private, max-age=3600"
    headers = {"Cache-Control": cache}
    media_type = MEDIA_TYPES[Path(name).suffix.lower()]
    if media_type == "image/svg+xml":
        headers["Content-Security-Policy"] = DRAWING_POLICY
    return _answer(request, storage, name, size, media_type, headers)


@router.api_route("/media/hls/{stream_prefix}/{part}", methods=["GET", "HEAD"])
def serve_stream(
    request: Request, session: SessionDep, now: Now, stream_prefix: str, part: str
) -> Response:
    """One file of a video's stream, to whoever may watch the video itself (a paid lesson's
    segments only to learners with access)."""
    storage = storage_of(request)
    name = hls.output_name(stream_prefix, part)
    stream = streams.by_prefix(session, prefix=stream_prefix) if name is not None else None
    size = storage.size(name) if stream is not None and name is not None else None
    if stream is None or name is None or size is None:
        raise NotFound(_("We could not find this file."))

    def viewer() -> User | None:
        return visitor_of(request, session).signed_in

    # The same rules as for the video itself (a lesson's or an article's).
    media_access.ensure_may_fetch(session, name=stream.name, viewer=viewer, now=now)
    media_type = hls.MEDIA_TYPES[Path(part).suffix]
    headers = {"Cache-Control": "private, max-age=3600"}
    return _answer(request, storage, name, size, media_type, headers)


def _answer(
    request: Request,
    storage: MediaStorage,
    name: str,
    size: int,
    media_type: str,
    headers: dict[str, str],
) -> Response:
    """The file from the local folder, where Starlette answers ranges (also several at once)
    and conditional requests from the file itself; else from a remote storage, whole or the one
    range asked for. Stored names never get other content, so no If-Range check is needed for
    a resumed download to fit."""
    path = storage.local_path(name)
    if path is not None:
        return FileResponse(path, media_type=media_type, headers=headers)
    headers = {**headers, "Accept-Ranges": "bytes"}
    status, start, stop = 200, 0, size
    found = _RANGE.match(request.headers.get("range", "").replace(" ", ""))
    # A header that asks for no single range is ignored (RFC 9110, 14.2): the whole file.
    if found and (found[1] or found[2]):
        first, last = found[1], found[2]
        if first:
            start = int(first)
            stop = min(int(last) + 1, size) if last else size
        else:
            start = max(size - int(last), 0)
        if start >= size or stop <= start:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(status_code=416, headers=headers)
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    body: Iterator[bytes] = storage.iter_range(name, start, stop)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=media_type)
