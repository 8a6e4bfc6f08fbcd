"""A lesson's video in the studio: a YouTube or Vimeo link, or an uploaded file of her own."""

import re
from typing import Protocol
from urllib.parse import urlsplit

from sqlmodel import Session

from api.catalog.models import Course, Lesson, VideoProvider
from api.catalog.video import parse_video_url
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.media import files, owners, streams
from api.media.models import MediaKind

MAX_URL = 500


class ShowsVideo(Protocol):
    """Whatever shows a video as a lesson does (a lesson, an article)."""

    video_provider: str | None
    video_ref: str | None


_MEDIA_LINK = re.compile(r"^/media/([^/]+)$")


def video_url(lesson: ShowsVideo) -> str:
    """The lesson's YouTube or Vimeo video as a link to paste back in the form ("" for none)."""
    if lesson.video_provider == VideoProvider.youtube:
        return f"https://www.youtube.com/watch?v={lesson.video_ref}"
    if lesson.video_provider == VideoProvider.vimeo:
        return f"https://vimeo.com/{lesson.video_ref}"
    return ""


def chosen(
    typed_url: str, remove: bool, lesson: ShowsVideo | None, errors: dict[str, str]
) -> tuple[str | None, str | None]:
    """Provider and id from the pasted link; an uploaded file stays unless removed or replaced."""
    url = typed_url.strip()
    if url:
        if "://" not in url and not url.startswith("/"):
            url = "https://" + url  # "youtu.be/…" pasted without its scheme
        uploaded = uploaded_video(url) if len(url) <= MAX_URL else None
        if uploaded is not None:
            return VideoProvider.file.value, uploaded
        parsed = parse_video_url(url) if len(url) <= MAX_URL else None
        if parsed is None:
            errors["video_url"] = _(
                "Kern recognises links to a YouTube or Vimeo video, for example "
                "https://www.youtube.com/watch?v=…, https://youtu.be/… or "
                "https://vimeo.com/123456789. Copy the address of the video itself, leave "
                "this field empty for no video, or upload a video file below."
            )
            return None, None
        return parsed
    if lesson and lesson.video_provider == VideoProvider.file and not remove:
        return lesson.video_provider, lesson.video_ref
    return None, None


def uploaded_video(url: str) -> str | None:
    """The file name in a link to a video Kern serves (…/media/<name>.mp4), or None.

    The name alone counts, whatever the host: whether she may use that file is decided by who
    owns it (`check_owned`), not by where the link points.
    """
    match = _MEDIA_LINK.match(urlsplit(url).path)
    name = match.group(1) if match else ""
    if files.is_safe_name(name) and owners.kind_of(name) == MediaKind.video:
        return name
    return None


def check_owned(
    session: Session,
    *,
    course: Course,
    lesson: Lesson | None,
    ref: str | None,
    errors: dict[str, str],
) -> None:
    """A video file newly chosen for the lesson must be one the instructor's courses own.

    A file the lesson shows already may stay: refusing it would lock the lesson, and keeping it
    grants nothing (/media/ serves a file only by the rules of the courses that own it).
    """
    kept = lesson.video_ref if lesson and lesson.video_provider == VideoProvider.file else None
    if ref is None or ref == kept:
        return
    if not owners.owned(session, names={ref}, instructor_id=course.instructor_id):
        errors["video_url"] = _(
            "This video is not one of your uploads in Kern, so it cannot be used here. Upload "
            "the file below, or paste a YouTube or Vimeo link."
        )


def record(session: Session, *, course: Course, lesson: Lesson) -> None:
    """The course owns the uploaded video its lesson now shows (so /media/ serves it by the
    course's rules); a file of another of her courses becomes this one's too."""
    if lesson.video_provider == VideoProvider.file and lesson.video_ref:
        owners.record(session, name=lesson.video_ref, course_id=id_of(course), kind=MediaKind.video)
        # Usually it has its stream already; one uploaded before streams existed gets it now.
        streams.queue(session, name=lesson.video_ref)
