"""Videos: recognised by their first bytes, streamed to the storage in chunks under a size limit."""

from typing import BinaryIO

from api.i18n import gettext as _
from api.media.files import CHUNK, UploadRefused, new_name, too_large
from api.media.storage import MediaStorage

# An MP4 (ISO base media) file starts with a box of type `ftyp` whose brand says what it holds.
# HEIF/AVIF photos and M4A audio use the same container: their brands are not videos.
_NOT_VIDEO_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
    | {b"M4A ", b"M4B ", b"M4P ", b"crx "}
)
_QUICKTIME_BRAND = b"qt  "
# WebM is Matroska with the document type "webm", named in the EBML header at the start.
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_HEADER_BYTES = 64


def not_a_video() -> UploadRefused:
    return UploadRefused(
        _(
            "This file is not an MP4 or WebM video. Choose a video in one of these formats; "
            "most phones and editing programs can save as MP4."
        )
    )


def format_of(header: bytes) -> str:
    """`mp4` or `webm` from a file's first bytes; UploadRefused for anything else."""
    if len(header) >= 12 and header[4:8] == b"ftyp":
        brand = header[8:12]
        if brand == _QUICKTIME_BRAND:
            raise UploadRefused(
                _(
                    "This is a QuickTime (.mov) video, which not every browser can play. "
                    "Save or export it as MP4 and upload that file."
                )
            )
        if brand in _NOT_VIDEO_BRANDS:
            raise not_a_video()
        return "mp4"
    if header.startswith(_EBML_MAGIC) and b"webm" in header[:_HEADER_BYTES]:
        return "webm"
    raise not_a_video()


def store(source: BinaryIO, *, storage: MediaStorage, max_bytes: int) -> str:
    """Copy the upload to the storage chunk by chunk; its new name, or UploadRefused/TooLarge.

    Nothing is left behind when the file is refused: the storage keeps only finished writes.
    """
    first = source.read(CHUNK)
    extension = format_of(first[:_HEADER_BYTES])
    name = new_name(extension)
    size = 0
    with storage.writing(name) as handle:
        chunk = first
        while chunk:
            size += len(chunk)
            if size > max_bytes:
                raise too_large(max_bytes)
            handle.write(chunk)
            chunk = source.read(CHUNK)
    return name
