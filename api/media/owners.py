"""Who owns a stored file: the courses recorded in `media_file`, and so their instructor.

A course may name (as its cover, a lesson's uploaded video or a step's picture) only a file
that one of its instructor's courses owns, or one that its package brings along. Naming her own
file in another of her courses makes that course an owner too, so the file is served by its
rules as well, and stays when the first course lets it go.
"""

from collections.abc import Collection
from pathlib import Path

from sqlalchemy import Table, delete
from sqlmodel import Session, col, select

from api.catalog.models import Course
from api.db import upsert, utcnow
from api.media.models import MediaFile, MediaKind

# Served only to those who may open a lesson showing them (api/media/access.py).
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".webm", ".ogv", ".mov"})
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".svg"})
TABLE: Table = MediaFile.__table__  # type: ignore[attr-defined]


def kind_of(name: str) -> MediaKind | None:
    """What a file is by its name's extension; None for a type Kern does not serve."""
    suffix = Path(name).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return MediaKind.video
    if suffix in IMAGE_SUFFIXES:
        return MediaKind.image
    return None


def owned(session: Session, *, names: Collection[str], instructor_id: int) -> set[str]:
    """Which of `names` a course of this instructor owns (one statement)."""
    if not names:
        return set()
    rows = session.exec(
        select(MediaFile.name)
        .join(Course, col(Course.id) == MediaFile.course_id)
        .where(col(MediaFile.name).in_(sorted(names)), Course.instructor_id == instructor_id)
        .distinct()
    )
    return set(rows)


def owner_ids(session: Session, *, name: str) -> set[int]:
    """The instructors whose courses own the file `name`."""
    rows = session.exec(
        select(Course.instructor_id)
        .join(MediaFile, col(MediaFile.course_id) == Course.id)
        .where(MediaFile.name == name)
        .distinct()
    )
    return set(rows)


def record(session: Session, *, name: str, course_id: int, kind: MediaKind) -> None:
    """Note that the course owns the file `name`; nothing changes if it did already."""
    values = {"name": name, "course_id": course_id, "kind": kind.value, "created_at": utcnow()}
    upsert(session, TABLE, values, keys=["name", "course_id"])


def forget(session: Session, *, name: str) -> None:
    """Drop every owner of a file that is being removed."""
    session.execute(delete(MediaFile).where(col(MediaFile.name) == name))
