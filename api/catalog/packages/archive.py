"""Course packages as zip files, for the studio: download a course, upload one to import.

An uploaded zip is checked as a whole before anything is extracted: every member's name (no
absolute paths, no `..`, no links), the number of members and their total size. Only the files a
package consists of are then extracted, into a temporary folder: its texts each at most a little
over the size the loader accepts, the files in its media/ folder within the zip's total. They are
read with the same code as `kern import`.
"""

import contextlib
import io
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from sqlmodel import Session

from api.catalog.packages.export import package_files
from api.catalog.packages.load import (
    COURSE_FILE,
    LESSONS_DIR,
    MAX_FILE_BYTES,
    MEDIA_DIR,
    QUESTIONNAIRES_DIR,
    PackageError,
    Problem,
    load_package,
)
from api.catalog.packages.schema import CoursePackage, is_slug
from api.i18n import gettext as _

MB = 1024 * 1024
MAX_ARCHIVE_BYTES = 20 * MB
MAX_MEMBERS = 1000
# Unpacked, whether as the zip declares or as read: a few kilobytes may unpack to gigabytes.
# A course of hundreds of lessons is a few megabytes of text.
MAX_UNCOMPRESSED_BYTES = 50 * MB
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
# The course's slug as course.yaml's top-level key, to name the folder the loader reads.
_SLUG_LINE = re.compile(r"""^slug:[ \t]*["']?([a-z0-9-]+)["']?[ \t]*(?:#.*)?$""", re.MULTILINE)
# A folder name the loader accepts, for when course.yaml names no usable slug (it says so).
_PLACEHOLDER = "package"


def export_zip(session: Session, *, slug: str) -> bytes:
    """The course as a zip holding `<slug>/course.yaml`, `<slug>/lessons/*.md` and
    `<slug>/questionnaires/*.yaml`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, text in package_files(session, slug=slug).items():
            archive.writestr(f"{slug}/{path}", text)
    return buffer.getvalue()


@contextlib.contextmanager
def unpacked(source: BinaryIO) -> Iterator[CoursePackage]:
    """Check and read an uploaded package zip; PackageError lists everything that is wrong.

    The files its media/ folder brings stay on disk until the block ends.
    """
    with tempfile.TemporaryDirectory(prefix="kern-import-") as folder:
        yield load_package(extract(source, Path(folder)))


def _refuse(message: str, file: str = "") -> PackageError:
    return PackageError([Problem(file, None, "", message)])


def extract(source: BinaryIO, target: Path) -> Path:
    """Unpack the package in the zip `source` under `target`; the package folder."""
    source.seek(0, io.SEEK_END)
    size = source.tell()
    source.seek(0)
    if size > MAX_ARCHIVE_BYTES:
        raise _refuse(_("The zip file is larger than %(mb)s MB.", mb=MAX_ARCHIVE_BYTES // MB))
    try:
        with zipfile.ZipFile(source) as archive:
            members = _checked_members(archive)
            root = _package_root(members)
            folder = target / _folder_name(archive, root)
            written = 0
            for info in members:
                relative = info.filename[len(root) :]
                if _belongs_to_package(relative):
                    written += _copy_member(archive, info, folder / relative)
                if written > MAX_UNCOMPRESSED_BYTES:
                    raise _too_large_unpacked()
    # Each is how zipfile or zlib report a damaged or unsupported archive.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        ValueError,
    ):
        raise _refuse(
            _("This is not a zip file, or it is damaged. Make the zip again and retry.")
        ) from None
    return folder


def _checked_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The members that make up the package, after checking every member of the zip."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise _refuse(_("The zip holds more than %(num)s files.", num=MAX_MEMBERS))
    if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED_BYTES:
        raise _too_large_unpacked()
    if len({info.filename for info in infos}) < len(infos):
        raise _refuse(_("The zip holds the same file twice."))
    for info in infos:
        if not _safe_name(info.filename):
            raise _refuse(
                _("The zip holds a file with an unsafe name (a path outside the package)."),
                info.filename[:200],
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _refuse(_("The zip holds a symbolic link; packages hold plain files."))
        if info.flag_bits & 0x1:
            raise _refuse(_("The zip is protected with a password; make it without one."))
    # Finder adds __MACOSX/ and .DS_Store; hidden files are never part of a package.
    return [
        info
        for info in infos
        if not info.is_dir()
        and not any(part.startswith(".") or part == "__MACOSX" for part in _parts(info))
    ]


def _too_large_unpacked() -> PackageError:
    return _refuse(
        _("Unpacked, the zip would be larger than %(mb)s MB.", mb=MAX_UNCOMPRESSED_BYTES // MB)
    )


def _parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    return PurePosixPath(info.filename).parts


def _safe_name(name: str) -> bool:
    """A relative path of plain names: no leading /, drive letter, \\, NUL, `.` or `..`."""
    if not name or name.startswith("/") or _DRIVE.match(name) or "\\" in name or "\0" in name:
        return False
    parts = name.removesuffix("/").split("/")
    return all(part not in ("", ".", "..") for part in parts)


def _package_root(members: list[zipfile.ZipInfo]) -> str:
    """Where course.yaml is: at the top of the zip, or in its one top-level folder."""
    names = {info.filename for info in members}
    if COURSE_FILE in names:
        return ""
    tops = {_parts(info)[0] for info in members if len(_parts(info)) > 1}
    if len(tops) == 1 and f"{next(iter(tops))}/{COURSE_FILE}" in names:
        return f"{next(iter(tops))}/"
    raise _refuse(
        _(
            "The zip has no course.yaml, at the top or in one folder. Zip the course's folder "
            "as a whole, as the export does."
        )
    )


def _folder_name(archive: zipfile.ZipFile, root: str) -> str:
    """The course's slug from course.yaml (the loader checks the two agree), or a stand-in.

    The name of the folder inside a zip is an accident of how it was made ("sterke-basis 2"),
    so, unlike `kern import` of a folder, it does not have to be the slug.
    """
    with archive.open(root + COURSE_FILE) as handle:
        head = handle.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")
    match = _SLUG_LINE.search(head.removeprefix("\ufeff"))
    return match.group(1) if match and is_slug(match.group(1)) else _PLACEHOLDER


def _belongs_to_package(relative: str) -> bool:
    """course.yaml and the files directly in lessons/, questionnaires/ and media/: all that the
    loader reads."""
    parts = relative.split("/")
    folders = (LESSONS_DIR, QUESTIONNAIRES_DIR, MEDIA_DIR)
    return relative == COURSE_FILE or (len(parts) == 2 and parts[0] in folders)


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> int:
    """Write one member, stopping one byte past the loader's limit so that it can say so;
    the number of bytes written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    # A text stops one byte past the loader's limit, so that it can say so; a media file
    # (checked when it is imported) only at the limit for the whole zip.
    media = path.parent.name == MEDIA_DIR
    limit = (MAX_UNCOMPRESSED_BYTES if media else MAX_FILE_BYTES) + 1
    with archive.open(info) as source, path.open("xb") as target:
        while written < limit and (chunk := source.read(min(_CHUNK, limit - written))):
            target.write(chunk)
            written += len(chunk)
    return written
