"""Uploaded media (lesson videos, images) from MEDIA_DIR, with range requests for video."""

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from api.errors import NotFound
from api.i18n import gettext as _
from web.pages.common import settings_of

router = APIRouter(include_in_schema=False)

# One plain file name: no separators, no "..", no hidden files. The name is checked before
# any file system access, so a crafted name never reaches outside MEDIA_DIR.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")

# Only media types are served: an uploaded .html or .svg would run in Kern's own origin.
MEDIA_TYPES = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".webm": "video/webm",
    ".ogv": "video/ogg",
    ".mov": "video/quicktime",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".vtt": "text/vtt; charset=utf-8",
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
    # resolve() follows symlinks: a link pointing out of MEDIA_DIR is refused too.
    if path.parent != root or not path.is_file():
        return None
    return path


# HEAD too: players and download managers ask for the size before fetching ranges.
@router.api_route("/media/{name}", methods=["GET", "HEAD"])
def serve_media(request: Request, name: str) -> FileResponse:
    """One media file; Starlette answers Range requests with 206 so video can seek."""
    path = media_path(settings_of(request).media_dir, name)
    if path is None:
        raise NotFound(_("We could not find this file."))
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix.lower()],
        # Lessons may later be for enrolled learners only: keep copies out of shared caches.
        headers={"Cache-Control": "private, max-age=3600"},
    )
