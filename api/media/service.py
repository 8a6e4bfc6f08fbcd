"""Uploads as the studio uses them (a course's cover, a lesson's video) and who may watch a video.

Which lesson shows which uploaded video is read from the lessons themselves (`video_provider` is
`file`, `video_ref` the file name): the lesson row is what learners are shown, so access follows
it, whether the video came from the upload form or from an imported course package. A separate
table of files would have to be kept in step with every lesson edit and import.
"""

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import packages
from api.catalog import service as catalog
from api.catalog.models import Course, Lesson, VideoProvider
from api.catalog.packages import ImportResult, archive
from api.errors import Forbidden, LoginRequired, NotFound
from api.i18n import gettext as _
from api.media import files, images, videos
from api.media.files import UploadRefused
from api.media.usage import discard_if_unused
from api.studio import courses as studio_courses
from api.studio import lessons as studio_lessons

# Served only to those who may open a lesson showing them; every other media type is public.
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".webm", ".ogv", ".mov"})


def set_cover(session: Session, *, course: Course, source: BinaryIO | None, media_dir: Path) -> str:
    """Store an uploaded image as the course's cover; its file name, or UploadRefused."""
    data = files.read_limited(source, images.MAX_BYTES) if source is not None else b""
    if not data:
        raise UploadRefused(_("Choose an image to upload first."))
    encoded = images.reencode(data)
    name = files.new_name(encoded.extension)
    files.write_bytes(media_dir, name, encoded.data)
    old = course.cover_image
    course.cover_image = name
    session.add(course)
    session.flush()
    studio_courses.touch(session, course=course)
    _replaced(session, media_dir, old=old, new=name)
    return name


def set_lesson_video(
    session: Session,
    *,
    course: Course,
    lesson_id: int,
    source: BinaryIO | None,
    media_dir: Path,
    max_bytes: int,
) -> Lesson:
    """Store an uploaded video as the lesson's video; NotFound for another course's lesson."""
    lesson = studio_lessons.lesson_of(session, course=course, lesson_id=lesson_id)
    if source is None or not source.read(1):
        raise UploadRefused(_("Choose a video to upload first."))
    source.seek(0)
    name = videos.store(source, media_dir=media_dir, max_bytes=max_bytes)
    old = lesson.video_ref if lesson.video_provider == VideoProvider.file else None
    lesson.video_provider = VideoProvider.file.value
    lesson.video_ref = name
    session.add(lesson)
    session.flush()
    studio_courses.touch(session, course=course, lesson=lesson)
    _replaced(session, media_dir, old=old, new=name)
    return lesson


def _replaced(session: Session, media_dir: Path, *, old: str | None, new: str) -> None:
    """The new file goes if the transaction fails; the old one once it commits, if unused."""
    files.after_rollback(session, partial(files.remove, media_dir, new))
    if old and old != new:
        discard_if_unused(session, name=old, media_dir=media_dir)


def import_zip(
    session: Session, *, source: BinaryIO, instructor: User, media_dir: Path
) -> ImportResult:
    """Import an uploaded package zip; files the course no longer names go after the commit."""
    package = archive.load_zip(source)
    # A package names the course's cover and uploaded videos by file name; one that leaves
    # them out (or names others) leaves the course's earlier files unused.
    before = _files_of(session, package.slug)
    result = packages.import_package(session, package, instructor=instructor)
    for name in before:
        discard_if_unused(session, name=name, media_dir=media_dir)
    return result


def _files_of(session: Session, slug: str) -> set[str]:
    """The cover and uploaded videos the course with this slug names now."""
    covers = session.exec(select(Course.cover_image).where(Course.slug == slug)).all()
    videos = session.exec(
        select(Lesson.video_ref)
        .join(Course, col(Course.id) == Lesson.course_id)
        .where(Course.slug == slug, Lesson.video_provider == VideoProvider.file)
    ).all()
    return {name for name in [*covers, *videos] if name}


def is_video(name: str) -> bool:
    return Path(name).suffix.lower() in VIDEO_SUFFIXES


def ensure_may_watch(session: Session, *, name: str, viewer: User | None, now: datetime) -> None:
    """Pass when the viewer may open a lesson that shows this video; else an error to show.

    A video that no lesson shows is not found, so an upload replaced meanwhile is not public.
    """
    slugs = session.exec(
        select(Course.slug)
        .join(Lesson, col(Lesson.course_id) == Course.id)
        .where(Lesson.video_provider == VideoProvider.file, Lesson.video_ref == name)
        .distinct()
    ).all()
    if not slugs:
        raise NotFound(_("We could not find this file."))
    for slug in slugs:
        try:
            outline = catalog.outline(session, slug=slug, viewer=viewer, now=now)
        except NotFound:
            continue  # a draft, or an archived course she is not enrolled in
        showing = [
            lesson
            for lesson in outline.lessons
            if lesson.video_provider == VideoProvider.file and lesson.video_ref == name
        ]
        if any(catalog.may_open(viewer, outline, lesson) for lesson in showing):
            return
    if viewer is None:
        raise LoginRequired(f"/media/{name}")
    raise Forbidden(_("This video belongs to a lesson you cannot open yet."))
