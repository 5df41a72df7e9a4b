"""What an upload must be before anything of it is kept: at most MAX_BYTES, a JPEG, PNG, WebP
or PDF by its first bytes, and the same by its name's extension and its declared type; an
image must decode whole within MAX_PIXELS (a decompression bomb is refused, not decoded).
Plain functions over bytes; every refusal is Invalid naming the field `file`."""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import Invalid

MAX_BYTES = 20 * 1024 * 1024
# 50 megapixels: more than any phone camera takes, far less than a bomb expands to.
MAX_PIXELS = 50_000_000
MAX_NAME = 200
THUMBNAIL_SIDE = 320
FIELD = "file"

# content type -> (kind, the extensions its name may have, Pillow's name for the format)
TYPES = {
    "image/jpeg": ("image", (".jpg", ".jpeg"), "JPEG"),
    "image/png": ("image", (".png",), "PNG"),
    "image/webp": ("image", (".webp",), "WEBP"),
    "application/pdf": ("pdf", (".pdf",), None),
}
# What browsers and phones also call these types.
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
# Declared types that say nothing of the content.
_UNDECLARED = {"", "application/octet-stream"}


@dataclass(frozen=True)
class Checked:
    """An upload that passed: what it is, and the thumbnail to keep next to it (images)."""

    kind: str
    content_type: str
    file_name: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    thumbnail: bytes | None = field(repr=False)  # WebP
    data: bytes = field(repr=False)


def check_upload(data: bytes, file_name: str, declared_type: str | None) -> Checked:
    name = clean_file_name(file_name)
    if not data:
        raise Invalid.field(FIELD, "The file is empty.")
    if len(data) > MAX_BYTES:
        raise Invalid.field(FIELD, "The file is over 20 MB.")
    content_type = sniff(data)
    if content_type is None:
        raise Invalid.field(FIELD, "Only photos (JPEG, PNG, WebP) and PDF files can be attached.")
    kind, extensions, image_format = TYPES[content_type]
    if not name.lower().endswith(extensions):
        raise Invalid.field(FIELD, "The file's name does not match what it contains.")
    declared = _declared(declared_type)
    if declared not in _UNDECLARED and declared != content_type:
        raise Invalid.field(FIELD, "The file's type does not match what it contains.")
    width = height = thumbnail = None
    if kind == "image":
        width, height, thumbnail = _decoded(data, image_format)
    elif not _whole_pdf(data):
        raise Invalid.field(FIELD, "The PDF file is incomplete.")
    return Checked(
        kind,
        content_type,
        name,
        len(data),
        hashlib.sha256(data).hexdigest(),
        width,
        height,
        thumbnail,
        data,
    )


def sniff(data: bytes) -> str | None:
    """The content type the first bytes say, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def clean_file_name(file_name: str | None) -> str:
    """The name as it is kept and shown: one line of printable characters (no direction
    overrides, no control or unassigned code points, no path), at most MAX_NAME characters
    with its extension kept."""
    name = unicodedata.normalize("NFC", file_name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char)[0] != "C"
    )
    name = " ".join(name.split()).strip(". ")
    if not name:
        raise Invalid.field(FIELD, "The file has no name.")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME]
    return name


def _declared(declared_type: str | None) -> str:
    declared = (declared_type or "").split(";")[0].strip().lower()
    return _ALIASES.get(declared, declared)


def _whole_pdf(data: bytes) -> bool:
    # Not rendered, only stored and downloaded: a start and an end are enough.
    return b"%%EOF" in data[-1024:]


def _decoded(data: bytes, image_format: str) -> tuple[int, int, bytes]:
    """Width, height and a thumbnail of an image that decodes whole. Pillow's own bomb
    check is a warning up to twice its limit: turned into an error here, and the limit is
    checked before a pixel is decoded."""
    refusal = Invalid.field(FIELD, "The photo cannot be read: it is damaged or not a photo.")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                _within_limit(image.size)
                image.verify()
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                _within_limit(image.size)
                image.load()
                return image.width, image.height, _thumbnail(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise refusal from error


def _within_limit(size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise _too_many_pixels()


def _too_many_pixels() -> Invalid:
    return Invalid.field(FIELD, "The photo has too many pixels (at most 50 megapixels).")


def _thumbnail(image: Image.Image) -> bytes:
    # Phones store a photo as the sensor saw it and say how to turn it.
    small = ImageOps.exif_transpose(image).convert("RGBA" if _has_alpha(image) else "RGB")
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
