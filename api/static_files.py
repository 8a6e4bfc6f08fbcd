"""Static files, with CSS, JavaScript and SVG gzipped once per process and kept.

Compressing them for each request (Starlette's GZipMiddleware in front of StaticFiles) cost each
worker some 1.5 MiB of memory for good after a few requests for the lesson page's files (hls.js
alone is 389 KB, gzipped at zlib's best each time) and tens of milliseconds of CPU per request.
Now each such file is gzipped once, in the zygote before the fork (`pack_all`, from
`api.server.warm`), so the workers share the copies; a process without a zygote packs a file at
its first request. Anything else goes to StaticFiles as before: another file, a browser that
does not take gzip, a byte range. While developing nothing is kept, so an edited file shows at
once (docs/performance.md#static-files-compressed-once).

Written here rather than taken from a library: the static file servers of the Python world that
serve compressed copies (WhiteNoise, ServeStatic) read them from `.gz` files made beside the
originals at build time and from the disk at each request, which is what is avoided here; this
is the few lines that keep the copies in memory in front of Starlette's own StaticFiles.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.compression import accepts_gzip

# What compresses well; pictures are compressed already.
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".json", ".webmanifest", ".txt", ".md"})
# An address with its content hash (`?v=`, web.templating.static_url) never changes its content.
IMMUTABLE = "public, max-age=31536000, immutable"


class VersionedStaticFiles(StaticFiles):
    """Static files; an address with the content hash (`?v=`, from `static_url`) never changes
    its content, so browsers keep it a year without asking again."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200 and _versioned(scope):
            response.headers["cache-control"] = IMMUTABLE
        return response


def _versioned(scope: Scope) -> bool:
    """Whether the address carries the file's content hash (`?v=`)."""
    return b"v=" in scope.get("query_string", b"")


@dataclass(frozen=True)
class _Packed:
    """A file's gzipped copy and the headers it is sent with."""

    body: bytes
    headers: dict[str, str]
    etag: str


class CompressedStatic:
    """`files` (static files over `directory`), with each compressible file that a browser may
    take gzipped answered from a copy gzipped once and kept (`keep`; not while developing)."""

    def __init__(self, files: ASGIApp, directory: Path, *, keep: bool) -> None:
        self.files = files
        self.directory = directory
        self.keep = keep
        # Relative path -> file, for every compressible file there is: nothing else is served
        # from here, so no path a visitor makes up can reach another file.
        self._paths: dict[str, Path] | None = None
        self._packed: dict[str, _Packed] = {}

    def pack_all(self) -> None:
        """Gzip every compressible file now (the zygote, before the fork)."""
        if self.keep:
            for relative in self._compressible():
                self._pack(relative)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kept = self.keep and scope["type"] == "http" and scope["method"] in ("GET", "HEAD")
        request = Headers(scope=scope) if kept else None
        packed = self._packed_for(scope, request) if request is not None else None
        if request is None or packed is None:
            await self.files(scope, receive, send)
            return
        headers = dict(packed.headers)
        if _versioned(scope):
            headers["cache-control"] = IMMUTABLE
        if packed.etag in _etags(request.get("if-none-match", "")):
            del headers["content-length"], headers["content-encoding"]
            await Response(status_code=304, headers=headers)(scope, receive, send)
            return
        body = b"" if scope["method"] == "HEAD" else packed.body
        await Response(body, headers=headers)(scope, receive, send)

    def _packed_for(self, scope: Scope, request: Headers) -> _Packed | None:
        """The kept copy for this request, made now if it is the file's first; None when the
        file is not one to keep or the request wants it otherwise."""
        if "range" in request or not accepts_gzip(request.get("accept-encoding", "")):
            return None
        # The path below the mount, as StaticFiles takes it (Starlette keeps the whole path in
        # `path` and the mount's prefix in `root_path`).
        path, mount = str(scope["path"]), str(scope.get("root_path", ""))
        relative = path.removeprefix(mount).removeprefix("/")
        packed = self._packed.get(relative)
        if packed is None and relative in self._compressible():
            packed = self._pack(relative)
        return packed

    def _compressible(self) -> dict[str, Path]:
        if self._paths is None:
            self._paths = {
                path.relative_to(self.directory).as_posix(): path
                for path in sorted(self.directory.rglob("*"))
                if path.is_file() and path.suffix in COMPRESSIBLE
            }
        return self._paths

    def _pack(self, relative: str) -> _Packed:
        path = self._compressible()[relative]
        # StaticFiles' own headers for the file (type, last-modified, its ETag), for the copy.
        original = FileResponse(path, stat_result=path.stat())
        body = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        etag = original.headers["etag"].removesuffix('"') + '-gzip"'
        headers = {
            "content-type": original.headers["content-type"],
            "last-modified": original.headers["last-modified"],
            "etag": etag,
            "content-encoding": "gzip",
            "vary": "Accept-Encoding",
            "content-length": str(len(body)),
        }
        packed = self._packed[relative] = _Packed(body, headers, etag)
        return packed


def _etags(header: str) -> set[str]:
    """The entity tags an If-None-Match header lists, without a weak tag's `W/`: RFC 9110 has
    If-None-Match compare them weakly."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
