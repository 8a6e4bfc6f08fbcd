"""Where uploaded media lives: one interface, two backends, chosen by MEDIA_STORAGE.

- `local` (the default): the folder MEDIA_DIR on this server. Nothing to set up, but only this
  server sees the files.
- `s3`: a bucket of S3-compatible object storage (AWS S3, SeaweedFS, MinIO, Garage …), which
  several Kern servers share (MEDIA_S3_* settings).

Every part of Kern that stores, reads or removes a media file goes through a `MediaStorage`;
nothing else opens MEDIA_DIR. A name is a path of plain parts joined by "/" ("a1b2….mp4",
"hls/a1b2…/720p/segment-003.ts"): no empty part, no part that starts with a dot (partial
uploads of the local folder do), no "..", no backslash. A name is checked before any file or
object is touched, so none reaches outside the folder or the bucket's prefix.

A file appears whole or not at all: the local folder writes a hidden partial file and renames
it; S3 stores an object only once its upload completed. Names are never reused for other
content (Kern names uploads with random or content-derived names), so a resumed download never
mixes two versions.
"""

import contextlib
import logging
import mimetypes
import os
import re
import secrets
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from api.config import Settings, SettingsError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("kern.media")

CHUNK = 1024 * 1024
# One part of a name: what Kern itself writes (hex names, rendition folders, segment files).
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_PARTIAL_PREFIX = ".upload-"
# Types for objects in S3 (shown when a signed URL is opened); Kern sets its own when it serves.
_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".svg": "image/svg+xml",
}
# S3's DeleteObjects takes at most this many keys at once.
_DELETE_BATCH = 1000


def check_name(name: str) -> str:
    """`name` when it is a storable name (see the module's note); ValueError otherwise."""
    parts = name.split("/")
    if len(name) > 1000 or not all(_PART.match(part) and ".." not in part for part in parts):
        raise ValueError(f"not a media name: {name!r}")
    return name


def check_prefix(prefix: str) -> str:
    """A prefix to list or delete under: "" (everything), or a name, "/" allowed at the end."""
    if prefix:
        check_name(prefix.removesuffix("/"))
    return prefix


def content_type(name: str) -> str:
    """The type of a stored file by its extension (application/octet-stream when unknown)."""
    suffix = Path(name).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


class MediaStorage(ABC):
    """Stored media files by name. Missing files raise FileNotFoundError where a file is read."""

    @abstractmethod
    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[BinaryIO]:
        """A handle to write the file `name` into; stored when the block ends without an
        error, and not at all when it raises (nothing half-written is ever visible)."""

    def put_bytes(self, name: str, data: bytes) -> None:
        """Store `data` as `name`."""
        with self.writing(name) as handle:
            handle.write(data)

    def put_file(self, name: str, source: IO[bytes]) -> None:
        """Store what is left to read in `source` as `name`, in chunks."""
        with self.writing(name) as handle:
            shutil.copyfileobj(source, handle, CHUNK)

    def put_path(self, name: str, path: Path) -> None:
        """Store the local file `path` as `name` (e.g. a poster ffmpeg wrote to a temp folder)."""
        with path.open("rb") as source:
            self.put_file(name, source)

    def put_tree(self, prefix: str, folder: Path) -> list[str]:
        """Store every file under the local `folder` as `prefix/<its path in folder>` (an HLS
        rendition's playlists and segments); the names stored, sorted."""
        check_name(prefix.removesuffix("/"))
        stored = []
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                name = f"{prefix.removesuffix('/')}/{path.relative_to(folder).as_posix()}"
                self.put_path(check_name(name), path)
                stored.append(name)
        return stored

    @abstractmethod
    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        """The file to read from its start; FileNotFoundError when there is none."""

    def read_bytes(self, name: str) -> bytes:
        """The whole file (for small ones: images, playlists)."""
        with self.open(name) as handle:
            return handle.read()

    def read_range(self, name: str, start: int, stop: int) -> bytes:
        """Bytes `start` up to (not including) `stop`, as a slice would give them."""
        return b"".join(self.iter_range(name, start, stop))

    @abstractmethod
    def iter_range(self, name: str, start: int, stop: int) -> Iterator[bytes]:
        """Bytes `start` up to `stop` in chunks of at most CHUNK: what /media/ streams."""

    @abstractmethod
    def size(self, name: str) -> int | None:
        """The file's size in bytes; None when there is no such file."""

    def exists(self, name: str) -> bool:
        return self.size(name) is not None

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the file if it is there."""

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """The names that start with `prefix`, sorted (e.g. "hls/<video>/" for its folder)."""

    def delete_prefix(self, prefix: str) -> int:
        """Remove every file whose name starts with `prefix`; how many there were."""
        names = self.list(prefix)
        for name in names:
            self.delete(name)
        return len(names)

    def fetch_to(self, name: str, path: Path) -> Path:
        """Copy the file to the local `path` (e.g. an original for ffmpeg); FileNotFoundError
        when there is none."""
        with self.open(name) as source, path.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
        return path

    def presigned_url(self, name: str, seconds: int | None = None) -> str | None:
        """A URL that fetches the file without Kern for a short time; None where the backend
        has none (the local folder). Hand it out only after Kern's own access check."""
        return None

    def local_path(self, name: str) -> Path | None:
        """The file on this server's disk when the backend keeps it there, else None."""
        return None


class LocalStorage(MediaStorage):
    """Files in a folder on this server (MEDIA_DIR)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*check_name(name).split("/"))

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[BinaryIO]:
        target = self._path(name)
        self.root.mkdir(parents=True, exist_ok=True)
        # Beside the files, so that the final rename stays on one file system (atomic).
        partial = self.root / f"{_PARTIAL_PREFIX}{secrets.token_hex(8)}"
        try:
            with partial.open("xb") as handle:
                yield handle
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        path = self.local_path(name)
        if path is None:
            raise FileNotFoundError(name)
        with path.open("rb") as handle:
            yield handle

    def iter_range(self, name: str, start: int, stop: int) -> Iterator[bytes]:
        with self.open(name) as handle:
            handle.seek(start)
            left = stop - start
            while left > 0 and (chunk := handle.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk

    def size(self, name: str) -> int | None:
        path = self.local_path(name)
        return path.stat().st_size if path is not None else None

    def delete(self, name: str) -> None:
        path = self._path(name)
        path.unlink(missing_ok=True)
        # A folder the last file left (an HLS rendition's) goes too, up to MEDIA_DIR itself.
        for folder in path.parents:
            if folder == self.root or self.root not in folder.parents:
                break
            try:
                folder.rmdir()
            except OSError:
                break

    def list(self, prefix: str = "") -> list[str]:
        folder = self.root.joinpath(*check_prefix(prefix).rpartition("/")[0].split("/"))
        if not folder.is_dir() or folder.is_symlink():
            return []
        names = []
        for path in folder.rglob("*"):
            name = path.relative_to(self.root).as_posix()
            visible = not any(part.startswith(".") for part in name.split("/"))
            if visible and name.startswith(prefix) and path.is_file() and not path.is_symlink():
                names.append(name)
        return sorted(names)

    def fetch_to(self, name: str, path: Path) -> Path:
        source = self.local_path(name)
        if source is None:
            raise FileNotFoundError(name)
        shutil.copyfile(source, path)
        return path

    def local_path(self, name: str) -> Path | None:
        """The file called `name` inside the folder, or None: also for a name that is no
        storable name, and for a symbolic link (even one to another file inside the folder,
        which would be served with the link's type and rules)."""
        try:
            path = self._path(name)
        except ValueError:
            return None
        root = self.root.resolve()
        if path.resolve() != root.joinpath(*name.split("/")) or not path.is_file():
            return None
        return path


class S3Storage(MediaStorage):
    """Objects in a bucket of S3-compatible storage, under an optional key prefix."""

    def __init__(self, client: "S3Client", *, bucket: str, prefix: str = "", url_seconds: int):
        self.client = client
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.url_seconds = url_seconds

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, name: str) -> str:
        return self.prefix + check_name(name)

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[BinaryIO]:
        key = self._key(name)
        # Written to a local temporary file first: the upload starts only when the whole file
        # is there, so a refused upload (too large, not a video) never reaches the bucket.
        with tempfile.TemporaryFile(prefix="kern-media-") as handle:
            yield handle
            handle.flush()
            handle.seek(0)
            self.client.upload_fileobj(
                handle, self.bucket, key, ExtraArgs={"ContentType": content_type(name)}
            )

    def put_bytes(self, name: str, data: bytes) -> None:
        key = self._key(name)
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType=content_type(name)
        )

    def put_path(self, name: str, path: Path) -> None:
        key = self._key(name)
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": content_type(name)}
        )

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[IO[bytes]]:
        body = self._get(name)
        try:
            yield body
        finally:
            body.close()

    def iter_range(self, name: str, start: int, stop: int) -> Iterator[bytes]:
        if stop <= start:
            return
        body = self._get(name, f"bytes={start}-{stop - 1}")
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def _get(self, name: str, byte_range: str | None = None) -> Any:
        key = self._key(name)
        try:
            if byte_range is None:
                found = self.client.get_object(Bucket=self.bucket, Key=key)
            else:
                found = self.client.get_object(Bucket=self.bucket, Key=key, Range=byte_range)
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(name) from None
        return found["Body"]

    def size(self, name: str) -> int | None:
        from botocore.exceptions import ClientError  # noqa: PLC0415 (loaded with boto3)

        key = self._key(name)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head["ContentLength"]

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def list(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + check_prefix(prefix)
        )
        keys = [found["Key"] for page in pages for found in page.get("Contents", [])]
        return sorted(key.removeprefix(self.prefix) for key in keys)

    def delete_prefix(self, prefix: str) -> int:
        names = self.list(prefix)
        for at in range(0, len(names), _DELETE_BATCH):
            batch = [{"Key": self.prefix + name} for name in names[at : at + _DELETE_BATCH]]
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},  # type: ignore[typeddict-item]
            )
        return len(names)

    def fetch_to(self, name: str, path: Path) -> Path:
        if self.size(name) is None:
            raise FileNotFoundError(name)
        self.client.download_file(self.bucket, self._key(name), str(path))
        return path

    def presigned_url(self, name: str, seconds: int | None = None) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(name)},
            ExpiresIn=seconds or self.url_seconds,
        )


@dataclass(frozen=True)
class _S3Config:
    endpoint_url: str
    bucket: str
    region: str
    access_key: str
    # Kept out of repr(), so that no log line or error message shows it.
    secret_key: str = ""

    def __repr__(self) -> str:
        return f"_S3Config(endpoint_url={self.endpoint_url!r}, bucket={self.bucket!r})"


_client_lock = threading.Lock()


@lru_cache(maxsize=4)
def _s3_client(config: _S3Config) -> "S3Client":
    """One client per configuration and process: clients are thread-safe, and making one
    takes a tenth of a second."""
    # boto3 (about 20 MiB) is loaded only where S3 is used, not in every web worker.
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    with _client_lock:  # a boto3 session is not thread-safe; the client it makes is
        session = boto3.session.Session()
        return session.client(
            "s3",
            endpoint_url=config.endpoint_url or None,
            region_name=config.region or None,
            aws_access_key_id=config.access_key or None,
            aws_secret_access_key=config.secret_key or None,
            config=Config(
                # Most S3-compatible servers expect bucket names in the path, not the host.
                s3={"addressing_style": "path"},
                # Checksums only where S3 requires them: not every compatible server knows
                # the newer checksum headers that boto3 sends by default.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )


def storage_for(settings: Settings) -> MediaStorage:
    """The storage the settings choose (MEDIA_STORAGE)."""
    if settings.media_storage == "local":
        return LocalStorage(settings.media_dir)
    if not settings.media_s3_bucket:
        raise SettingsError("MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET.")
    secret = settings.media_s3_secret_key
    config = _S3Config(
        endpoint_url=settings.media_s3_endpoint_url,
        bucket=settings.media_s3_bucket,
        region=settings.media_s3_region,
        access_key=settings.media_s3_access_key,
        secret_key=secret.get_secret_value() if secret else "",
    )
    return S3Storage(
        _s3_client(config),
        bucket=settings.media_s3_bucket,
        prefix=settings.media_s3_prefix,
        url_seconds=settings.media_s3_url_seconds,
    )
