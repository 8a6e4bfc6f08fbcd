"""Where a video's adaptive stream is read from and written to: the one place that knows.

The worker converts a video on temporary local folders only. It gets the uploaded original as a
local file through `original_to_local`, hands the folder it filled to `store_output`, and the
/media/hls route finds a file again through `output_file`. These few functions are all that
touches stored media for streaming; today they use the local media folder (MEDIA_DIR), where
the stream of a video lives in `hls/<prefix>/`:

    master.m3u8            the master playlist, naming one playlist per rendition
    360p.m3u8, 540p.m3u8   a rendition's playlist (its height, `p`)
    360p_000.ts, …         its segments (MPEG-TS, about four seconds each)
    poster.jpg             a frame to show before it plays
"""

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from api.media import files

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
def original_to_local(media_dir: Path, name: str) -> Iterator[Path]:
    """The uploaded original `name` as a local file for ffmpeg to read, for as long as the
    block runs; FileNotFoundError when it is not stored (any more)."""
    path = media_dir / name
    if not files.is_safe_name(name) or not path.is_file():
        raise FileNotFoundError(name)
    yield path


def store_output(media_dir: Path, prefix: str, folder: Path) -> None:
    """Store every file of the local `folder` in the stream `prefix`, replacing files of the same
    name. Segments go first and the master playlist last, so a playlist never names a segment
    that is not stored yet."""
    target = _folder(media_dir, prefix)
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.iterdir(), key=_store_order):
        if not path.is_file() or OUTPUT_NAME.match(path.name) is None:
            continue
        partial = target / f".{path.name}.partial"
        shutil.copyfile(path, partial)
        os.replace(partial, target / path.name)


def remove_output(media_dir: Path, prefix: str) -> None:
    """Delete the stream `prefix` and everything in it (nothing happens when there is none)."""
    if PREFIX.match(prefix):
        shutil.rmtree(_folder(media_dir, prefix), ignore_errors=True)


def output_file(media_dir: Path, prefix: str, name: str) -> Path | None:
    """The stored file `name` of the stream `prefix`, or None; both are checked before any
    file system access, so a crafted address never reaches outside the stream's folder."""
    if PREFIX.match(prefix) is None or OUTPUT_NAME.match(name) is None:
        return None
    path = _folder(media_dir, prefix) / name
    return path if path.is_file() else None


def output_url(prefix: str, name: str) -> str:
    """The address a page uses for one file of a stream (served after the access check)."""
    return f"/media/{FOLDER}/{prefix}/{name}"


def _folder(media_dir: Path, prefix: str) -> Path:
    return media_dir / FOLDER / prefix


def _store_order(path: Path) -> tuple[int, str]:
    if path.name == MASTER:
        return (2, path.name)
    return (1 if path.suffix == ".m3u8" else 0, path.name)
