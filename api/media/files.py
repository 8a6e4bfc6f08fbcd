"""Stored media files: generated names, size limits, and clean-up tied to the transaction.

A file and the database row that names it cannot be written in one transaction. The order that
never leaves a row pointing at nothing: write the new file first, change the row, and remove the
file the row no longer needs only after the commit. Should the transaction roll back instead, the
new file is removed and the old one stays in use. Where files are kept is the storage's business
(api/media/storage.py).
"""

import logging
import re
import secrets
from collections.abc import Callable
from typing import BinaryIO

from sqlalchemy import event
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session

from api.errors import AppError
from api.i18n import gettext as _
from api.media import storage as media_storage
from api.media.storage import MediaStorage

log = logging.getLogger("kern.media")

CHUNK = media_storage.CHUNK
MB = 1024 * 1024
# What Kern itself names an upload: 32 hex digits and the extension of the real format.
GENERATED_NAME = re.compile(r"^[a-f0-9]{32}\.(?:jpg|png|webp|svg|mp4|webm)$")
# A name /media/ may serve: one plain file name, no separators, no "..", no hidden files.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")

_AFTER_COMMIT = "kern_media_after_commit"
_AFTER_ROLLBACK = "kern_media_after_rollback"


class UploadRefused(AppError):
    """An upload that is not stored; the message says why and what to do."""

    status_code = 422
    code = "upload_refused"


class TooLarge(UploadRefused):
    status_code = 413
    code = "too_large"


def is_safe_name(name: str) -> bool:
    """Whether `name` is one plain file name (no folder), checked before any file access."""
    return SAFE_NAME.match(name) is not None and ".." not in name


def new_name(extension: str) -> str:
    """A fresh file name that says nothing about the upload: random hex plus the extension."""
    return f"{secrets.token_hex(16)}.{extension}"


def too_large(limit_bytes: int) -> TooLarge:
    """The refusal for a file over `limit_bytes`, naming the limit in MB."""
    return TooLarge(
        _(
            "This file is larger than %(mb)s MB, so it was not saved. Choose a smaller file.",
            mb=limit_bytes // MB,
        )
    )


def read_limited(source: BinaryIO, limit_bytes: int) -> bytes:
    """The whole of a small upload, read in chunks; TooLarge as soon as it passes the limit."""
    data = bytearray()
    while chunk := source.read(min(CHUNK, limit_bytes + 1 - len(data))):
        data += chunk
        if len(data) > limit_bytes:
            raise too_large(limit_bytes)
    return bytes(data)


def discard(storage: MediaStorage, name: str) -> None:
    """Delete a stored file no row names any more. Run after the commit (or the rollback), so a
    storage that fails to delete loses nothing but space: it is logged, not raised."""
    try:
        storage.delete(name)
    except Exception:
        log.exception("could not delete the media file %s", name)


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the session's transaction has committed (skipped on rollback)."""
    _listen(session)
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def after_rollback(session: Session, action: Callable[[], None]) -> None:
    """Run `action` if the session's transaction rolls back instead of committing."""
    _listen(session)
    session.info.setdefault(_AFTER_ROLLBACK, []).append(action)


def _listen(session: Session) -> None:
    if not event.contains(session, "after_commit", _committed):
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_transaction_end", _ended)


def _committed(session: Session) -> None:
    session.info.pop(_AFTER_ROLLBACK, None)
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


def _ended(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction counts: a savepoint rolled back inside it (begin_nested)
    # leaves the request's transaction, and the files it will keep, going.
    if transaction.parent is not None:
        return
    session.info.pop(_AFTER_COMMIT, None)
    for action in session.info.pop(_AFTER_ROLLBACK, []):
        action()
