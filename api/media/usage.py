"""Whether a stored file is still named by a course or lesson, and removing it once it is not.

Apart from the upload service so that the studio's lesson editor can free a video it stops
using without importing the upload code (which itself uses the lesson editor).
"""

from functools import partial

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.articles.models import Article
from api.catalog.models import Course, InstructorProfile, Lesson, Step, VideoProvider
from api.media import files, owners, streams
from api.media.storage import MediaStorage


def discard_if_unused(session: Session, *, name: str, storage: MediaStorage) -> None:
    """Delete the file once the transaction commits, unless a course or lesson still names it.

    For a caller that has just stopped naming `name` (and flushed that change).
    """
    # Another course or lesson may name the same file (another course of hers that owns it).
    if not in_use(session, name):
        # Its owners go with it; should the transaction roll back, they stay, and the file too.
        owners.forget(session, name=name)
        # A video's stream (playlists, segments, poster) goes with it.
        streams.forget(session, name=name, storage=storage)
        files.after_commit(session, partial(files.discard, storage, name))


def replaced(session: Session, *, storage: MediaStorage, old: str | None, new: str) -> None:
    """`new` took the place of `old`: the new file goes if the transaction fails, the old one
    once it commits, if nothing names it any more."""
    files.after_rollback(session, partial(files.discard, storage, new))
    if old and old != new:
        discard_if_unused(session, name=old, storage=storage)


def in_use(session: Session, name: str) -> bool:
    """Whether any course's cover, lesson's video, step's picture, instructor's photo, or an
    article's cover or video is the file `name`."""
    covers = select(func.count()).select_from(Course).where(Course.cover_image == name)
    lessons = (
        select(func.count())
        .select_from(Lesson)
        .where(Lesson.video_provider == VideoProvider.file, Lesson.video_ref == name)
    )
    steps = select(func.count()).select_from(Step).where(Step.media_file == name)
    photos = (
        select(func.count()).select_from(InstructorProfile).where(InstructorProfile.photo == name)
    )
    articles = (
        select(func.count())
        .select_from(Article)
        .where(
            (col(Article.cover_image) == name)
            | (
                (col(Article.video_provider) == VideoProvider.file)
                & (col(Article.video_ref) == name)
            )
        )
    )
    queries = (covers, lessons, steps, photos, articles)
    return any(session.exec(query).one() for query in queries)
