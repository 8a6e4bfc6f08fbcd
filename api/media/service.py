"""Uploads as the studio uses them (a course's cover, a lesson's video, a step's picture),
owned by that course."""

from typing import BinaryIO

from sqlmodel import Session, select

from api.accounts.models import User
from api.catalog import profile as instructor_profile
from api.catalog.models import Course, InstructorProfile, Lesson, Step, StepKind, VideoProvider
from api.catalog.packages import ImportResult, archive
from api.errors import NotFound
from api.i18n import gettext as _
from api.kit.ids import id_of
from api.media import files, images, imports, owners, pictures, streams, videos
from api.media.files import UploadRefused
from api.media.models import MediaKind
from api.media.storage import MediaStorage
from api.media.usage import discard_if_unused, replaced
from api.studio import courses as studio_courses
from api.studio import lessons as studio_lessons
from api.studio import steps as studio_steps
from api.studio.courses import clean_line

# The words that describe a step's picture to someone who cannot see it (its alt text).
MAX_ALT = 300


def set_cover(
    session: Session,
    *,
    course: Course,
    source: BinaryIO | None,
    storage: MediaStorage,
    alt: str | None = None,
    keep_image: bool = False,
) -> str:
    """Store an uploaded image as the course's cover, and the words that describe it (`alt`,
    when given); with `keep_image` only the words. Its file name, or UploadRefused."""
    if alt is not None:
        course.cover_alt = clean_line(alt)[:MAX_ALT]
    if keep_image and course.cover_image:
        session.add(course)
        session.flush()
        studio_courses.touch(session, course=course)
        return course.cover_image
    data = files.read_limited(source, images.MAX_BYTES) if source is not None else b""
    if not data:
        raise UploadRefused(_("Choose an image to upload first."))
    encoded = images.reencode(data)
    name = files.new_name(encoded.extension)
    storage.put_bytes(name, encoded.data)
    owners.record(session, name=name, course_id=id_of(course), kind=MediaKind.image)
    old = course.cover_image
    course.cover_image = name
    session.add(course)
    session.flush()
    studio_courses.touch(session, course=course)
    replaced(session, storage=storage, old=old, new=name)
    return name


def save_profile(
    session: Session,
    *,
    user: User,
    source: BinaryIO | None,
    storage: MediaStorage,
    bio: str,
    credentials: str,
    photo_alt: str,
) -> InstructorProfile:
    """Save her profile and, when she chose one, a new photo (owned by each of her courses, so
    her packages carry it); UploadRefused for a file that is no photo."""
    data = files.read_limited(source, images.MAX_BYTES) if source is not None else b""
    found = instructor_profile.of(session, user_id=id_of(user))
    old = found.photo if found else None
    # Checked before the photo is stored, so a refused form leaves no file behind.
    instructor_profile.check(
        bio=bio, credentials=credentials, photo_alt=photo_alt, has_photo=bool(data or old)
    )
    name = None
    if data:
        encoded = images.reencode(data)
        name = files.new_name(encoded.extension)
        storage.put_bytes(name, encoded.data)
        for course_id in session.exec(select(Course.id).where(Course.instructor_id == user.id)):
            if course_id is not None:
                owners.record(session, name=name, course_id=course_id, kind=MediaKind.image)
    saved = instructor_profile.save(
        session,
        user_id=id_of(user),
        bio=bio,
        credentials=credentials,
        photo_alt=photo_alt,
        photo=name,
        replace_photo=name is not None,
    )
    if name is not None:
        replaced(session, storage=storage, old=old, new=name)
    return saved


def set_lesson_video(
    session: Session,
    *,
    course: Course,
    lesson_id: int,
    source: BinaryIO | None,
    storage: MediaStorage,
    max_bytes: int,
) -> Lesson:
    """Store an uploaded video as the lesson's video; NotFound for another course's lesson."""
    lesson = studio_lessons.lesson_of(session, course=course, lesson_id=lesson_id)
    if source is None or not source.read(1):
        raise UploadRefused(_("Choose a video to upload first."))
    source.seek(0)
    name = videos.store(source, storage=storage, max_bytes=max_bytes)
    owners.record(session, name=name, course_id=id_of(course), kind=MediaKind.video)
    # The worker turns it into an adaptive stream; the original plays until that is ready.
    streams.queue(session, name=name)
    old = lesson.video_ref if lesson.video_provider == VideoProvider.file else None
    lesson.video_provider = VideoProvider.file.value
    lesson.video_ref = name
    session.add(lesson)
    session.flush()
    studio_courses.touch(session, course=course, lesson=lesson)
    replaced(session, storage=storage, old=old, new=name)
    return lesson


def set_step_picture(
    session: Session,
    *,
    course: Course,
    lesson_id: int,
    step_id: int,
    source: BinaryIO | None,
    alt: str,
    storage: MediaStorage,
) -> Step:
    """Store an uploaded picture or loop of an exercise's position with the words that describe
    it; without a file, only the words of the picture it has change."""
    lesson, step = _exercise_step(session, course=course, lesson_id=lesson_id, step_id=step_id)
    described = clean_line(alt)
    if not described:
        raise UploadRefused(
            _("Describe the picture in a few words, for someone who cannot see it.")
        )
    if len(described) > MAX_ALT:
        raise UploadRefused(
            _("The description is longer than %(num)s characters; make it shorter.", num=MAX_ALT)
        )
    if source is None or not source.read(1):
        if not step.media_file:
            raise UploadRefused(_("Choose a picture or a short video to upload first."))
        step.media_alt = described
        return _saved(session, course, lesson, step)
    source.seek(0)
    name = pictures.store(source, storage=storage)
    kind = owners.kind_of(name) or MediaKind.image
    owners.record(session, name=name, course_id=id_of(course), kind=kind)
    old = step.media_file
    step.media_file, step.media_alt = name, described
    _saved(session, course, lesson, step)
    replaced(session, storage=storage, old=old, new=name)
    return step


def remove_step_picture(
    session: Session, *, course: Course, lesson_id: int, step_id: int, storage: MediaStorage
) -> Step:
    """Take the picture off the step; its file goes once nothing else shows it."""
    lesson, step = _exercise_step(session, course=course, lesson_id=lesson_id, step_id=step_id)
    old = step.media_file
    step.media_file, step.media_alt = None, None
    _saved(session, course, lesson, step)
    if old:
        discard_if_unused(session, name=old, storage=storage)
    return step


def _exercise_step(
    session: Session, *, course: Course, lesson_id: int, step_id: int
) -> tuple[Lesson, Step]:
    """The lesson and its exercise step; NotFound for any other step."""
    lesson = studio_lessons.lesson_of(session, course=course, lesson_id=lesson_id)
    step = studio_steps.step_of(session, lesson=lesson, step_id=step_id)
    if step.kind != StepKind.exercise:
        raise NotFound(_("Only an exercise can have a picture of its position."))
    return lesson, step


def _saved(session: Session, course: Course, lesson: Lesson, step: Step) -> Step:
    session.add(step)
    session.flush()
    studio_courses.touch(session, course=course, lesson=lesson)
    return step


def import_zip(
    session: Session,
    *,
    source: BinaryIO,
    instructor: User,
    storage: MediaStorage,
    max_video_bytes: int,
) -> ImportResult:
    """Import an uploaded package zip with the files it brings; files the course no longer
    names go after the commit."""
    with archive.unpacked(source) as package:
        return imports.import_package(
            session,
            package,
            instructor=instructor,
            storage=storage,
            max_video_bytes=max_video_bytes,
        )
