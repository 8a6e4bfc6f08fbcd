"""Images: the content decides what an upload is; it is stored re-encoded, without metadata."""

import io
import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from api.i18n import gettext as _
from api.media.files import MB, UploadRefused

# Pillow (about 2.5 MiB in every process) is imported when an instructor uploads a cover, not
# when a web worker starts: most workers never see an upload.
if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger("kern.media")

MAX_BYTES = 5 * MB
# Covers are shown at most a page wide; 1600 px is sharp on a retina laptop and keeps files small.
MAX_SIDE = 1600
# Checked from the header, before any pixel is decoded: a small file can claim a huge canvas
# (a "decompression bomb") whose decoding would take gigabytes. 40 megapixels is more than a
# phone photo at full size.
MAX_PIXELS = 40_000_000
# Pillow's format name → the extension the stored file gets.
FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
QUALITY = 85


@dataclass(frozen=True)
class Encoded:
    """An image ready to store: its bytes and the extension of its format."""

    data: bytes
    extension: str
    width: int
    height: int


def not_an_image() -> UploadRefused:
    return UploadRefused(
        _(
            "This file is not a JPEG, PNG or WebP image, or it is damaged. "
            "Choose a photo in one of these formats."
        )
    )


def too_many_pixels() -> UploadRefused:
    return UploadRefused(
        _(
            "This image has too many pixels (at most %(mp)s megapixels). "
            "Make it smaller and try again.",
            mp=MAX_PIXELS // 1_000_000,
        )
    )


def reencode(data: bytes) -> Encoded:
    """The image in `data`, turned upright, at most MAX_SIDE pixels, without metadata."""
    from PIL import Image  # noqa: PLC0415 (see the note at the top)

    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice that; here both are refusals.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            kind = _check(data)
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                return _encode(image, kind)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many_pixels() from None
        except UploadRefused:
            raise
        except Exception as exc:
            # Pillow's decoders signal a damaged file with many kinds of errors (OSError,
            # SyntaxError, ValueError, struct.error …); to the instructor they all mean the same.
            log.info("image refused: %s", exc)
            raise not_an_image() from None


def _check(data: bytes) -> str:
    """The image's format after a full structural check, before anything is decoded."""
    from PIL import Image  # noqa: PLC0415

    with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
        if probe.format not in FORMATS:
            raise not_an_image()
        if probe.width * probe.height > MAX_PIXELS:
            raise too_many_pixels()
        probe.verify()
        return probe.format


def _encode(image: "Image.Image", kind: str) -> Encoded:
    from PIL import Image, ImageOps  # noqa: PLC0415

    if kind == "JPEG":
        # Decode JPEGs at the smallest scale that still covers MAX_SIDE: far less memory.
        image.draft("RGB", (MAX_SIDE, MAX_SIDE))
    upright = ImageOps.exif_transpose(image)
    upright = _to_srgb(upright)
    upright.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Nothing of the original's metadata is written: EXIF (camera, place, time), XMP, text
    # chunks, colour profile. The pixels were turned upright and converted to sRGB above.
    upright.info = {}
    out = io.BytesIO()
    if kind == "JPEG":
        upright.save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    elif kind == "PNG":
        upright.save(out, "PNG", optimize=True)
    else:
        upright.save(out, "WEBP", quality=QUALITY, method=4)
    return Encoded(out.getvalue(), FORMATS[kind], upright.width, upright.height)


def _to_srgb(image: "Image.Image") -> "Image.Image":
    """Pixels in plain sRGB (RGB, or RGBA when the image has transparency)."""
    from PIL import ImageCms  # noqa: PLC0415

    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    mode = "RGBA" if transparent else "RGB"
    icc = image.info.get("icc_profile")
    converted = image.convert(mode)
    if not icc:
        return converted
    try:
        # Phones take photos in wide-gamut colour (e.g. Display P3); without its profile such
        # a photo would look dull, so the colours are converted rather than the profile kept.
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        result = ImageCms.profileToProfile(converted, source, target, outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return converted  # an unusable profile: keep the pixels as they are
    return result if result is not None else converted
