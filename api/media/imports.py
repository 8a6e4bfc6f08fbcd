"""Importing a course package together with the files in its media/ folder.

A file the package brings is checked as an upload is (an image by its content, re-encoded
without metadata; a video by its first bytes and size; a step's picture as in the step editor,
api/media/pictures.py), then stored and owned by the course.
Where it is stored:

- under its own name when the instructor owns a file of that name already with the same
  content (importing her own export again stores nothing);
- under its own name when no file and no course use that name yet, so a package written by
  hand keeps the names it chose;
- otherwise under a name made from her account and the file's content, so that importing the
  same package again finds the copy it made the first time instead of making another.

It never replaces a file that is there already. Everything is checked before anything is
written, and the files are written after the course, so a refused import leaves no trace.
"""

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlmodel import Session, col, select

from api.accounts.models import User
from api.catalog import packages
from api.catalog.models import Course, Lesson, Step, VideoProvider
from api.catalog.packages import CoursePackage, ImportResult, PackageError, Problem
from api.catalog.packages import media as package_media
from api.catalog.packages.schema import MEDIA_DIR, MediaRef
from api.catalog.packages.store import Progress, existing_course
from api.kit.ids import id_of
from api.media import files, images, owners, pictures, streams, videos
from api.media.files import UploadRefused
from api.media.storage import CHUNK, MediaStorage
from api.media.usage import discard_if_unused

_HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Brought:
    """A file the package brings, checked: the name the course will use, and what to store."""

    name: str
    source: Path
    # The bytes to store (a re-encoded image); None stores the source as it is (a video).
    data: bytes | None
    # False when the storage holds this very file under `name` already.
    store: bool


def import_package(
    session: Session,
    package: CoursePackage,
    *,
    instructor: User,
    storage: MediaStorage,
    max_video_bytes: int,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the package and the files it brings; files the course no longer names go once
    the transaction commits, if nothing else names them."""
    existing_course(session, package, instructor=instructor)
    instructor_id = id_of(instructor)
    plan, problems = _plan(session, package, instructor_id, storage, max_video_bytes)
    problems += package_media.problems(
        session, package, instructor_id=instructor_id, brought=set(package.media)
    )
    if problems:
        raise PackageError(problems)
    before = _files_of(session, package.slug)
    renamed = package.renamed({original: brought.name for original, brought in plan.items()})
    result = packages.import_package(
        session,
        renamed,
        instructor=instructor,
        progress=progress,
        brought={brought.name for brought in plan.values()},
    )
    for brought in plan.values():
        if brought.store:
            _store(session, brought, storage)
    for name in before:
        discard_if_unused(session, name=name, storage=storage)
    return result


def _files_of(session: Session, slug: str) -> set[str]:
    """The cover, uploaded videos and steps' pictures the course with this slug names now."""
    covers = session.exec(select(Course.cover_image).where(Course.slug == slug)).all()
    shown = session.exec(
        select(Lesson.video_ref)
        .join(Course, col(Course.id) == Lesson.course_id)
        .where(Course.slug == slug, Lesson.video_provider == VideoProvider.file)
    ).all()
    pictures = session.exec(
        select(Step.media_file)
        .join(Lesson, col(Lesson.id) == Step.lesson_id)
        .join(Course, col(Course.id) == Lesson.course_id)
        .where(Course.slug == slug)
    ).all()
    return {name for name in [*covers, *shown, *pictures] if name}


def _plan(
    session: Session,
    package: CoursePackage,
    instructor_id: int,
    storage: MediaStorage,
    max_video_bytes: int,
) -> tuple[dict[str, Brought], list[Problem]]:
    """The files the package brings, checked and named, by the name the package uses; and
    what is wrong with any of them."""
    refs = {ref.name: ref for ref in package.media_refs() if ref.name in package.media}
    mine = owners.owned(session, names=set(refs), instructor_id=instructor_id)
    plan: dict[str, Brought] = {}
    problems: list[Problem] = []
    for name, ref in refs.items():
        if package_media.kind_problem(ref):
            continue  # said once, by package_media.problems
        source = package.media[name]
        try:
            data, extension = _checked(ref, source, max_video_bytes)
        except UploadRefused as refused:
            problems.append(Problem(f"{MEDIA_DIR}/{name}", None, "", refused.message))
            continue
        target, store = _target(
            session,
            ref,
            source=source,
            data=data,
            extension=extension,
            mine=mine,
            storage=storage,
        )
        if target is None:
            target, store = _copy_name(session, source, extension, instructor_id, storage)
        plan[name] = Brought(target, source, data, store)
    return plan, problems


def _checked(ref: MediaRef, source: Path, max_video_bytes: int) -> tuple[bytes | None, str]:
    """The bytes to store (None for a video, stored as it is) and the extension of its format."""
    if ref.picture:
        return pictures.checked_file(source)
    if ref.video:
        if source.stat().st_size > max_video_bytes:
            raise files.too_large(max_video_bytes)
        with source.open("rb") as handle:
            return None, videos.format_of(handle.read(64))
    with source.open("rb") as handle:
        encoded = images.reencode(files.read_limited(handle, images.MAX_BYTES))
    return encoded.data, encoded.extension


def _target(
    session: Session,
    ref: MediaRef,
    *,
    source: Path,
    data: bytes | None,
    extension: str,
    mine: Collection[str],
    storage: MediaStorage,
) -> tuple[str | None, bool]:
    """Where the package's own name can be used: (name, whether to store); (None, _) if not."""
    size = storage.size(ref.name) if files.is_safe_name(ref.name) else None
    # Her own export brings back the stored file itself; a package written by hand brings the
    # original of a re-encoded image, which encodes to the stored bytes.
    if ref.name in mine and size is not None:
        if size == source.stat().st_size and _same(storage, ref.name, _chunks_of(source)):
            return ref.name, False
        if data is not None and size == len(data) and _same(storage, ref.name, [data]):
            return ref.name, False
    suffix = Path(ref.name).suffix.lower().removeprefix(".")
    fits = suffix == extension or (suffix == "jpeg" and extension == "jpg")
    free = not owners.owner_ids(session, name=ref.name) and size is None
    if files.is_safe_name(ref.name) and fits and free:
        return ref.name, True
    return None, False


def _chunks_of(path: Path) -> Iterable[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _same(storage: MediaStorage, name: str, content: Iterable[bytes]) -> bool:
    """Whether the stored file holds `content` (compared by SHA-256, read in chunks)."""
    stored, given = hashlib.sha256(), hashlib.sha256()
    with storage.open(name) as handle:
        while chunk := handle.read(CHUNK):
            stored.update(chunk)
    for chunk in content:
        given.update(chunk)
    return stored.digest() == given.digest()


def _copy_name(
    session: Session, source: Path, extension: str, instructor_id: int, storage: MediaStorage
) -> tuple[str, bool]:
    """The name of her copy of this content: the same for every import of the same file."""
    digest = hashlib.sha256(f"kern-media:{instructor_id}:".encode())
    with source.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    name = f"{digest.hexdigest()[:32]}.{extension}"
    holders = owners.owner_ids(session, name=name)
    if holders - {instructor_id}:
        return files.new_name(extension), True  # taken by another instructor: unheard of
    return name, not (holders and storage.exists(name))


def _store(session: Session, brought: Brought, storage: MediaStorage) -> None:
    """Store one brought file; it goes again if the transaction rolls back."""
    if brought.data is not None:
        storage.put_bytes(brought.name, brought.data)
    else:
        storage.put_path(brought.name, brought.source)
        # A lesson's video (stored as it came): the worker makes its adaptive stream.
        streams.queue(session, name=brought.name)
    files.after_rollback(session, partial(files.discard, storage, brought.name))
