"""Uploads as the studio uses them (a course's cover, a lesson's video), owned by that course."""

from functools import partial
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session

from api.accounts.models import User
from api.catalog.models import Course, Lesson, VideoProvider
from api.catalog.packages import ImportResult, archive
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.media import files, images, imports, owners, videos
from api.media.files import UploadRefused
from api.media.models import MediaKind
from api.media.usage import discard_if_unused
from api.studio import courses as studio_courses
from api.studio import lessons as studio_lessons


def set_cover(session: Session, *, course: Course, source: BinaryIO | None, media_dir: Path) -> str:
    """Store an uploaded image as the course's cover; its file name, or UploadRefused."""
    data = files.read_limited(source, images.MAX_BYTES) if source is not None else b""
    if not data:
        raise UploadRefused(_("Choose an image to upload first."))
    encoded = images.reencode(data)
    name = files.new_name(encoded.extension)
    files.write_bytes(media_dir, name, encoded.data)
    owners.record(session, name=name, course_id=id_of(course), kind=MediaKind.image)
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
    owners.record(session, name=name, course_id=id_of(course), kind=MediaKind.video)
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
    session: Session,
    *,
    source: BinaryIO,
    instructor: User,
    media_dir: Path,
    max_video_bytes: int,
) -> ImportResult:
    """Import an uploaded package zip with the files it brings; files the course no longer
    names go after the commit."""
    with archive.unpacked(source) as package:
        return imports.import_package(
            session,
            package,
            instructor=instructor,
            media_dir=media_dir,
            max_video_bytes=max_video_bytes,
        )
