"""An article's cover image and uploaded video, stored as a course's are, and who may fetch them.

A file an article names is served to everyone once the article is public, and to its author
(and admins) before that.
"""

from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from api.accounts.models import User
from api.articles import service
from api.articles.models import Article
from api.catalog.models import VideoProvider
from api.i18n import gettext as _
from api.media import files, images, streams, videos
from api.media.files import UploadRefused
from api.media.storage import MediaStorage
from api.media.usage import replaced


def _names(name: str) -> ColumnElement[bool]:
    return or_(
        col(Article.cover_image) == name,
        (col(Article.video_provider) == VideoProvider.file) & (col(Article.video_ref) == name),
    )


def may_fetch(
    session: Session, *, name: str, viewer: Callable[[], User | None], now: datetime
) -> bool | None:
    """Whether an article lets the viewer have this file: True when everyone may (a public
    article shows it), False when only she may (her own draft), None when no article does."""
    articles = session.exec(select(Article).where(_names(name))).all()
    if not articles:
        return None
    if any(service.shows_publicly(article, now) for article in articles):
        return True
    person = viewer()
    if any(service.may_edit(person, article) for article in articles):
        return False
    return None


def set_cover(
    session: Session, *, article: Article, source: BinaryIO | None, storage: MediaStorage
) -> str:
    """Store an uploaded image as the article's cover; its file name, or UploadRefused."""
    data = files.read_limited(source, images.MAX_BYTES) if source is not None else b""
    if not data:
        raise UploadRefused(_("Choose an image to upload first."))
    encoded = images.reencode(data)
    name = files.new_name(encoded.extension)
    storage.put_bytes(name, encoded.data)
    old = article.cover_image
    article.cover_image = name
    session.add(article)
    session.flush()
    replaced(session, storage=storage, old=old, new=name)
    return name


def set_video(
    session: Session,
    *,
    article: Article,
    source: BinaryIO | None,
    storage: MediaStorage,
    max_bytes: int,
) -> str:
    """Store an uploaded video as the article's video; its file name, or UploadRefused."""
    if source is None or not source.read(1):
        raise UploadRefused(_("Choose a video to upload first."))
    source.seek(0)
    name = videos.store(source, storage=storage, max_bytes=max_bytes)
    old = article.video_ref if article.video_provider == VideoProvider.file else None
    article.video_provider = VideoProvider.file.value
    article.video_ref = name
    session.add(article)
    session.flush()
    # The worker makes its adaptive stream, as for a lesson's video.
    streams.queue(session, name=name)
    replaced(session, storage=storage, old=old, new=name)
    return name
