"""Uploaded media (lesson videos, images) from MEDIA_DIR, with range requests for video.

Images are public (course covers appear in the catalog). A video is served only to those who
may open a lesson that shows it, as the lesson page itself is.
"""

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from api.accounts.access import visitor_of
from api.clock import Now
from api.db import SessionDep
from api.errors import NotFound
from api.i18n import gettext as _
from api.media import service as media
from web.pages.common import settings_of

router = APIRouter(include_in_schema=False)

# One plain file name: no separators, no "..", no hidden files. The name is checked before
# any file system access, so a crafted name never reaches outside MEDIA_DIR.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")

# Only image and video types are served: an uploaded .html or .svg would run in Kern's own
# origin. Uploads are named by Kern with the extension of the format their content has.
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
}


def media_path(media_dir: Path, name: str) -> Path | None:
    """The file called `name` directly inside `media_dir`, or None when there is none."""
    if not SAFE_NAME.match(name) or ".." in name:
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
    if media.is_video(path.name):
        # Only a video needs to know who is asking; images cost no database query.
        viewer = visitor_of(request, session).signed_in
        media.ensure_may_watch(session, name=path.name, viewer=viewer, now=now)
        # A video may be for enrolled learners only: keep copies out of shared caches.
        cache = "private, max-age=3600"
    else:
        cache = "public, max-age=86400"
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix.lower()], headers={"Cache-Control": cache}
    )
