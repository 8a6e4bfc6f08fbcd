"""Where a video's adaptive stream is read from and written to: the one place that knows.

The worker converts a video on temporary local folders only. It gets the uploaded original as a
local file through `original_to_local`, hands the folder it filled to `store_output`, and the
/media/hls route finds a file again through `output_file`. These few functions are all that
touches stored media for streaming, through the media storage (api/media/storage.py: the local
folder or object storage), where the stream of a video lives under `hls/<prefix>/`:

    master.m3u8            the master playlist, naming one playlist per rendition
    360p.m3u8, 540p.m3u8   a rendition's playlist (its height, `p`)
    360p_000.ts, …         its segments (MPEG-TS, about four seconds each)
    poster.jpg             a frame to show before it plays
"""

import contextlib
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from api.media import files
from api.media.storage import MediaStorage

FOLDER = "hls"
MASTER = "master.m3u8"
POSTER = "poster.jpg"
PREFIX = re.compile(r"^[a-f0-9]{32}$")
# The only names a stream folder holds; anything else is not served.
OUTPUT_NAME = re.compile(
    r"^(?:master|[0-9]{3,4}p)\.m3u8$|^[0-9]{3,4}p_[0-9]{3,5}\.ts$|^poster\.jpg$"
)
MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".jpg": "image/jpeg",
}


@contextlib.contextmanager
def original_to_local(storage: MediaStorage, name: str) -> Iterator[Path]:
    """The uploaded original `name` as a local file for ffmpeg to read, for as long as the
    block runs (the file itself in the local folder, a temporary copy from object storage);
    FileNotFoundError when it is not stored (any more)."""
    if not files.is_safe_name(name) or not storage.exists(name):
        raise FileNotFoundError(name)
    path = storage.local_path(name)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="kern-original-") as folder:
        yield storage.fetch_to(name, Path(folder) / name)


def store_output(storage: MediaStorage, prefix: str, folder: Path) -> None:
    """Store every file of the local `folder` in the stream `prefix`, replacing files of the same
    name. Segments go first and the master playlist last, so a playlist never names a segment
    that is not stored yet (each file appears whole: MediaStorage.put_path)."""
    for path in sorted(folder.iterdir(), key=_store_order):
        if not path.is_file() or OUTPUT_NAME.match(path.name) is None:
            continue
        storage.put_path(_name(prefix, path.name), path)


def remove_output(storage: MediaStorage, prefix: str) -> None:
    """Delete the stream `prefix` and everything in it (nothing happens when there is none)."""
    if PREFIX.match(prefix):
        storage.delete_prefix(f"{FOLDER}/{prefix}/")


def output_name(prefix: str, name: str) -> str | None:
    """The stored name of the file `name` of the stream `prefix`, or None for a name a stream
    never holds; both are checked before any storage access, so a crafted address never
    reaches outside the stream's folder."""
    if PREFIX.match(prefix) is None or OUTPUT_NAME.match(name) is None:
        return None
    return _name(prefix, name)


def output_url(prefix: str, name: str) -> str:
    """The address a page uses for one file of a stream (served after the access check)."""
    return f"/media/{FOLDER}/{prefix}/{name}"


def _name(prefix: str, name: str) -> str:
    return f"{FOLDER}/{prefix}/{name}"


def _store_order(path: Path) -> tuple[int, str]:
    if path.name == MASTER:
        return (2, path.name)
    return (1 if path.suffix == ".m3u8" else 0, path.name)
