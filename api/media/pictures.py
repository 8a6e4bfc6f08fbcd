"""A step's picture of the position: a photo, a drawing (SVG) or a short silent loop.

- A photo (JPEG, PNG, WebP) is checked and re-encoded as a cover is (api/media/images.py).
- A drawing (SVG) is kept byte for byte, but only when every element and attribute in it is on
  a short list of plain shapes and paint (see `svg_problem`): no script, no style sheets, no
  links, no embedded files, no DTD or entities. It is shown with `<img>`, where a browser runs
  nothing in an SVG anyway, and served with a policy of its own (web/pages/media.py), so that
  even opened on its own it can load and run nothing.
- A loop (MP4 or WebM) is at most ten seconds of video; ffprobe reads what it holds and ffmpeg
  copies the video stream alone into a new file, so any sound and metadata stay behind (the
  pictures are not re-encoded, so the copy is exact).
"""

import json
import logging
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import Element, ProcessingInstruction, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import XMLParser

from api.i18n import gettext as _
from api.media import files, images, videos
from api.media.files import MB, UploadRefused
from api.media.storage import MediaStorage

log = logging.getLogger("kern.media")

MAX_LOOP_SECONDS = 10
# A little over ten seconds: containers round their duration up to the last frame's end.
_LOOP_SLACK = 0.5
MAX_LOOP_BYTES = 30 * MB
MAX_SVG_BYTES = 256 * 1024
# The largest upload the step editor takes, whatever kind of picture it is.
MAX_BYTES = max(MAX_LOOP_BYTES, images.MAX_BYTES, MAX_SVG_BYTES)
# Codecs every current browser plays in these containers.
_CODECS = {"mp4": {"h264", "av1"}, "webm": {"vp8", "vp9", "av1"}}
_TIMEOUT_SECONDS = 60

_SVG = "{http://www.w3.org/2000/svg}"
_XML = "{http://www.w3.org/XML/1998/namespace}"
# Shapes, groups, paint and text: what a drawing of a position needs, and nothing that links,
# embeds, animates or runs.
_ELEMENTS = frozenset(
    {"svg", "g", "path", "circle", "ellipse", "line", "polyline", "polygon", "rect"}
    | {"title", "desc", "defs", "linearGradient", "radialGradient", "stop", "text", "tspan"}
)
_ATTRIBUTES = frozenset(
    {"id", "viewBox", "width", "height", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r"}
    | {"rx", "ry", "d", "points", "transform", "fill", "fill-opacity", "fill-rule", "stroke"}
    | {"stroke-width", "stroke-linecap", "stroke-linejoin", "stroke-dasharray", "stroke-opacity"}
    | {"opacity", "offset", "stop-color", "stop-opacity", "gradientUnits", "gradientTransform"}
    | {"font-family", "font-size", "font-weight", "text-anchor", "role", "aria-label", "version"}
    | {"preserveAspectRatio", "aria-hidden", "focusable", "lang", f"{_XML}lang", f"{_XML}space"}
)
# A value may point only inside the drawing (a gradient: `url(#sky)`), never elsewhere.
_URL = re.compile(r"url\s*\(", re.IGNORECASE)
_LOCAL_URL = re.compile(r"^url\(#[A-Za-z][A-Za-z0-9_-]*\)$")
_SVG_START = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<svg[\s>]", re.DOTALL)


def not_a_picture() -> UploadRefused:
    return UploadRefused(
        _(
            "This file is not a picture (JPEG, PNG, WebP or SVG) or a short video (MP4 or "
            "WebM). Choose a file in one of these formats."
        )
    )


def looks_like_svg(head: bytes) -> bool:
    """Whether a file's first bytes open an SVG drawing."""
    return _SVG_START.match(head.removeprefix(b"\xef\xbb\xbf")) is not None


def svg_problem(data: bytes) -> str | None:
    """What in the drawing is not allowed, in a few words; None when it may be shown."""
    root = _parse_svg(data)
    if isinstance(root, str):
        return root
    if root.tag != f"{_SVG}svg" or "viewBox" not in root.attrib:
        return _("the drawing must be an <svg> element with a viewBox")
    for element in root.iter():
        problem = _element_problem(element)
        if problem:
            return problem
    return None


def _element_problem(element: Element) -> str | None:
    if element.tag is ProcessingInstruction:  # type: ignore[comparison-overlap]
        # E.g. <?xml-stylesheet?>, which a browser follows when the file is opened alone.
        return _("processing instructions are not allowed")
    if not isinstance(element.tag, str):
        return None  # a comment
    name = element.tag.removeprefix(_SVG)
    if name == element.tag or name not in _ELEMENTS:
        return _("the element <%(name)s> is not allowed", name=_local(element.tag))
    for attribute, value in element.attrib.items():
        if attribute not in _ATTRIBUTES:
            return _("the attribute %(name)s is not allowed", name=_local(attribute))
        if _URL.search(value) and not _LOCAL_URL.match(value.strip()):
            return _("%(name)s may only point inside the drawing", name=_local(attribute))
    return None


def _parse_svg(data: bytes) -> Element | str:
    """The drawing's tree with its comments and processing instructions, or what is wrong."""
    parser = XMLParser(
        target=TreeBuilder(insert_comments=True, insert_pis=True),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(data)
        root: Element = parser.close()
    except DefusedXmlException:
        return _("a DTD or entities are not allowed")
    except Exception as exc:  # expat's ParseError, or a file that is not text at all
        log.info("svg refused: %s", exc)
        return _("it is not well-formed XML")
    return root


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def check_svg(data: bytes) -> bytes:
    """The drawing as it is, or UploadRefused saying what is not allowed in it."""
    if len(data) > MAX_SVG_BYTES:
        raise files.too_large(MAX_SVG_BYTES)
    problem = svg_problem(data)
    if problem:
        raise UploadRefused(_("This drawing (SVG) cannot be shown: %(problem)s.", problem=problem))
    return data


def store(source: BinaryIO, *, storage: MediaStorage) -> str:
    """Check an uploaded picture or loop and store it; its new name."""
    head = source.read(files.CHUNK)
    source.seek(0)
    if not head:
        raise UploadRefused(_("Choose a picture or a short video to upload first."))
    if _is_video(head):
        with tempfile.TemporaryDirectory(prefix="kern-loop-") as work:
            original = Path(work) / "original"
            with original.open("wb") as handle:
                _copy_limited(source, handle, MAX_LOOP_BYTES)
            data, extension = checked_file(original)
    elif looks_like_svg(head):
        data, extension = check_svg(files.read_limited(source, MAX_SVG_BYTES)), "svg"
    else:
        try:
            encoded = images.reencode(files.read_limited(source, images.MAX_BYTES))
        except UploadRefused as refused:
            if refused.status_code == files.TooLarge.status_code:
                raise
            raise not_a_picture() from None
        data, extension = encoded.data, encoded.extension
    name = files.new_name(extension)
    storage.put_bytes(name, data)
    return name


def checked_file(path: Path) -> tuple[bytes, str]:
    """A picture or loop read from a file (a package brings them so): the bytes to store and
    their extension, or UploadRefused."""
    with path.open("rb") as handle:
        head = handle.read(files.CHUNK)
        handle.seek(0)
        if _is_video(head):
            if path.stat().st_size > MAX_LOOP_BYTES:
                raise files.too_large(MAX_LOOP_BYTES)
            extension = videos.format_of(head[:64])
            return _silent_copy(path, extension), extension
        if looks_like_svg(head):
            return check_svg(files.read_limited(handle, MAX_SVG_BYTES)), "svg"
        encoded = images.reencode(files.read_limited(handle, images.MAX_BYTES))
        return encoded.data, encoded.extension


def _is_video(head: bytes) -> bool:
    try:
        videos.format_of(head[:64])
    except UploadRefused:
        return False
    return True


def _copy_limited(source: BinaryIO, target: BinaryIO, limit: int) -> None:
    size = 0
    while chunk := source.read(files.CHUNK):
        size += len(chunk)
        if size > limit:
            raise files.too_large(limit)
        target.write(chunk)


def _tool(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
    )
    if found is None:
        raise UploadRefused(
            _(
                "Short videos cannot be checked on this server (ffmpeg is not installed). "
                "Upload a picture instead."
            )
        )
    return found


def _silent_copy(path: Path, extension: str) -> bytes:
    """The loop's video stream alone, copied into a new file; UploadRefused if it is not a
    playable video of at most MAX_LOOP_SECONDS."""
    probe = _probe(path)
    streams = [s for s in probe.get("streams", []) if s.get("codec_type") == "video"]
    if not streams or streams[0].get("codec_name") not in _CODECS[extension]:
        raise videos.not_a_video()
    try:
        seconds = float(probe.get("format", {}).get("duration", "inf"))
    except ValueError:
        seconds = float("inf")
    if seconds > MAX_LOOP_SECONDS + _LOOP_SLACK:
        raise UploadRefused(
            _(
                "This video is longer than %(seconds)s seconds. A loop of the position is "
                "short: cut it to at most %(seconds)s seconds.",
                seconds=MAX_LOOP_SECONDS,
            )
        )
    with tempfile.TemporaryDirectory(prefix="kern-loop-") as work:
        target = Path(work) / f"silent.{extension}"
        command = [
            _tool("ffmpeg"),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-c",
            "copy",
            "-an",
            "-sn",
            "-dn",
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
        ]
        if extension == "mp4":
            command += ["-movflags", "+faststart"]
        _run([*command, str(target)])
        return target.read_bytes()


def _probe(path: Path) -> dict[str, Any]:
    output = _run(
        [
            _tool("ffprobe"),
            "-v",
            "error",
            "-of",
            "json",
            "-show_entries",
            "format=duration:stream=codec_type,codec_name",
            str(path),
        ]
    )
    try:
        found = json.loads(output)
    except ValueError:
        raise videos.not_a_video() from None
    return found if isinstance(found, dict) else {}


def _run(command: list[str]) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 (a fixed program; the path is Kern's own temp file)
            command, capture_output=True, timeout=_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise videos.not_a_video() from None
    if done.returncode != 0:
        log.info("loop refused: %s", done.stderr[:500])
        raise videos.not_a_video()
    return done.stdout
