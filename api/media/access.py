"""Who may fetch a stored file: only what the courses that own it let her see.

A video, and a step's picture or loop, is served to whoever may open a lesson that shows it in
one of its owning courses, as paid lessons are; a cover image to whoever may see one of its
owning courses that uses it as cover (everyone, once it is published); an instructor's photo to
everyone. A course that names a
file it does not own grants nothing, and a file that no course owns is not served at all.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.articles import media as article_media
from api.catalog import profile as instructor_profile
from api.catalog import service as catalog
from api.catalog.models import Course, CourseStatus, Lesson, Step, VideoProvider
from api.errors import Forbidden, LoginRequired, NotFound
from api.i18n import gettext as _
from api.media import owners
from api.media.models import MediaFile, MediaKind

Viewer = Callable[[], User | None]


def ensure_may_fetch(session: Session, *, name: str, viewer: Viewer, now: datetime) -> bool:
    """Pass when the viewer may have the file, else an error to show; whether everyone may
    (so shared caches may keep it). `viewer` is asked only when the answer depends on her."""
    kind = owners.kind_of(name)
    # An article's cover or video: everyone's once the article is public, else its author's.
    by_article = article_media.may_fetch(session, name=name, viewer=viewer, now=now)
    if by_article is not None:
        return by_article
    if kind == MediaKind.video:
        ensure_may_watch(session, name=name, viewer=viewer(), now=now)
        return False
    if kind == MediaKind.image:
        try:
            return _ensure_may_see_cover(session, name=name, viewer=viewer, now=now)
        except NotFound:
            # An instructor's photo is on her public course pages: everyone may see it.
            if instructor_profile.uses_photo(session, name=name):
                return True
            # Not a cover she may see: perhaps the picture of a step in a lesson she may open.
            ensure_may_watch(session, name=name, viewer=viewer(), now=now)
            return False
    raise NotFound(_("We could not find this file."))


def ensure_may_watch(session: Session, *, name: str, viewer: User | None, now: datetime) -> None:
    """Pass when the viewer may open a lesson that shows this file (as its video, or as one of
    its steps' pictures) in a course that owns it.

    A file that no owning course shows is not found, so an upload replaced meanwhile is not
    public.
    """
    shown_in_step = col(Lesson.id).in_(select(Step.lesson_id).where(Step.media_file == name))
    rows = session.exec(
        select(Course.slug, Lesson.id)
        .join(MediaFile, col(MediaFile.course_id) == Course.id)
        .join(Lesson, col(Lesson.course_id) == Course.id)
        .where(
            MediaFile.name == name,
            or_(
                and_(
                    col(Lesson.video_provider) == VideoProvider.file,
                    col(Lesson.video_ref) == name,
                ),
                shown_in_step,
            ),
        )
        .distinct()
    ).all()
    if not rows:
        raise NotFound(_("We could not find this file."))
    showing: dict[str, set[int | None]] = {}
    for slug, lesson_id in rows:
        showing.setdefault(slug, set()).add(lesson_id)
    for slug, lesson_ids in showing.items():
        try:
            outline = catalog.outline(session, slug=slug, viewer=viewer, now=now)
        except NotFound:
            continue  # a draft, or an archived course she is not enrolled in
        lessons = [lesson for lesson in outline.lessons if lesson.id in lesson_ids]
        if any(catalog.may_open(viewer, outline, lesson) for lesson in lessons):
            return
    if viewer is None:
        raise LoginRequired(f"/media/{name}")
    if owners.kind_of(name) == MediaKind.image:
        raise Forbidden(_("This picture belongs to a lesson you cannot open yet."))
    raise Forbidden(_("This video belongs to a lesson you cannot open yet."))


def _ensure_may_see_cover(session: Session, *, name: str, viewer: Viewer, now: datetime) -> bool:
    """Pass when the viewer may see a course that owns this image as its cover; whether
    everyone may (one of them is published)."""
    courses = session.exec(
        select(Course.slug, Course.status)
        .join(MediaFile, col(MediaFile.course_id) == Course.id)
        .where(MediaFile.name == name, Course.cover_image == name)
    ).all()
    if any(status == CourseStatus.published for _slug, status in courses):
        return True
    # A draft's cover is as private as the draft: shown to its instructor and admins, and an
    # archived course's to the learners still enrolled in it.
    person = viewer() if courses else None
    for slug, _status in courses:
        try:
            catalog.outline(session, slug=slug, viewer=person, now=now)
        except NotFound:
            continue
        return False
    raise NotFound(_("We could not find this file."))
